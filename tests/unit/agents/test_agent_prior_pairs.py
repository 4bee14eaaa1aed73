import json

from deploysim.agents.prior_pairs import PriorPairs
from deploysim.agents.simulator import Provenance, ToolLayer
from deploysim.agents.trajectories import RecordedCall, calls_in_messages
from tests.unit.agents.tiny_env import tiny_snapshot


def _call(tool: str, arguments: dict, output: str, source: str = "t0") -> RecordedCall:
    return RecordedCall(source, 0, tool, json.dumps(arguments), output)


PAIRS = PriorPairs(
    [
        _call("get_weather", {"city": "Austin", "day": "2024-05-20"}, "sunny", "t1"),
        _call("get_weather", {"city": "Austin", "day": "2024-05-21"}, "rain", "t2"),
        _call("get_weather", {"city": "Boston", "day": "2024-05-20"}, "fog", "t3"),
        _call("get_weather", {"day": "2024-05-20", "city": "Austin"}, "sunny", "t4"),
        _call("get_weather", {"city": "Austin", "day": "2024-05-20"}, "hail", "t5"),
        _call("lookup_order", {"order_id": "A1"}, '{"status": "shipped"}', "t6"),
    ]
)


def test_an_exact_hit_ignores_form_and_returns_the_most_recorded_output():
    hit = PAIRS.lookup("get_weather", '{"day":"2024-05-20",  "city":" Austin "}')
    assert hit is not None and hit.output == "sunny"
    assert (hit.recorded, hit.variants, hit.source) == (3, 2, "t1, call 0")
    assert PAIRS.lookup("get_weather", {"city": "Austin", "day": "2024-05-22"}) is None
    assert PAIRS.lookup("lookup_order", {"city": "Austin", "day": "2024-05-20"}) is None
    assert len(PAIRS) == 4 and PAIRS.tools() == ["get_weather", "lookup_order"]


def test_nearest_ranks_the_same_tools_pairs_by_argument_similarity():
    hits = PAIRS.nearest("get_weather", {"city": "Austin", "day": "2024-06-21"}, k=3)
    assert [hit.pair.output for hit in hits] == ["rain", "sunny", "fog"]
    assert hits[0].similarity > hits[2].similarity
    assert [h.pair.tool for h in PAIRS.nearest("lookup_order", {"order_id": "B7"}, k=5)] == ["lookup_order"]
    assert PAIRS.nearest("unknown", {}) == []


def test_the_layer_names_where_each_answer_came_from():
    rollout = ToolLayer(tiny_snapshot(), PAIRS, examples=2).rollout()
    assert rollout.call("get_user_details", {"user_id": "ana_ruiz_1"}).provenance is Provenance.CONNECTOR
    assert rollout.call("cancel_reservation", {"reservation_id": "ABC123"}).provenance is Provenance.OVERLAY
    hit = rollout.call("lookup_order", {"order_id": "A1"})
    assert (hit.provenance, hit.output, hit.source) == (
        Provenance.PRIOR_PAIR,
        '{"status": "shipped"}',
        "t6, call 0",
    )
    miss = rollout.call("get_weather", {"city": "Boston", "day": "2024-05-21"})
    assert miss.provenance is Provenance.UNRESOLVED and miss.output is None
    assert len(miss.examples) == 2 and {e.pair.output for e in miss.examples} <= {
        "sunny",
        "rain",
        "fog",
        "hail",
    }
    bare = ToolLayer(tiny_snapshot()).rollout().call("lookup_order", {"order_id": "A1"})
    assert bare.provenance is Provenance.UNRESOLVED


def test_calls_pair_with_their_answers_in_order():
    messages = [
        {"role": "user", "content": "hi"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "function": {"name": "think", "arguments": '{"thought": "x"}'}},
                {"id": "c2", "function": {"name": "calculate", "arguments": '{"expression": "1+1"}'}},
            ],
        },
        {"role": "tool", "tool_call_id": "c2", "name": "calculate", "content": "2.0"},
        {"role": "tool", "tool_call_id": "c1", "name": "think", "content": ""},
        {"role": "tool", "tool_call_id": "stray", "content": "ignored"},
    ]
    calls = list(calls_in_messages(messages, "demo"))
    assert [(c.position, c.tool, c.output) for c in calls] == [(0, "calculate", "2.0"), (1, "think", "")]
