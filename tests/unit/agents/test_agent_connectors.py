import json

import pytest

from deploysim.agents.connectors import AIRPORTS
from deploysim.agents.simulator import Provenance, ToolLayer
from tests.unit.agents.tiny_env import TABLES, tiny_snapshot


@pytest.fixture
def rollout():
    return ToolLayer(tiny_snapshot()).rollout()


def test_user_details_print_the_record_as_the_real_tool_does(rollout):
    result = rollout.call("get_user_details", '{"user_id": "ana_ruiz_1"}')
    assert result.output == json.dumps(TABLES["users"]["ana_ruiz_1"])
    assert result.output.startswith('{"name": {"first_name": "Ana", "last_name": "Ruiz"}, "address"')
    assert result.provenance is Provenance.CONNECTOR


def test_unknown_ids_answer_with_the_real_error_texts(rollout):
    assert rollout.call("get_user_details", {"user_id": "nobody"}).output == "Error: user not found"
    # The real reservation tool says "user" too.
    assert (
        rollout.call("get_reservation_details", {"reservation_id": "ZZZ"}).output == "Error: user not found"
    )


def test_reservation_details(rollout):
    output = rollout.call("get_reservation_details", {"reservation_id": "ABC123"}).output
    assert json.loads(output) == TABLES["reservations"]["ABC123"]


def test_direct_search_lists_only_available_days_with_that_days_record(rollout):
    legs = json.loads(
        rollout.call(
            "search_direct_flight", {"origin": "JFK", "destination": "SEA", "date": "2024-05-20"}
        ).output
    )
    assert [leg["flight_number"] for leg in legs] == ["HAT001"]
    assert legs[0]["prices"]["economy"] == 200 and "dates" not in legs[0] and legs[0]["status"] == "available"
    landed = rollout.call(
        "search_direct_flight", {"origin": "JFK", "destination": "SEA", "date": "2024-05-10"}
    )
    assert landed.output == "[]"


def test_onestop_search_keeps_the_real_tools_quirks(rollout):
    pairs = json.loads(
        rollout.call(
            "search_onestop_flight", {"origin": "JFK", "destination": "SEA", "date": "2024-05-20"}
        ).output
    )
    assert [[leg["flight_number"] for leg in pair] for pair in pairs] == [["HAT003", "HAT004"]]
    first, second = pairs[0]
    assert first["date"] == "2024-05-20"
    # An overnight first leg moves the second to the next day, yet its record is the first day's.
    assert second["date"] == "2024-05-21" and second["prices"]["economy"] == 70
    # The next day is not zero-padded ("2024-05-9"), so this connection is never found.
    early = rollout.call(
        "search_onestop_flight", {"origin": "JFK", "destination": "SEA", "date": "2024-05-08"}
    )
    assert early.output == "[]"


def test_airports_calculate_think_and_transfer(rollout):
    assert json.loads(rollout.call("list_all_airports", {}).output) == AIRPORTS and len(AIRPORTS) == 20
    assert rollout.call("calculate", {"expression": "152 + 103"}).output == "255.0"
    assert rollout.call("calculate", {"expression": "1000 / 3"}).output == "333.33"
    assert rollout.call("think", {"thought": "hmm"}).output == ""
    assert rollout.call("transfer_to_human_agents", {"summary": "x"}).output == "Transfer successful"


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (" (2 + 3) * 4", "20.0"),
        ("-114", "-114.0"),
        ("2 ** 10", "1024.0"),
        ("7 // 2", "3.0"),
        ("1 / 0", "Error: division by zero"),
        ("1 +", "Error: invalid syntax (<string>, line 1)"),
        ("import os", "Error: invalid characters in expression"),
        ("__import__('os')", "Error: invalid characters in expression"),
        ("9 ** 9 ** 9", "Error: result too large"),
    ],
)
def test_calculate_matches_the_real_tool_without_evaluating_code(expression, expected):
    rollout = ToolLayer(tiny_snapshot()).rollout()
    assert rollout.call("calculate", {"expression": expression}).output == expected


def test_a_call_the_tool_cannot_take_is_reported_as_the_environment_does(rollout):
    output = rollout.call("get_user_details", {"user": "ana_ruiz_1"}).output
    assert output.startswith("Error: ") and "user" in output
