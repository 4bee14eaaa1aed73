import json

import duckdb

from deploysim.inference.cache import ResponseCache
from deploysim.inference.journal import ResponseJournal
from deploysim.inference.types import ModelOutput


def _count(con) -> int:
    return con.execute("SELECT count(*) FROM response_cache").fetchone()[0]


def test_puts_are_buffered_until_a_flush_commits_them_in_one_batch(tmp_path):
    con = duckdb.connect(str(tmp_path / "c.duckdb"))
    cache = ResponseCache(con, tmp_path / "journal")
    for i in range(5):
        cache.put(f"k{i}", "e", ModelOutput(content=f"answer {i}"))
    assert _count(con) == 0 and cache.pending == 5
    # Buffered answers are already visible to look-ups in this run.
    assert cache.get_many(["k3"])["k3"].content == "answer 3"
    assert cache.flush() == 5 and _count(con) == 5 and cache.pending == 0
    cache.close()
    assert not list((tmp_path / "journal").glob("*.jsonl"))


def test_a_dead_runs_journal_is_committed_by_the_next_cache(tmp_path):
    db = tmp_path / "c.duckdb"
    journal_dir = tmp_path / "journal"
    dead = ResponseJournal(journal_dir)
    for i in range(3):
        dead.append(
            {"key": f"k{i}", "endpoint": "e", "output": ModelOutput(content=f"a{i}").model_dump_json()}
        )
    dead._handle.write('{"key": "torn", "endpo')  # the line being written when the process died
    dead._handle.flush()
    dead._handle.close()  # the lock dies with its process

    with duckdb.connect(str(db)) as con:
        cache = ResponseCache(con, journal_dir)
        assert cache.recovered == 3 and _count(con) == 3
        assert cache.get_many(["k1"])["k1"].content == "a1"
        cache.close()
    assert not list(journal_dir.glob("*.jsonl"))


def test_a_live_runs_journal_is_left_alone(tmp_path):
    journal_dir = tmp_path / "journal"
    live = ResponseJournal(journal_dir)
    live.append({"key": "k", "endpoint": "e", "output": json.dumps({"content": "x"})})
    with duckdb.connect(str(tmp_path / "c.duckdb")) as con:
        cache = ResponseCache(con, journal_dir)
        assert cache.recovered == 0 and _count(con) == 0
        cache.close()
    assert live.path.exists()
    live.close()
