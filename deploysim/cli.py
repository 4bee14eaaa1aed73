"""deploysim command line: run the simulation, print a gate, serve the bundled local model."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from deploysim.settings import DATA_DIR, PROJECT_ROOT, VAR_DIR, from_environment

_DAGSTER_YAML = """\
# Written by deploysim; replace this file to configure the instance yourself (e.g. Postgres storage).
telemetry:
  enabled: false
concurrency:
  runs:
    # Backfilled versions run several at once; their DuckDB connections take turns (a `.lock` beside
    # the database), so a waiting step sleeps instead of failing on DuckDB's file lock.
    max_concurrent_runs: 5
"""


def _prepare_instance_home() -> Path:
    """A project-local DAGSTER_HOME, so runs and partitions persist and `dagster dev` sees them."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(VAR_DIR / "dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() or config.read_text().startswith("# Written by deploysim"):
        config.write_text(_DAGSTER_YAML)
    return home


def _apply_overrides(args: argparse.Namespace) -> None:
    """Flags become the environment that orchestration.definitions reads, so the UI can use the same."""
    for flag, variable in (
        ("log", "DEPLOYSIM_LOG"),
        ("registry", "DEPLOYSIM_REGISTRY"),
        ("db", "DEPLOYSIM_DUCKDB"),
        ("gate_policy", "DEPLOYSIM_GATE_POLICY"),
    ):
        value = getattr(args, flag, None)
        if value:
            os.environ[variable] = str(Path(value).resolve())


def _print_gate(candidate: str) -> int:
    import duckdb

    from deploysim.settings import from_environment

    database = from_environment().duckdb_path
    with duckdb.connect(str(database), read_only=True) as con:
        row = con.execute(
            "SELECT verdict, markdown FROM release_gates WHERE partition_key = ?", [candidate]
        ).fetchone()
    if row is None:
        print(f"no release gate for {candidate!r} in {database}; run `deploysim run` first", file=sys.stderr)
        return 2
    verdict, markdown = row
    print(markdown)
    return 1 if verdict == "block" else 0


def build_archive(recorded: Path, out: Path) -> int:
    import json

    from deploysim.archive import archive_records, write_jsonl_gz
    from deploysim.deid import Deidentifier

    with recorded.open() as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    records = archive_records(rows, Deidentifier())
    write_jsonl_gz(out, records)
    print(f"wrote {len(records)} recorded responses to {out}")
    return 0


def run(args: argparse.Namespace) -> int:
    _apply_overrides(args)
    home = _prepare_instance_home()
    started = time.monotonic()

    import dagster as dg

    from deploysim.registry import load_registry
    from deploysim.settings import from_environment
    from orchestration.definitions import build_defs
    from orchestration.partitions import model_versions_partitions_def

    settings = from_environment()
    defs = build_defs(settings)
    registry = load_registry(settings.release_registry)
    for rejected in registry.rejected:
        print(
            f"registry entry {rejected.index} ({rejected.version}) skipped: {rejected.reason}",
            file=sys.stderr,
        )
    candidate = args.candidate or (registry.candidates[-1] if registry.candidates else None)
    if candidate is None:
        print(
            "the registry has no candidate (a release with released_at: null); pass --candidate",
            file=sys.stderr,
        )
        return 2
    order = registry.simulated_versions
    if candidate not in order:
        print(f"{candidate!r} is not a simulated release (it needs a prior_version)", file=sys.stderr)
        return 2
    versions = order[: order.index(candidate) + 1] if args.history else [candidate]

    instance = dg.DagsterInstance.get()
    partitions_name = model_versions_partitions_def.name
    known = set(instance.get_dynamic_partitions(partitions_name))
    instance.add_dynamic_partitions(partitions_name, [v for v in order if v not in known])
    print(f"[deploysim] registered {len(order)} model-version partitions in {home}")

    print("[deploysim] validating the evaluators against human labels ...", flush=True)
    log_level = {"loggers": {"console": {"config": {"log_level": "WARNING" if args.quiet else "INFO"}}}}
    validation = defs.resolve_job_def("evaluator_validation_job").execute_in_process(
        instance=instance, run_config=log_level, raise_on_error=False
    )
    if not validation.success:
        print(f"[deploysim] evaluator validation run {validation.run_id} failed", file=sys.stderr)
        return 1
    job = defs.resolve_job_def("deployment_simulation_job")
    run_config = {
        "ops": {
            "conversation_sample": {"config": {"sample_size": args.sample_size, "seed": args.seed}},
            "eval_awareness_report": {"config": {"sample_size": args.awareness_size, "seed": args.seed}},
        },
        "loggers": {"console": {"config": {"log_level": "WARNING" if args.quiet else "INFO"}}},
    }
    gateway = defs.resources["model_gateway"]
    with gateway.serving([registry.get(v) for v in versions]):
        for version in versions:
            print(
                f"[deploysim] simulating {version} (prior {registry.prior_of(version).version}) ...",
                flush=True,
            )
            step_started = time.monotonic()
            result = job.execute_in_process(
                partition_key=version, instance=instance, run_config=run_config, raise_on_error=False
            )
            if not result.success:
                print(
                    f"[deploysim] run {result.run_id} for {version} failed; see `dagster dev`",
                    file=sys.stderr,
                )
                return 1
            print(f"[deploysim] {version} done in {time.monotonic() - step_started:.0f}s", flush=True)
    print()
    status = _print_gate(candidate)
    overrides = " ".join(
        f"{name}={os.environ[name]}"
        for name in ("DEPLOYSIM_LOG", "DEPLOYSIM_REGISTRY", "DEPLOYSIM_DUCKDB", "DEPLOYSIM_GATE_POLICY")
        if name in os.environ and args.command == "run"
    )
    print(
        f"\n[deploysim] finished in {time.monotonic() - started:.0f}s. Inspect lineage and metadata with:\n"
        f"    {overrides + ' ' if overrides else ''}DAGSTER_HOME={home} "
        f"{Path(sys.executable).parent / 'dagster'} dev -w workspace.yaml\n"
        "  then open the address it prints (http://127.0.0.1:3000 unless that port is taken)."
    )
    return status


def backfill(args: argparse.Namespace) -> int:
    """Register the versions' partitions, then queue one run per version with `dagster job backfill`;
    the Dagster daemon (`make ui` runs one) launches them, several at once, DuckDB writes one at a time."""
    import subprocess

    import dagster as dg

    from deploysim.registry import load_registry
    from orchestration.partitions import model_versions_partitions_def

    _apply_overrides(args)
    home = _prepare_instance_home()
    registry = load_registry(from_environment().release_registry)
    simulated = registry.simulated_versions
    if args.versions and args.last:
        print("[deploysim] give --versions or a range (--from/--to), not both", file=sys.stderr)
        return 2
    if args.versions:
        versions = [v for v in args.versions.split(",") if v]
    elif args.first or args.last:
        try:
            versions = registry.versions_between(args.first or simulated[0], args.last or simulated[-1])
        except (KeyError, ValueError) as error:
            print(f"[deploysim] {error.args[0]}", file=sys.stderr)
            return 2
    else:
        # History: every released version that has a prior, for the backtest's calibration.
        versions = [v for v in simulated if not registry.get(v).is_candidate]
    unknown = [v for v in versions if v not in simulated]
    if unknown or not versions:
        print(f"not simulated releases: {unknown}; known: {', '.join(simulated)}", file=sys.stderr)
        return 2
    instance = dg.DagsterInstance.get()
    known = set(instance.get_dynamic_partitions(model_versions_partitions_def.name))
    instance.add_dynamic_partitions(
        model_versions_partitions_def.name, [v for v in versions if v not in known]
    )
    command = [
        sys.executable,
        "-m",
        "dagster",
        "job",
        "backfill",
        "-j",
        "deployment_simulation_job",
        "-w",
        str(PROJECT_ROOT / "workspace.yaml"),
        "--partitions",
        ",".join(versions),
        "--noprompt",
    ]
    completed = subprocess.run(command, cwd=PROJECT_ROOT, env=os.environ, check=False)
    if completed.returncode != 0:
        return completed.returncode
    print(
        f"[deploysim] queued {len(versions)} runs ({', '.join(versions)}) in {home}; the daemon "
        "launches them (make ui); then release_refresh_job recomputes each backtest with the full history"
    )
    return 0


def score(args: argparse.Namespace) -> int:
    from deploysim.score_logs import score_log
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
    cache = None
    judge = None
    if judged:
        import duckdb

        from deploysim.models.cache import ResponseCache
        from evaluators.judge import JudgeRuntime
        from orchestration.resources import EvaluatorSuiteResource, ModelGatewayResource

        backend = EvaluatorSuiteResource(
            names=names,
            judge_base_url=args.judge_base_url,
            judge_model=args.judge_model,
            judge_api_key_env=args.judge_api_key_env,
        ).judge_backend()
        assert backend is not None
        gateway = ModelGatewayResource()
        db = Path(args.db) if args.db else from_environment().duckdb_path
        db.parent.mkdir(parents=True, exist_ok=True)
        cache = ResponseCache(duckdb.connect(str(db)), Path(f"{db}.journal"))
        judge = JudgeRuntime(
            client_factory=lambda: gateway.client_for_backend(backend),
            settings=gateway.engine_settings_for(backend),
            sampling=backend.sampling,
            cache=cache,
        )
    try:
        # Text goes to a judge endpoint only after de-identification, as in the pipeline.
        report = score_log(
            Path(args.input), load_evaluators(names, judge), Path(args.output), deidentify=judged
        )
    finally:
        if cache is not None:
            cache.close()
    print(
        f"{report.rows_in} rows read: {report.scored} scored, {report.quarantined} quarantined; "
        f"{report.labels_written} labels written to {report.output}"
    )
    if report.quarantine_file:
        print(f"quarantined rows and reasons: {report.quarantine_file}")
    return 0


def validate_evaluators(names: str | None) -> int:
    from deploysim.validation import unvalidated, validate
    from evaluators.registry import OFFLINE, load_evaluators

    evaluators = load_evaluators([n for n in names.split(",") if n] if names else list(OFFLINE))
    table = validate(evaluators, DATA_DIR / "validation")
    print("Evaluators against human labels (95% Wilson intervals). Data: data/validation/NOTICE.md\n")
    width = max([len("evaluator version"), *(len(v) for v in table["evaluator_version"])])
    header = f"{'category':<20} {'evaluator version':<{width}} {'subset':<18} {'n':>5}  agreement [95% CI]"
    print(header + "      precision  sensitivity  specificity")
    for row in table.itertuples():

        def share(value: float | None) -> str:
            return "    n/a" if value is None or value != value else f"{value:7.3f}"

        print(
            f"{row.category:<20} {row.evaluator_version:<{width}} {row.subset:<18} {row.n:>5}  "
            f"{row.agreement:.3f} [{row.agreement_low:.3f}, {row.agreement_high:.3f}]"
            f"  {share(row.precision)}    {share(row.sensitivity)}      {share(row.specificity)}"
        )
    missing = unvalidated(evaluators)
    if missing:
        print(f"\nno public human labels here for: {', '.join(missing)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="deploysim", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    def add_run_flags(command: argparse.ArgumentParser, sample_size: int, awareness_size: int) -> None:
        command.add_argument(
            "--log", help="production log: a .jsonl, .jsonl.gz or .parquet file, or a folder"
        )
        command.add_argument("--registry", help="release registry YAML")
        command.add_argument("--gate-policy", help="release-gate policy YAML")
        command.add_argument("--db", help="DuckDB file for all tables")
        command.add_argument("--candidate", help="release to gate (default: the registry's candidate)")
        command.add_argument(
            "--sample-size", type=int, default=int(os.environ.get("DEPLOYSIM_SAMPLE_SIZE", sample_size))
        )
        command.add_argument(
            "--seed", type=int, default=int(os.environ.get("DEPLOYSIM_SAMPLE_SEED", 20240409))
        )
        command.add_argument(
            "--awareness-size",
            type=int,
            default=int(os.environ.get("DEPLOYSIM_AWARENESS_SIZE", awareness_size)),
            help="transcripts per suite shown to the eval-awareness probe",
        )
        command.add_argument(
            "--no-history",
            dest="history",
            action="store_false",
            help="simulate only the candidate, not the earlier releases the backtest uses",
        )
        command.add_argument("--quiet", action="store_true", help="only warnings from the runs")

    run_command = commands.add_parser("run", help="simulate and gate a candidate on your own data")
    add_run_flags(run_command, sample_size=200, awareness_size=100)
    demo_command = commands.add_parser("demo", help="the whole simulation on the embedded sample")
    # The embedded candidate generates about 35 tokens/s here (benchmarks/local_model_throughput.py),
    # so the demo samples fewer prefixes per release, and probes six transcripts per suite (each takes
    # about 4 s per phrasing to read and answer).
    add_run_flags(demo_command, sample_size=120, awareness_size=6)
    gate_command = commands.add_parser("gate", help="print a stored release gate; exit 1 on block")
    gate_command.add_argument("candidate")
    gate_command.add_argument("--db", help="DuckDB file")
    archive_command = commands.add_parser(
        "build-archive", help="key recorded responses by de-identified prefix hash, for an archive backend"
    )
    archive_command.add_argument(
        "recorded", help='JSONL of {"messages": [prefix], "tools": [...], "response": {...}}'
    )
    archive_command.add_argument("--out", required=True, help="archive file to write (.jsonl.gz)")
    score_command = commands.add_parser(
        "score", help="grade existing responses (the last assistant turn of each conversation)"
    )
    score_command.add_argument("--input", required=True, help="JSONL, JSONL.gz or Parquet file or folder")
    score_command.add_argument(
        "--evaluators", required=True, help="comma-separated evaluator names (see validate-evaluators)"
    )
    score_command.add_argument("--output", required=True, help="labels to write: .jsonl, .csv or .parquet")
    score_command.add_argument("--judge-base-url", help="OpenAI-compatible endpoint for judge_* evaluators")
    score_command.add_argument("--judge-model", help="the judge's model name")
    score_command.add_argument("--judge-api-key-env", help="environment variable holding the judge's key")
    score_command.add_argument("--db", help="DuckDB file for the judge's response cache")
    backfill_command = commands.add_parser(
        "backfill", help="queue runs for historical versions (default: every released one) for calibration"
    )
    chosen = backfill_command.add_mutually_exclusive_group()
    chosen.add_argument("--versions", help="comma-separated model versions")
    chosen.add_argument(
        "--from", dest="first", metavar="VERSION", help="first version of a range (release order)"
    )
    backfill_command.add_argument("--to", dest="last", metavar="VERSION", help="last version of a range")
    backfill_command.add_argument("--log", help="production log (default: the bundled sample)")
    backfill_command.add_argument("--registry", help="release registry YAML")
    backfill_command.add_argument("--db", help="DuckDB file for all tables")
    validate_command = commands.add_parser(
        "validate-evaluators", help="measure the evaluators against human labels and print the figures"
    )
    validate_command.add_argument("--evaluators", help="comma-separated names (default: every offline one)")
    serve_command = commands.add_parser("serve-local", help="serve the bundled SmolLM2 until interrupted")
    serve_command.add_argument("--base-url", default="http://127.0.0.1:8765/v1")

    args = parser.parse_args(argv)
    if args.command in ("run", "demo"):
        if args.command == "demo":
            os.environ.setdefault("DEPLOYSIM_LOG", str(DATA_DIR / "sample" / "production_log.jsonl.gz"))
            os.environ.setdefault("DEPLOYSIM_REGISTRY", str(DATA_DIR / "releases.yaml"))
        return run(args)
    if args.command == "gate":
        _apply_overrides(args)
        return _print_gate(args.candidate)
    if args.command == "backfill":
        return backfill(args)
    if args.command == "score":
        return score(args)
    if args.command == "validate-evaluators":
        return validate_evaluators(args.evaluators)
    if args.command == "build-archive":
        return build_archive(Path(args.recorded), Path(args.out))
    if args.command == "serve-local":
        from deploysim.local_model import serve_smollm2

        with serve_smollm2(args.base_url, log_path=VAR_DIR / "local_model_server.log"):
            print(f"SmolLM2-135M-Instruct answering at {args.base_url} (Ctrl-C to stop)")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
