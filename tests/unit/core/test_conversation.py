from datetime import UTC

import pytest
from pydantic import ValidationError

from deploysim.core.conversation import Conversation, role_sequence
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
