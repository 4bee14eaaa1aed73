"""Backfill N archive-backed versions at once through the Dagster daemon and print how the runs overlapped.

    python benchmarks/backfill_concurrency.py [--versions 5]

A synthetic release history (tests/history_world.py: 12 conversations a version, every model an archive, so
the figures are orchestration and DuckDB turns, not model time) in a temporary folder; `deploysim backfill`
queues the runs, `dagster-daemon` launches them with the project's instance configuration. Prints the wall
time from queueing to the last run's end, each run's span, how many ran at once, how often a step waited
for another run's DuckDB turn, and lock failures.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=5)
    args = parser.parse_args()

    import dagster as dg

    from orchestration.cli import main as deploysim
    from tests.support.history_world import build

    root = Path(tempfile.mkdtemp(prefix="backfill-bench-"))
    environment = build(root, releases=args.versions + 1)
    os.environ.update({**environment, "DAGSTER_HOME": str(root / "dagster_home")})
    versions = [f"r{i}" for i in range(1, args.versions + 1)]

    started = time.monotonic()
    if deploysim(["backfill", "--versions", ",".join(versions)]) != 0:
        raise SystemExit("backfill failed to queue")
    daemon = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w", str(ROOT / "workspace.yaml")],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        with dg.DagsterInstance.get() as instance:
            while True:
                runs = instance.get_runs()
                if len(runs) == len(versions) and all(run.is_finished for run in runs):
                    break
                time.sleep(2)
            wall = time.monotonic() - started
            logs = {run.run_id: instance.all_logs(run.run_id) for run in runs}
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        daemon.wait()

    origin = min(entry.timestamp for entries in logs.values() for entry in entries)
    spans = {}
    for run in runs:
        stamps = {e.dagster_event.event_type_value: e.timestamp for e in logs[run.run_id] if e.dagster_event}
        end = stamps.get("PIPELINE_SUCCESS") or stamps.get("PIPELINE_FAILURE") or stamps["PIPELINE_START"]
        spans[run.tags["dagster/partition"]] = (stamps["PIPELINE_START"] - origin, end - origin, run.status)
    messages = [entry.user_message for entries in logs.values() for entry in entries]
    edges = sorted([(s, 1) for s, _, _ in spans.values()] + [(e, -1) for _, e, _ in spans.values()])
    running = most = 0
    for _, step in edges:
        running += step
        most = max(most, running)

    print(f"versions backfilled      {len(versions)}")
    print(f"wall, queue to last end  {wall:.0f} s")
    print(f"runs at once (max)       {most}")
    print(f"waits for a DuckDB turn  {sum(m.startswith('Waiting for DuckDB') for m in messages)}")
    print(f"'Could not set lock'     {sum('Could not set lock' in m for m in messages)}")
    print("run   start s   end s   status")
    for version, (start, end, status) in sorted(spans.items()):
        print(f"{version:<5} {start:7.0f} {end:7.0f}   {status.value}")


if __name__ == "__main__":
    main()
