"""`deploysim audit export VERSION` and `deploysim audit import FILE`: a per-release grader audit.

Export draws a seeded, stratified sample of the candidate's graded responses and writes a labelling file;
import reads the labels back, quarantining bad rows, and re-runs the release's rates and gate so the
correction and the policy's audit rule take effect.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path

from orchestration.settings import VAR_DIR, from_environment


def add_commands(commands: argparse._SubParsersAction) -> None:
    audit = commands.add_parser("audit", help="export or import a per-release grader audit")
    verbs = audit.add_subparsers(dest="audit_command", required=True)
    export = verbs.add_parser("export", help="write a labelling file of the candidate's graded responses")
    export.add_argument("version", help="the simulated release whose candidate responses to audit")
    export.add_argument("--per-stratum", type=int, default=25, help="flagged and unflagged per category")
    export.add_argument("--seed", type=int, default=20240409)
    export.add_argument("--categories", help="comma-separated categories (default: every graded one)")
    export.add_argument("--out", type=Path, default=VAR_DIR / "audits", help="folder for the files")
    export.add_argument("--db", help="DuckDB file")
    export.add_argument("--prelabel", action="store_true", help="fill judge labels for a person to confirm")
    export.add_argument("--judge-base-url", help="OpenAI-compatible endpoint of the judge (with --prelabel)")
    export.add_argument("--judge-model", help="the judge's model name")
    export.add_argument("--judge-api-key-env", help="environment variable holding the judge's key")
    imported = verbs.add_parser("import", help="load a labelled file and re-run the release's rates and gate")
    imported.add_argument("file", type=Path, help="the labelled .csv or .jsonl")
    imported.add_argument("--db", help="DuckDB file")
    imported.add_argument("--no-refresh", dest="refresh", action="store_false", help="only store the labels")


def _store(db: str | None):
    from orchestration.resources import SerializedDuckDBResource

    return SerializedDuckDBResource(database=str(db or from_environment().duckdb_path))


def _judges(args: argparse.Namespace, categories: set[str], stack: ExitStack, store) -> dict:
    from deploysim.inference.cache import ResponseCache
    from evaluators.judge import RUBRICS, JudgeRuntime
    from evaluators.registry import load_evaluators
    from orchestration.resources import EvaluatorSuiteResource, ModelGatewayResource

    backend = EvaluatorSuiteResource(
        judge_base_url=args.judge_base_url,
        judge_model=args.judge_model,
        judge_api_key_env=args.judge_api_key_env,
    ).judge_backend()
    if backend is None:
        raise ValueError("--prelabel needs --judge-base-url and --judge-model")
    cache = ResponseCache(stack.enter_context(store.get_connection()), store.journal_dir)
    stack.callback(cache.close)
    runtime = JudgeRuntime(endpoint=ModelGatewayResource().endpoint(backend.address, backend), cache=cache)
    judged = sorted(c for c in categories if c in RUBRICS)
    return dict(zip(judged, load_evaluators([f"judge_{c}" for c in judged], runtime), strict=True))


def export(args: argparse.Namespace) -> int:
    from deploysim.evaluation.audit import draw_audit, prelabel, save_audit, write_labelling_files

    store = _store(args.db)
    categories = [c for c in (args.categories or "").split(",") if c] or None
    try:
        with ExitStack() as stack:
            con = stack.enter_context(store.get_connection())
            audit = draw_audit(
                con, args.version, per_stratum=args.per_stratum, seed=args.seed, categories=categories
            )
            if args.prelabel:
                audit = prelabel(con, audit, _judges(args, set(audit.population), stack, store))
            save_audit(con, audit)
    except ValueError as error:
        print(f"deploysim audit export: {error}", file=sys.stderr)
        return 2
    csv_path, jsonl_path = write_labelling_files(audit, args.out)
    strata = ", ".join(
        f"{category} {sum(1 for i in audit.items if i.category == category)}"
        for category in sorted(audit.population)
    )
    print(
        f"audit {audit.audit_id} of {audit.partition_key}: {len(audit.items)} responses to label ({strata})"
    )
    print(f"label the `human_label` column (true/false) of {csv_path} or {jsonl_path},")
    print(f"then run: deploysim audit import {csv_path}")
    return 0


def import_(args: argparse.Namespace) -> int:
    from deploysim.evaluation.audit_labels import import_labels

    store = _store(args.db)
    try:
        with store.get_connection() as con:
            report = import_labels(con, args.file)
            partitions = [
                row[0]
                for row in con.execute(
                    "SELECT DISTINCT partition_key FROM audit_labels WHERE audit_id IN (SELECT unnest(?))",
                    [(report.audit_id or "").split(",")],
                ).fetchall()
            ]
    except (OSError, ValueError) as error:
        print(f"deploysim audit import: {error}", file=sys.stderr)
        return 2
    print(
        f"{report.rows} rows read: {report.labelled} labelled, {report.unlabelled} left unlabelled, "
        f"{len(report.quarantined)} quarantined"
    )
    for line_no, reason in report.quarantined[:20]:
        print(f"  line {line_no}: {reason}")
    if not report.labelled or not args.refresh:
        return 0
    from orchestration.cli.runs import refresh_gates

    return refresh_gates(partitions)
