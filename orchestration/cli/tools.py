"""The commands that need no Dagster run: print a stored gate, build an archive, score a log, validate the
evaluators."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path

from orchestration.settings import DATA_DIR, from_environment


def print_gate(candidate: str, headline_only: bool = False) -> int:
    """Print the stored gate (or its first line); exit 1 on block."""
    import duckdb

    database = from_environment().duckdb_path
    with duckdb.connect(str(database), read_only=True) as con:
        row = con.execute(
            "SELECT verdict, markdown FROM release_gates WHERE partition_key = ?", [candidate]
        ).fetchone()
    if row is None:
        print(f"no release gate for {candidate!r} in {database}; run `deploysim run` first", file=sys.stderr)
        return 2
    verdict, markdown = row
    print(markdown.splitlines()[0] if headline_only else markdown)
    return 1 if verdict == "block" else 0


def build_archive(recorded: Path, out: Path) -> int:
    import json

    from deploysim.inference.archive import archive_records, write_jsonl_gz
    from deploysim.privacy.deidentifier import Deidentifier

    with recorded.open() as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    records = archive_records(rows, Deidentifier().deidentify_prefixes)
    write_jsonl_gz(out, records)
    print(f"wrote {len(records)} recorded responses to {out}")
    return 0


def score(args: argparse.Namespace) -> int:
    from deploysim.evaluation.score_log import score_log
    from evaluators.registry import EVALUATORS, load_evaluators

    names = [n for n in args.evaluators.split(",") if n]
    unknown = [n for n in names if n not in EVALUATORS]
    if unknown:
        print(f"unknown evaluators {unknown}; known: {', '.join(sorted(EVALUATORS))}", file=sys.stderr)
        return 2
    judged = any(n.startswith("judge_") for n in names)
    if judged and not (args.judge_base_url and args.judge_model):
        print("judge_* evaluators need --judge-base-url and --judge-model", file=sys.stderr)
        return 2
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
        report = score_log(
            Path(args.input), load_evaluators(names, judge), Path(args.output), deidentify=judged
        )
    print(
        f"{report.rows_in} rows read: {report.scored} scored, {report.quarantined} quarantined; "
        f"{report.labels_written} labels written to {report.output}"
    )
    if report.quarantine_file:
        print(f"quarantined rows and reasons: {report.quarantine_file}")
    return 0


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
