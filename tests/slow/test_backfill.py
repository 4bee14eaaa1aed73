"""Backfilling five historical versions at once through the Dagster daemon, on the multiprocess executor:
each version's chain is its own run, the runs overlap, their DuckDB connections take turns, and none fails
on DuckDB's file lock."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.cli import main
from tests.support.history_world import build
from tests.support.paths import REPO

VERSIONS = ["r1", "r2", "r3", "r4", "r5"]
CHAIN = {
    "deidentified_conversations",
    "conversation_sample",
    "regenerated_responses",
    "evaluator_scores",
    "eval_awareness_report",
    "behavior_rates",
    "backtest_calibration",
    "release_gate",
}


def _wait_for_runs(instance: dg.DagsterInstance, count: int, timeout_s: float) -> list[dg.DagsterRun]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        runs = instance.get_runs()
        if len(runs) == count and all(run.is_finished for run in runs):
            return runs
        time.sleep(3)
    raise AssertionError(f"runs not finished in {timeout_s:.0f} s: {[(r.run_id, r.status) for r in runs]}")


def _most_at_once(spans: list[tuple[float, float]]) -> int:
    edges = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    running = most = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most


def test_five_versions_backfill_concurrently_and_take_turns_on_duckdb(tmp_path, monkeypatch):
    environment = build(tmp_path, releases=len(VERSIONS) + 1)
    home = tmp_path / "dagster_home"
    for key, value in {**environment, "DAGSTER_HOME": str(home)}.items():
        monkeypatch.setenv(key, value)
    # The project's own instance configuration, as `deploysim backfill` writes it (up to five runs at once).
    assert main(["backfill", "--versions", ",".join(VERSIONS)]) == 0

    daemon_log = tmp_path / "daemon.log"
    with daemon_log.open("w") as stderr:
        daemon = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("dagster-daemon")),
                "run",
                "-w",
                str(REPO / "workspace.yaml"),
            ],
            cwd=REPO,
            env=os.environ.copy(),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        with dg.DagsterInstance.get() as instance:
            runs = _wait_for_runs(instance, len(VERSIONS), timeout_s=900)
            logs = {run.run_id: instance.all_logs(run.run_id) for run in runs}
            materialized = {
                run.tags["dagster/partition"]: {
                    (entry.dagster_event.asset_key.to_user_string(), entry.dagster_event.partition)
                    for entry in logs[run.run_id]
                    if entry.dagster_event and entry.dagster_event.is_step_materialization
                }
                for run in runs
            }
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        daemon.wait(timeout=60)

    statuses = {run.tags["dagster/partition"]: run.status for run in runs}
    assert statuses == {v: dg.DagsterRunStatus.SUCCESS for v in VERSIONS}, daemon_log.read_text()[-3000:]
    # Identity partition mapping: each run materialized its own version's whole chain and nothing else.
    assert materialized == {v: {(asset, v) for asset in CHAIN} for v in VERSIONS}

    messages = [entry.user_message for entry in logs.values() for entry in entry]
    assert any("using multiprocess executor" in m for m in messages)
    assert not [m for m in messages if "Could not set lock" in m]

    def span(run: dg.DagsterRun) -> tuple[float, float]:
        stamps = {
            entry.dagster_event.event_type_value: entry.timestamp
            for entry in logs[run.run_id]
            if entry.dagster_event
        }
        return stamps["PIPELINE_START"], stamps["PIPELINE_SUCCESS"]

    # The runs really overlapped, and steps of one waited while another run held the database.
    assert _most_at_once([span(run) for run in runs]) >= 3
    assert any(m.startswith("Waiting for DuckDB") for m in messages)

    with duckdb.connect(environment["DEPLOYSIM_DUCKDB"], read_only=True) as con:
        gates = dict(con.execute("SELECT partition_key, verdict FROM release_gates").fetchall())
    assert sorted(gates) == VERSIONS
