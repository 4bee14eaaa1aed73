"""The commands that drive Dagster: `run`/`demo` (materialize each version's chain in process) and
`backfill` (queue runs for the daemon), on a project-local instance."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from deploysim.release.preflight import preflight
from orchestration.cli.exit_codes import ExitCode
from orchestration.cli.reports import failure_summary, print_quarantine
from orchestration.cli.tools import print_gate
from orchestration.settings import PROJECT_ROOT, VAR_DIR, from_environment

_DAGSTER_YAML = """\
# Written by deploysim; replace this file to configure the instance yourself (e.g. Postgres storage).
telemetry:
  enabled: false
# The daemon fails runs stuck in STARTING or CANCELING; runs whose process died while STARTED are failed by
# deploysim itself (orchestration/run_health.py) before a schedule or `deploysim run` looks at them.
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  cancel_timeout_seconds: 180
  max_resume_run_attempts: 0
  poll_interval_seconds: 60
concurrency:
  runs:
    # Backfilled versions run several at once; their DuckDB connections take turns (a `.lock` beside
    # the database), so a waiting step sleeps instead of failing on DuckDB's file lock.
    max_concurrent_runs: 5
"""


def prepare_instance_home() -> Path:
    """A project-local DAGSTER_HOME, so runs and partitions persist and `dagster dev` sees them."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(VAR_DIR / "dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() or config.read_text().startswith("# Written by deploysim"):
        config.write_text(_DAGSTER_YAML)
    return home


def apply_overrides(args: argparse.Namespace) -> None:
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
    for flag, variable in (
        ("window_days", "DEPLOYSIM_WINDOW_DAYS"),
        ("attempt_timeout", "DEPLOYSIM_ATTEMPT_TIMEOUT_S"),
        ("attempts", "DEPLOYSIM_MAX_ATTEMPTS"),
    ):
        if getattr(args, flag, None) is not None:
            os.environ[variable] = str(getattr(args, flag))


def run(args: argparse.Namespace) -> int:
    apply_overrides(args)
    settings = from_environment()
    check = preflight(
        registry_path=settings.release_registry,
        policy_path=settings.gate_policy,
        log_path=settings.production_log,
        candidate=args.candidate,
        history=args.history,
    )
    for warning in check.warnings:
        print(f"[deploysim] warning: {warning}", file=sys.stderr)
    if not check.ok:
        for problem in check.problems:
            print(f"deploysim: {problem}", file=sys.stderr)
        return ExitCode.USAGE
    assert check.registry is not None and check.candidate is not None
    registry, candidate, versions = check.registry, check.candidate, check.versions
    home = prepare_instance_home()
    started = time.monotonic()

    import dagster as dg

    from orchestration.definitions import build_defs
    from orchestration.partitions import model_versions_partitions_def
    from orchestration.run_health import fail_orphaned_runs, run_tags

    defs = build_defs(settings)
    instance = dg.DagsterInstance.get()
    for run_id in fail_orphaned_runs(instance):
        print(f"[deploysim] run {run_id} had lost its process; marked failed", file=sys.stderr)
    partitions_name = model_versions_partitions_def.name
    order = registry.simulated_versions
    known = set(instance.get_dynamic_partitions(partitions_name))
    instance.add_dynamic_partitions(partitions_name, [v for v in order if v not in known])
    print(f"[deploysim] registered {len(order)} model-version partitions in {home}")

    print("[deploysim] validating the evaluators against human labels ...", flush=True)
    log_level = {"loggers": {"console": {"config": {"log_level": "WARNING" if args.quiet else "INFO"}}}}
    tags = run_tags(instance)
    validation = defs.resolve_job_def("evaluator_validation_job").execute_in_process(
        instance=instance, run_config=log_level, raise_on_error=False, tags=tags
    )
    if not validation.success:
        print(f"deploysim: evaluator validation failed: {failure_summary(validation)}", file=sys.stderr)
        return ExitCode.INCOMPLETE
    job = defs.resolve_job_def("deployment_simulation_job")
    run_config = {
        "ops": {
            "conversation_sample": {"config": {"sample_size": args.sample_size, "seed": args.seed}},
            "eval_awareness_report": {"config": {"sample_size": args.awareness_size, "seed": args.seed}},
        },
        **log_level,
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
                partition_key=version,
                instance=instance,
                run_config=run_config,
                raise_on_error=False,
                tags=tags,
            )
            print_quarantine(settings.duckdb_path, version)
            if not result.success:
                print(
                    f"deploysim: the run for {version} did not finish: {failure_summary(result)} "
                    f"(run {result.run_id}; details in `make ui`)",
                    file=sys.stderr,
                )
                return ExitCode.INCOMPLETE
            print(f"[deploysim] {version} done in {time.monotonic() - step_started:.0f}s", flush=True)
    print()
    status = print_gate(candidate)
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
    import dagster as dg

    from deploysim.core.releases import load_registry
    from orchestration.partitions import model_versions_partitions_def

    apply_overrides(args)
    home = prepare_instance_home()
    registry = load_registry(from_environment().release_registry)
    simulated = registry.simulated_versions
    if args.versions and args.last:
        print("[deploysim] give --versions or a range (--from/--to), not both", file=sys.stderr)
        return ExitCode.USAGE
    if args.versions:
        versions = [v for v in args.versions.split(",") if v]
    elif args.first or args.last:
        try:
            versions = registry.versions_between(args.first or simulated[0], args.last or simulated[-1])
        except (KeyError, ValueError) as error:
            print(f"[deploysim] {error.args[0]}", file=sys.stderr)
            return ExitCode.USAGE
    else:
        # History: every released version that has a prior, for the backtest's calibration.
        versions = [v for v in simulated if not registry.get(v).is_candidate]
    unknown = [v for v in versions if v not in simulated]
    if unknown or not versions:
        print(f"not simulated releases: {unknown}; known: {', '.join(simulated)}", file=sys.stderr)
        return ExitCode.USAGE
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


def refresh_gates(versions: list[str]) -> int:
    """Recompute rates, backtest and gate of the given versions (after an audit), in process."""
    prepare_instance_home()
    import dagster as dg

    from orchestration.definitions import build_defs

    defs = build_defs(from_environment())
    job = defs.resolve_job_def("gate_refresh_job")
    instance = dg.DagsterInstance.get()
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    status = 0
    for version in versions:
        result = job.execute_in_process(
            partition_key=version, instance=instance, run_config=quiet, raise_on_error=False
        )
        if not result.success:
            print(
                f"deploysim: refreshing the gate of {version} failed: {failure_summary(result)} "
                f"(run {result.run_id})",
                file=sys.stderr,
            )
            return ExitCode.INCOMPLETE
        status = max(status, print_gate(version, headline_only=True))
    return status
