"""The DuckDB resource: connections take turns across processes, own the schema and close on failure."""

import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.resources import SerializedDuckDBResource
from tests.support.paths import REPO


def _hold(database: Path, seconds: float, holder: str = "the writer") -> subprocess.Popen:
    """Another process that opens the database in its turn and keeps it for `seconds`."""
    code = textwrap.dedent(
        f"""
        import sys, time, duckdb
        from deploysim.store.turns import turn
        with turn({str(database)!r}, holder={holder!r}):
            con = duckdb.connect({str(database)!r})
            con.execute("CREATE TABLE IF NOT EXISTS held (writer VARCHAR)")
            con.execute("INSERT INTO held VALUES ('other')")
            print("holding", flush=True)
            time.sleep({seconds})
            con.close()
        """
    )
    process = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "holding"
    return process


def test_the_resource_waits_for_another_process_and_logs_it(tmp_path):
    database = tmp_path / "d.duckdb"
    other = _hold(database, 8.0, holder="run other (pid 3)")

    @dg.asset
    def writer(context: dg.AssetExecutionContext, duckdb: SerializedDuckDBResource) -> None:
        with duckdb.get_connection() as con:
            con.execute("INSERT INTO held VALUES ('asset')")

    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [writer],
            resources={"duckdb": SerializedDuckDBResource(database=str(database))},
            instance=instance,
        )
        messages = [e.user_message for e in instance.all_logs(result.run_id)]
    other.wait(timeout=20)
    assert result.success
    assert any("Waiting for DuckDB" in m and "run other (pid 3)" in m for m in messages), messages
    with duckdb.connect(str(database)) as con:
        assert sorted(con.execute("SELECT writer FROM held").fetchall()) == [("asset",), ("other",)]


def test_the_resource_closes_its_connection_when_the_step_fails(tmp_path):
    database = tmp_path / "d.duckdb"
    resource = SerializedDuckDBResource(database=str(database))
    with pytest.raises(RuntimeError), resource.get_connection() as con:
        con.execute("CREATE TABLE t (writer VARCHAR)")
        raise RuntimeError("step failed")
    # The turn ended with the connection closed, so another process can open the file at once.
    _hold(database, 0).wait(timeout=10)
