"""Processes take turns on a DuckDB file: a second opener waits, hearing who holds it, instead of failing."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest

from deploysim.store.turns import TurnTimeout, holder_of, lock_path, turn
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


def test_a_second_process_waits_for_the_turn_and_hears_who_holds_it(tmp_path):
    database = tmp_path / "d.duckdb"
    other = _hold(database, 1.5, holder="run abc (pid 1)")
    # Without a turn, DuckDB refuses the second process outright.
    with pytest.raises(duckdb.IOException, match="lock"):
        duckdb.connect(str(database))
    heard: list[str] = []
    started = time.monotonic()
    with turn(database, holder="me", on_wait=heard.append):
        waited = time.monotonic() - started
        assert holder_of(database) == "me"
        with duckdb.connect(str(database)) as con:
            assert con.execute("SELECT writer FROM held").fetchall() == [("other",)]
    other.wait(timeout=10)
    assert heard == ["run abc (pid 1)"]
    assert waited >= 1.0
    assert holder_of(database) == ""  # released turns leave no stale holder behind


def test_turns_nest_and_are_shared_by_threads_of_one_process(tmp_path):
    database = tmp_path / "d.duckdb"

    def write(i: int) -> None:
        with turn(database, holder="me"), turn(database, holder="me"), duckdb.connect(str(database)) as con:
            con.execute("INSERT INTO t VALUES (?)", [i])

    with duckdb.connect(str(database)) as con:
        con.execute("CREATE TABLE t (i INTEGER)")
    with turn(database, holder="outer"), ThreadPoolExecutor(4) as pool:
        list(pool.map(write, range(8)))
    with duckdb.connect(str(database)) as con:
        assert con.execute("SELECT count(*) FROM t").fetchone() == (8,)
    # The turn is free again: another process takes it at once.
    _hold(database, 0).wait(timeout=10)


def test_waiting_gives_up_after_the_timeout_naming_the_holder(tmp_path):
    database = tmp_path / "d.duckdb"
    other = _hold(database, 5, holder="run slow (pid 2)")
    try:
        with (
            pytest.raises(TurnTimeout, match=r"run slow \(pid 2\).*0 s"),
            turn(database, holder="me", timeout_s=0.3),
        ):
            pass
    finally:
        other.kill()
        other.wait()


def test_a_killed_holder_frees_the_turn(tmp_path):
    database = tmp_path / "d.duckdb"
    other = _hold(database, 60)
    os.kill(other.pid, signal.SIGKILL)
    other.wait()
    with turn(database, holder="me", timeout_s=5), duckdb.connect(str(database)) as con:
        assert con.execute("SELECT count(*) FROM held").fetchone() == (1,)


def test_in_memory_databases_need_no_turn():
    with turn(":memory:", holder="me", timeout_s=0):
        pass
    assert not lock_path(":memory:").exists()
