"""Backfilling five historical versions at once through the Dagster daemon: every run succeeds, and the
DuckDB pool keeps the writers apart (no "Could not set lock")."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from deploysim.cli import main
from tests.history_world import build

ROOT = Path(__file__).resolve().parents[1]
VERSIONS = ["r1", "r2", "r3", "r4", "r5"]


@pytest.mark.slow
def test_five_versions_backfill_concurrently_without_duckdb_lock_failures(tmp_path, monkeypatch):
    environment = build(tmp_path, releases=6)
    home = tmp_path / "dagster_home"
    for key, value in {**environment, "DAGSTER_HOME": str(home)}.items():
        monkeypatch.setenv(key, value)
    # The project's instance config (one DuckDB writer at a time), plus up to five runs at once.
    home.mkdir()
    (home / "dagster.yaml").write_text(
        "telemetry:\n  enabled: false\n"
        "concurrency:\n  pools:\n    default_limit: 1\n  runs:\n    max_concurrent_runs: 5\n"
    )
    assert main(["backfill", "--versions", ",".join(VERSIONS)]) == 0

    daemon = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w", str(ROOT / "workspace.yaml")],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        with dg.DagsterInstance.get() as instance:
            deadline = time.monotonic() + 900
            while time.monotonic() < deadline:
                runs = instance.get_runs()
                finished = [r for r in runs if r.is_finished]
                if len(runs) == len(VERSIONS) and len(finished) == len(VERSIONS):
                    break
                time.sleep(3)
            runs = instance.get_runs()
            statuses = {r.tags.get("dagster/partition"): r.status for r in runs}
            logs = "\n".join(str(e.message) for r in runs for e in instance.all_logs(r.run_id) if e.message)
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        daemon.wait(timeout=60)
    assert statuses == {v: dg.DagsterRunStatus.SUCCESS for v in VERSIONS}, statuses
    assert "Could not set lock" not in logs
    with duckdb.connect(environment["DEPLOYSIM_DUCKDB"], read_only=True) as con:
        gates = dict(con.execute("SELECT partition_key, verdict FROM release_gates").fetchall())
    assert sorted(gates) == VERSIONS
