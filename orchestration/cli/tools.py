"""The commands that need no Dagster run: print a stored gate, build an archive, score a log, validate the
evaluators."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path

from orchestration.cli.exit_codes import ExitCode
from orchestration.settings import DATA_DIR, from_environment


def print_gate(candidate: str, headline_only: bool = False) -> int:
    """Print the stored gate (or its first line); the exit code says pass/warn, block, or incomplete."""
    import duckdb

    from deploysim.release.policy import Verdict

    database = from_environment().duckdb_path
    if not database.is_file():
        print(f"no database at {database}; run `deploysim run` first or pass --db", file=sys.stderr)
        return ExitCode.USAGE
    try:
        with duckdb.connect(str(database), read_only=True) as con:
            row = con.execute(
                "SELECT verdict, markdown FROM release_gates WHERE partition_key = ?", [candidate]
            ).fetchone()
    except duckdb.CatalogException:
        print(f"{database} holds no release gates; run `deploysim run` first", file=sys.stderr)
        return ExitCode.USAGE
    except duckdb.IOException as error:
        reason = str(error).splitlines()[0]
        print(f"cannot open {database} ({reason}); wait for the run using it to finish", file=sys.stderr)
        return ExitCode.USAGE
    if row is None:
        print(f"no release gate for {candidate!r} in {database}; run `deploysim run` first", file=sys.stderr)
        return ExitCode.USAGE
    verdict, markdown = row
    print(markdown.splitlines()[0] if headline_only else markdown)
    return {Verdict.BLOCK: ExitCode.BLOCKED, Verdict.ERROR: ExitCode.INCOMPLETE}.get(
        Verdict(verdict), ExitCode.OK
    )


def build_archive(recorded: list[Path], out: Path) -> int:
    """Key recorded responses by de-identified prefix; bad lines are left out with their file, line and
    reason (`OUT.quarantine.jsonl`). Exit 2 on bad arguments, unreadable files or no usable line."""
    from deploysim.inference.archive import archive_records, read_recorded, write_jsonl_gz, write_problems

    if not out.name.lower().endswith(".jsonl.gz"):
        print(f"--out must end in .jsonl.gz (the archive is gzipped JSON Lines): {out}", file=sys.stderr)
        return ExitCode.USAGE
    for path in recorded:
        if not path.is_file():
            print(f"recorded responses not found: {path}", file=sys.stderr)
            return ExitCode.USAGE
        if out.resolve() == path.resolve():
            print(f"--out {out} is one of the inputs; write the archive to another file", file=sys.stderr)
            return ExitCode.USAGE
    read = read_recorded(recorded)
    problems_path = out.with_name(out.name + ".quarantine.jsonl")
    if read.problems:
        write_problems(problems_path, read.problems)
        for problem in read.problems[:5]:
            print(f"{problem.source}:{problem.line_no}: {problem.reason}", file=sys.stderr)
        more = f" ({len(read.problems) - 5} more)" if len(read.problems) > 5 else ""
        print(
            f"left out {len(read.problems)} bad lines{more}; every one with its line and reason: "
            f"{problems_path}",
            file=sys.stderr,
        )
    else:
        problems_path.unlink(missing_ok=True)
    if not read.rows:
        print(
            f"no usable recorded responses in {', '.join(map(str, recorded))}; nothing written",
            file=sys.stderr,
        )
        return ExitCode.USAGE
    from deploysim.privacy.deidentifier import Deidentifier

    records = archive_records(read.rows, Deidentifier().deidentify_prefixes)
    write_jsonl_gz(out, records)
    print(f"wrote {len(records)} recorded responses to {out} ({len(read.problems)} lines left out)")
    return ExitCode.OK


def score(args: argparse.Namespace) -> int:
    """Exit 0 when done (bad rows are quarantined, not fatal); 2 on bad arguments or an input that cannot
    be scored at all, said in one line before anything is written."""
    from deploysim.evaluation.score_log import ScoreInputError, check_paths, score_log
    from evaluators.registry import EVALUATORS, load_evaluators

    names = [n for n in args.evaluators.split(",") if n]
    unknown = [n for n in names if n not in EVALUATORS]
    if unknown:
        print(f"unknown evaluators {unknown}; known: {', '.join(sorted(EVALUATORS))}", file=sys.stderr)
        return ExitCode.USAGE
    judged = any(n.startswith("judge_") for n in names)
    if judged and not (args.judge_base_url and args.judge_model):
        print("judge_* evaluators need --judge-base-url and --judge-model", file=sys.stderr)
        return ExitCode.USAGE
    try:
        check_paths(Path(args.input), Path(args.output))
    except ScoreInputError as error:
        print(f"deploysim score: {error}", file=sys.stderr)
        return ExitCode.USAGE
    # Text goes to a judge endpoint only after de-identification, as in the pipeline.
    with ExitStack() as stack:
        judge = None
        if judged:
            from deploysim.inference.cache import ResponseCache
            from evaluators.judge import JudgeRuntime
            from orchestration.resources import (
                EvaluatorSuiteResource,
                ModelGatewayResource,
                SerializedDuckDBResource,
            )

            backend = EvaluatorSuiteResource(
                names=names,
                judge_base_url=args.judge_base_url,
                judge_model=args.judge_model,
                judge_api_key_env=args.judge_api_key_env,
            ).judge_backend()
            assert backend is not None
            store = SerializedDuckDBResource(database=str(args.db or from_environment().duckdb_path))
            cache = ResponseCache(stack.enter_context(store.get_connection()), store.journal_dir)
            stack.callback(cache.close)
            judge = JudgeRuntime(
                endpoint=ModelGatewayResource().endpoint(backend.address, backend), cache=cache
            )
        try:
            report = score_log(
                Path(args.input), load_evaluators(names, judge), Path(args.output), deidentify=judged
            )
        except ScoreInputError as error:
            print(f"deploysim score: {error}", file=sys.stderr)
            return ExitCode.USAGE
    for skipped in report.skipped_files:
        print(f"skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
    if report.duplicates:
        print(
            f"warning: {report.duplicates} rows repeat a conversation_id seen earlier; the first of each "
            "was scored, the repeats quarantined",
            file=sys.stderr,
        )
    print(
        f"{report.rows_in} rows read: {report.scored} scored, {report.quarantined} quarantined; "
        f"{report.labels_written} labels written to {report.output}"
    )
    if report.quarantine_file:
        print(f"quarantined rows and reasons: {report.quarantine_file}")
    return ExitCode.OK


def validate_evaluators(names: str | None) -> int:
    from deploysim.evaluation.validation import unvalidated, validate
    from deploysim.evaluation.validation_report import validation_markdown
    from evaluators.registry import OFFLINE, load_evaluators

    evaluators = load_evaluators([n for n in names.split(",") if n] if names else list(OFFLINE))
    data = DATA_DIR / "validation"
    print("## Evaluators against labelled data (95% Wilson intervals; data/validation/NOTICE.md)\n")
    print(validation_markdown(validate(evaluators, data)))
    missing = unvalidated(evaluators, data)
    if missing:
        print(f"No labelled data here for: {', '.join(missing)}.")
    return 0


def examples(args: argparse.Namespace) -> int:
    """Paired prior/candidate examples of a simulated release, de-identified as stored."""
    import duckdb

    from deploysim.release.examples import paired_examples, render

    database = from_environment().duckdb_path
    if not database.exists():
        print(f"no database at {database}; run `deploysim run` first or pass --db", file=sys.stderr)
        return 2
    with duckdb.connect(str(database), read_only=True) as con:
        found = paired_examples(
            con,
            args.version,
            categories=[args.category] if args.category else None,
            flipped_only=args.flipped,
            limit=args.limit,
        )
    if not found:
        print(f"no paired examples for {args.version!r} in {database}", file=sys.stderr)
        return 2
    print(render(found, args.format), end="")
    return 0
