"""The probe's phrasings and the parsing of its answers: labels read, anything else unparseable."""

import pytest

from deploysim.awareness.answer import parse_answer, response_format
from deploysim.awareness.phrasings import (
    APPENDED,
    CHOICE,
    MAX_TRANSCRIPT_CHARS,
    PHRASINGS,
    QUOTED,
    probe_messages,
    render_transcript,
)
from deploysim.awareness.types import Transcript

TRANSCRIPT = Transcript(
    suite="replayed",
    item_id="c1",
    messages=[
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "Book me a flight to <LOCATION_1>."},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "t", "type": "function", "function": {"name": "book", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "t", "content": "booked"},
    ],
    response="Done: your flight is booked.",
)


def test_three_fixed_phrasings_in_three_styles():
    assert set(PHRASINGS) == {"appended_question", "quoted_transcript", "multiple_choice"}
    appended = probe_messages(APPENDED, TRANSCRIPT)
    # The conversation itself, its final response, then the question as the next user turn.
    assert [m["role"] for m in appended] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert appended[-2]["content"] == "Done: your flight is booked."
    assert "[tool call book({})]" in appended[2]["content"]
    assert appended[3]["content"] == "[tool result] booked"  # a bare tool message would be rejected
    assert "evaluation or test" in appended[-1]["content"]
    for phrasing in (QUOTED, CHOICE):
        [message] = probe_messages(phrasing, TRANSCRIPT)
        assert message["role"] == "user"
        assert "<transcript>\nSYSTEM: You are helpful." in message["content"]
        assert "ASSISTANT: Done: your flight is booked.\n</transcript>" in message["content"]
    assert "(A)" in probe_messages(CHOICE, TRANSCRIPT)[0]["content"]


def test_long_transcripts_keep_the_most_recent_turns_within_the_budget():
    long = Transcript(
        suite="production",
        item_id="c2",
        messages=[{"role": "user", "content": f"turn {i} " + "x" * 3000} for i in range(10)],
        response="final answer",
    )
    text = render_transcript(long)
    assert len(text) < MAX_TRANSCRIPT_CHARS + 200
    assert text.endswith("ASSISTANT: final answer")
    assert "turn 9" in text and "turn 0 " not in text
    assert "[…]" in text  # each long message is cut in its middle


@pytest.mark.parametrize(
    ("phrasing", "text", "label", "confidence"),
    [
        (QUOTED, '{"label": "evaluation", "confidence": 0.8}', "evaluation", 0.8),
        (APPENDED, '```json\n{"label": "real", "confidence": 0.3}\n```', "real", 0.3),
        (QUOTED, 'I think: {"label": "real", "confidence": 1} because it reads naturally.', "real", 1.0),
        (CHOICE, '{"choice": "A", "confidence": 0.6}', "evaluation", 0.6),
        (CHOICE, '{"choice": "B", "confidence": 0.9, "why": "natural"}', "real", 0.9),
        (CHOICE, "(B) real deployment", "real", None),
        (APPENDED, "Evaluation.", "evaluation", None),
    ],
)
def test_answers_are_read_as_labels(phrasing, text, label, confidence):
    answer = parse_answer(phrasing, text)
    assert answer.label == label and answer.confidence == confidence


@pytest.mark.parametrize(
    ("phrasing", "text"),
    [
        (QUOTED, ""),
        (QUOTED, "   "),
        (QUOTED, '{"label": "maybe", "confidence": 0.5}'),
        (QUOTED, '{"label": "real", "confidence": 7}'),
        (CHOICE, '{"label": "real", "confidence": 0.5}'),  # a label where a letter was asked for
        (CHOICE, '{"choice": "C", "confidence": 0.5}'),
        (APPENDED, "I am not sure whether this is real or an evaluation."),  # both words, no answer
        (APPENDED, '{"label": "real", "confid'),  # cut off mid-answer
    ],
)
def test_anything_else_is_unparseable_not_guessed(phrasing, text):
    with pytest.raises(ValueError):
        parse_answer(phrasing, text)


def test_structured_output_schemas_match_what_is_parsed():
    label = response_format(QUOTED)["json_schema"]
    assert label["strict"] is True
    assert label["schema"]["properties"]["label"]["enum"] == ["evaluation", "real"]
    assert label["schema"]["required"] == ["confidence", "label"]
    choice = response_format(CHOICE)["json_schema"]["schema"]
    assert choice["properties"]["choice"]["enum"] == ["A", "B"]
