from datetime import UTC

import pytest
from pydantic import ValidationError

from deploysim.core.conversation import ContractLimits, Conversation, contract_problem, role_sequence
from tests.support.builders import conversation


def test_valid_single_turn_conversation_is_accepted():
    parsed = Conversation.model_validate(conversation("c1", "v1", "hi", "hello"))
    assert role_sequence(parsed.messages) == "ua"


def test_naive_timestamp_is_taken_as_utc():
    parsed = Conversation.model_validate(
        conversation("c1", "v1", "hi", "hello", started_at="2024-02-01T10:00:00")
    )
    assert parsed.started_at.tzinfo == UTC


def test_tool_round_in_openai_format_is_accepted():
    row = conversation("c1", "v1", "book it", "done")
    row["messages"] = [
        {"role": "system", "content": "You book flights."},
        {"role": "user", "content": "Book flight 12"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "book", "arguments": '{"flight": 12}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"status": "ok"}'},
        {"role": "assistant", "content": "Booked.", "refusal": None},
    ]
    row["tools"] = [{"type": "function", "function": {"name": "book", "parameters": {"type": "object"}}}]
    parsed = Conversation.model_validate(row)
    assert role_sequence(parsed.messages) == "sucta"


@pytest.mark.parametrize(
    ("messages", "fragment"),
    [
        ([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], "role order"),
        ([{"role": "assistant", "content": "a"}, {"role": "user", "content": "b"}], "role order"),
        ([{"role": "user", "content": "  "}, {"role": "assistant", "content": "b"}], "empty content"),
        ([{"role": "user", "content": "a"}, {"role": "assistant", "content": ""}], "neither content"),
        ([{"role": "user", "content": "a"}, {"role": "robot", "content": "b"}], "role"),
        (
            [
                {"role": "user", "content": "a"},
                {
                    "role": "assistant",
                    "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                    ],
                },
                {"role": "tool", "tool_call_id": "other", "content": "x"},
                {"role": "assistant", "content": "b"},
            ],
            "unknown tool_call_id",
        ),
    ],
)
def test_invalid_dialogues_are_rejected_with_a_reason(messages, fragment):
    row = conversation("c1", "v1", "x", "y")
    row["messages"] = messages
    with pytest.raises(ValidationError, match=fragment):
        Conversation.model_validate(row)


def test_missing_consent_flag_is_an_error_not_a_default():
    row = conversation("c1", "v1", "x", "y")
    del row["consent_model_improvement"]
    with pytest.raises(ValidationError, match="consent_model_improvement"):
        Conversation.model_validate(row)


@pytest.mark.parametrize(
    ("started_at", "problem"),
    [
        ("2024-02-01T10:00:00Z", None),
        ("2000-01-01T00:00:00Z", None),
        ("2100-12-31T23:59:59Z", None),
        ("1999-12-31T23:59:59Z", "started_at: year 1999 is outside the accepted 2000..2100"),
        ("0001-01-01T00:00:00+05:00", "started_at: year 1 is outside the accepted 2000..2100"),
        ("9999-12-31T23:59:59-05:00", "started_at: year 9999 is outside the accepted 2000..2100"),
    ],
)
def test_started_at_must_lie_within_the_accepted_years(started_at, problem):
    parsed = Conversation.model_validate(conversation("c1", "v1", "hi", "ok", started_at=started_at))
    assert contract_problem(parsed, ContractLimits()) == problem


def test_text_and_conversation_size_limits_name_the_sizes():
    long_text = Conversation.model_validate(conversation("c1", "v1", "x" * 100_001, "ok"))
    assert contract_problem(long_text, ContractLimits()) == (
        "messages.0: a text of 100,001 characters exceeds the 100,000 limit"
    )
    row = conversation("c1", "v1", "x" * 90_000, "y" * 90_000)
    row["messages"] += [{"role": "user", "content": "z" * 30_000}, {"role": "assistant", "content": "ok"}]
    large = Conversation.model_validate(row)
    assert contract_problem(large, ContractLimits()) == (
        "too large for de-identification (210,002 characters > 200,000)"
    )
    assert contract_problem(large, ContractLimits(max_conversation_chars=250_000)) is None


def test_text_that_cannot_be_stored_is_a_contract_problem():
    surrogate = Conversation.model_validate(conversation("c1", "v1", "bad \ud800", "ok"))
    assert contract_problem(surrogate, ContractLimits()) == (
        "messages.0: not valid Unicode (lone surrogate U+D800)"
    )
    nan_tools = Conversation.model_validate(conversation("c1", "v1", "hi", "ok", tools=[{"x": float("inf")}]))
    assert contract_problem(nan_tools, ContractLimits()).startswith("tools: not valid JSON")


def test_limits_must_be_consistent():
    with pytest.raises(ValueError, match="inconsistent"):
        ContractLimits(min_year=2100, max_year=2000)
