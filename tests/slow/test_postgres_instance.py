"""The team setup: a Postgres-backed instance running one release's job with the multiprocess executor.

The job runs out of process, through `dagster job execute` as an operator would, so every step is a child
process writing its events to Postgres; the test then reads the run back from the database.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.support.paths import REPO
from tests.support.postgres_server import PostgresServer, find_bin_dir, postgres_server

JOB = "deployment_simulation_job"
PARTITION = "r2"
#: The run takes about a minute on 2 cores; the bound only stops a hung run from hanging the suite.
RUN_TIMEOUT_S = 600
MULTIPROCESS_BANNER = "Executing steps using multiprocess executor"


@pytest.fixture
def postgres() -> Iterator[PostgresServer]:
    if find_bin_dir() is None:
        pytest.skip("PostgreSQL server binaries (initdb) not found; install postgresql or set PG_BIN")
    pytest.importorskip("dagster_postgres", reason="dagster-postgres is not installed")
    pytest.importorskip("psycopg2", reason="psycopg2 (dagster-postgres's driver) is not installed")
    with postgres_server() as server:
        yield server


def _write_instance_config(home: Path, server: PostgresServer) -> None:
    config = {
        "telemetry": {"enabled": False},
        # SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3; dagster-postgres installs psycopg2.
        "storage": {"postgres": {"postgres_db": {**server.postgres_db(), "scheme": "postgresql+psycopg2"}}},
    }
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))


def _execute_partition(home: Path, world: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # No run config: whatever executor the definitions declare must itself be the multiprocess one.
    command = [
        sys.executable,
        "-m",
        "dagster",
        "job",
        "execute",
        "-m",
        "orchestration.definitions",
        "-a",
        "defs",
        "-j",
        JOB,
        "--tags",
        json.dumps({"dagster/partition": PARTITION}),
    ]
    env = {**os.environ, **world, "DAGSTER_HOME": str(home)}
    # A session of its own, so a hung run is killed with its step workers and forkserver.
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        pytest.fail(f"run did not finish within {RUN_TIMEOUT_S} s:\n{stdout[-4000:]}\n{stderr[-4000:]}")
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def test_postgres_instance_runs_a_partition_with_the_multiprocess_executor(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    import dagster as dg
    import duckdb
    import psycopg2
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage

    from tests.support.history_world import build

    (tmp_path / "world").mkdir()
    world = build(tmp_path / "world", releases=3)
    home = tmp_path / "dagster_home"
    _write_instance_config(home, postgres)

    # The partition must exist in the instance before a run can target it.
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        instance.add_dynamic_partitions("model_versions", ["r0", "r1", PARTITION])

    started = time.monotonic()
    done = _execute_partition(home, world)
    elapsed = time.monotonic() - started
    output = f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    assert done.returncode == 0, f"run failed after {elapsed:.0f} s:\n{output}"

    with dg.DagsterInstance.from_config(str(home)) as instance:
        [run] = instance.get_runs(filters=dg.RunsFilter(job_name=JOB))
        assert run.status == dg.DagsterRunStatus.SUCCESS
        assert run.tags["dagster/partition"] == PARTITION

        events = instance.all_logs(run.run_id)
        kinds = dg.DagsterEventType
        [run_start] = [e for e in events if e.dagster_event_type == kinds.RUN_START]
        messages = [e.message or "" for e in events if e.dagster_event_type == kinds.ENGINE_EVENT]
        assert any(MULTIPROCESS_BANNER in m for m in messages), messages
        # Each step in a process of its own, none in the run's process.
        step_starts = [e for e in events if e.dagster_event_type == kinds.STEP_START]
        step_pids = {e.dagster_event.pid for e in step_starts if e.dagster_event}
        assert len(step_pids) == len(step_starts) >= 7
        assert run_start.dagster_event is not None
        assert run_start.dagster_event.pid not in step_pids
        assert "release_gate" in {e.step_key for e in step_starts}

        result = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("release_gate"), asset_partitions=[PARTITION]),
            limit=10,
        )
        [record] = result.records
        assert record.run_id == run.run_id
        assert record.asset_materialization is not None
        metadata = record.asset_materialization.metadata
        assert metadata["model_version"].value == PARTITION
        assert metadata["prior_version"].value == "r1"
        verdict = metadata["verdict"].value

    # Read the database itself, so the run cannot have gone to any storage but this server's.
    with (
        psycopg2.connect(
            host=postgres.host, port=postgres.port, user=postgres.username, dbname=postgres.db_name
        ) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT count(*) FROM runs WHERE run_id = %s", [run.run_id])
        assert cursor.fetchone() == (1,)
        cursor.execute("SELECT count(*) FROM event_logs WHERE run_id = %s", [run.run_id])
        assert cursor.fetchone() == (len(events),)
    connection.close()  # psycopg2's `with` ends the transaction but keeps the connection open

    with duckdb.connect(world["DEPLOYSIM_DUCKDB"], read_only=True) as con:
        query = "SELECT verdict FROM release_gates WHERE partition_key = ?"
        rows = con.execute(query, [PARTITION]).fetchall()
    assert rows == [(verdict,)]
