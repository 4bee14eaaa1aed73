import gzip
import json

import pytest

from deploysim.agents import BUNDLED_SNAPSHOT
from deploysim.agents.fidelity import replay
from deploysim.agents.simulator import ToolLayer
from deploysim.agents.snapshot import compact_flights, load_snapshot, snapshot_bytes
from tests.unit.agents.tiny_env import LANDED, TABLES, tiny_snapshot


def test_snapshot_bytes_are_reproducible_and_round_trip(tmp_path):
    data = snapshot_bytes(TABLES)
    assert data == snapshot_bytes(json.loads(json.dumps(TABLES)))
    assert data[4:8] == b"\0\0\0\0"  # gzip mtime
    (tmp_path / "env.json.gz").write_bytes(data)
    loaded = load_snapshot(tmp_path / "env.json.gz")
    assert loaded.get("users", "ana_ruiz_1") == TABLES["users"]["ana_ruiz_1"]
    assert list(loaded.get("users", "ana_ruiz_1")) == list(TABLES["users"]["ana_ruiz_1"])  # key order kept


def test_compaction_drops_timings_only_on_days_nothing_can_be_booked():
    compact = compact_flights(TABLES["flights"])
    assert compact["HAT001"]["dates"]["2024-05-10"] == {"status": "landed"}
    assert compact["HAT001"]["dates"]["2024-05-20"] == TABLES["flights"]["HAT001"]["dates"]["2024-05-20"]
    assert TABLES["flights"]["HAT001"]["dates"]["2024-05-10"] == LANDED  # the source is not modified


def test_the_snapshot_cannot_be_written_through():
    snapshot = tiny_snapshot()
    with pytest.raises(TypeError):
        snapshot.tables["users"]["someone"] = {}  # type: ignore[index]


def test_the_bundled_snapshot_holds_the_whole_airline_environment():
    snapshot = load_snapshot(BUNDLED_SNAPSHOT)
    assert [snapshot.size(t) for t in ("users", "reservations", "flights")] == [500, 2000, 300]
    with gzip.open(BUNDLED_SNAPSHOT, "rb") as handle:
        assert snapshot_bytes(json.load(handle)) == BUNDLED_SNAPSHOT.read_bytes()
    rollout = ToolLayer(snapshot).rollout()
    assert rollout.call("get_user_details", {"user_id": "mia_li_3668"}).output.startswith(
        '{"name": {"first_name": "Mia", "last_name": "Li"}, "address": {"address1": "975 Sunset Drive"'
    )


def test_replay_scores_reads_and_writes_and_classifies_mismatches():
    trajectory = {
        "task_id": 7,
        "trial": 1,
        "traj": [
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "a",
                        "function": {
                            "name": "cancel_reservation",
                            "arguments": '{"reservation_id": "ABC123"}',
                        },
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "a", "content": "{}"},
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "b",
                        "function": {
                            "name": "get_reservation_details",
                            "arguments": '{"reservation_id": "ABC123"}',
                        },
                    }
                ],
            },
            {
                "role": "tool",
                "tool_call_id": "b",
                "content": json.dumps({**TABLES["reservations"]["ABC123"], "status": "active"}),
            },
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "c",
                        "function": {"name": "get_user_details", "arguments": '{"user_id": "ana_ruiz_1"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c", "content": json.dumps(TABLES["users"]["ana_ruiz_1"])},
        ],
    }
    report = replay([trajectory], ToolLayer(tiny_snapshot()))
    assert (report.reads, report.reads_matched, report.writes, report.writes_matched) == (2, 1, 1, 0)
    assert (report.reads_overlay, report.reads_overlay_matched) == (1, 0)
    read_miss = report.classes(writes=False)
    assert read_miss == {"value differs at $.payment_history.length": 1}
    assert [m.source for m in report.mismatches] == ["task 7 trial 1", "task 7 trial 1"]
