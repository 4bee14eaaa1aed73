"""deploysim command line: run the simulation, print a gate, score logs, serve the bundled local model."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from deploysim.inference.types import EndpointRejected
from orchestration.cli import audit
from orchestration.cli.exit_codes import ExitCode
from orchestration.cli.runs import apply_overrides, backfill, run
from orchestration.cli.tools import build_archive, examples, print_gate, score, validate_evaluators
from orchestration.settings import DATA_DIR, VAR_DIR


def _bounded(kind: type, low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a number within [low, high], with one clear line otherwise."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is outside [{low:g}, {high:g}]")
        return value

    return parse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="deploysim",
        description=__doc__,
        epilog="Exit codes: 0 pass or warn (or done), 1 the gate blocked, 2 usage or data error, "
        "3 the simulation is incomplete.",
    )
    parser.add_argument("--debug", action="store_true", help="print tracebacks instead of one-line errors")
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
        command.add_argument(
            "--window-days",
            type=float,
            help="a pending candidate's window: its prior's traffic over the last N days (default: all since "
            "the prior's release)",
        )
        command.add_argument(
            "--attempt-timeout",
            type=_bounded(float, 0.1, 3600.0),
            help="seconds one model call may take before it is retried (DEPLOYSIM_ATTEMPT_TIMEOUT_S)",
        )
        command.add_argument(
            "--attempts",
            type=_bounded(int, 1, 50),
            help="attempts per model call, retries included (DEPLOYSIM_MAX_ATTEMPTS)",
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
        "recorded",
        nargs="+",
        help='JSONL or JSONL.gz files of {"messages": [prefix], "tools": [...], "response": {...}}; bad '
        "lines are left out, listed with their line and reason in OUT.quarantine.jsonl",
    )
    archive_command.add_argument("--out", required=True, help="archive file to write (.jsonl.gz)")
    score_command = commands.add_parser(
        "score",
        help="grade existing responses (the last assistant turn of each conversation)",
        description="Grade the last assistant turn of each conversation. Input: a file or a folder of "
        "production-log files (.jsonl, .ndjson, .json: JSON Lines or one array of objects; each also .gz; "
        ".parquet) or CSV (.csv, .csv.gz): a header row, one conversation per row, required columns "
        "conversation_id and messages (a JSON array of chat messages), optional model_version, started_at, "
        "surface, locale, consent_model_improvement and tools (JSON); absent ones default to model_version "
        "and surface 'unknown'. Other files in a folder are listed as skipped. Bad rows and repeated "
        "conversation_ids go to OUTPUT.quarantine.jsonl. Exit codes: 0 done, 2 bad arguments or an input "
        "that cannot be read.",
    )
    score_command.add_argument(
        "--input", required=True, help="log or CSV file, or a folder of them (see the description)"
    )
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
    examples_command = commands.add_parser(
        "examples", help="paired prior/candidate examples of a release, label flips first (de-identified)"
    )
    examples_command.add_argument("version")
    examples_command.add_argument("--category", help="one category (default: all)")
    examples_command.add_argument("--flipped", action="store_true", help="only pairs whose label flipped")
    examples_command.add_argument("--limit", type=int, default=5, help="pairs per category")
    examples_command.add_argument("--format", choices=("md", "jsonl"), default="md")
    examples_command.add_argument("--db", help="DuckDB file")
    audit.add_commands(commands)
    serve_command = commands.add_parser("serve-local", help="serve the bundled SmolLM2 until interrupted")
    serve_command.add_argument("--base-url", default="http://127.0.0.1:8765/v1")

    args = parser.parse_args(argv)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        print("deploysim: interrupted; completed model calls are cached, rerun to resume", file=sys.stderr)
        return ExitCode.INCOMPLETE
    except EndpointRejected as error:  # already one line naming the endpoint and what to check
        if args.debug:
            raise
        print(f"deploysim: {error}", file=sys.stderr)
        return ExitCode.INCOMPLETE if args.command in ("run", "demo") else ExitCode.USAGE
    except Exception as error:
        if args.debug:
            raise
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        print(
            f"deploysim: {type(error).__name__}: {message} (rerun with --debug for the traceback)",
            file=sys.stderr,
        )
        return ExitCode.INCOMPLETE if args.command in ("run", "demo") else ExitCode.USAGE


def _dispatch(args: argparse.Namespace) -> int:
    if args.command in ("run", "demo"):
        if args.command == "demo":
            os.environ.setdefault("DEPLOYSIM_LOG", str(DATA_DIR / "sample" / "production_log.jsonl.gz"))
            os.environ.setdefault("DEPLOYSIM_REGISTRY", str(DATA_DIR / "releases.yaml"))
        return run(args)
    if args.command == "gate":
        apply_overrides(args)
        return print_gate(args.candidate)
    if args.command == "backfill":
        return backfill(args)
    if args.command == "score":
        return score(args)
    if args.command == "validate-evaluators":
        return validate_evaluators(args.evaluators)
    if args.command == "examples":
        apply_overrides(args)
        return examples(args)
    if args.command == "audit":
        apply_overrides(args)
        return audit.export(args) if args.audit_command == "export" else audit.import_(args)
    if args.command == "build-archive":
        return build_archive([Path(p) for p in args.recorded], Path(args.out))
    if args.command == "serve-local":
        from deploysim.inference.local_server import serve_smollm2

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
