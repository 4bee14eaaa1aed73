"""JSON texts are de-identified value by value: keys (argument names) are never masked."""

from __future__ import annotations

import json

import pytest

from deploysim.privacy.deidentifier import Deidentifier
from deploysim.privacy.json_values import map_units, text_units
from deploysim.privacy.placeholders import strict_deidentify_messages
from tests.support.paths import REPO


def example(conversation_id: str) -> list[dict]:
    for line in (REPO / "data" / "examples" / "production_log.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["conversation_id"] == conversation_id:
            return row["messages"]
    raise LookupError(conversation_id)


def tool_call(arguments: str) -> dict:
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": arguments}}],
    }


def test_units_are_values_in_order_and_never_keys():
    text = '{"order_id": "1042", "to": ["a\\nb", 7], "empty": "", "ok": true, "nested": {"name": "Ann"}}'
    assert text_units(text) == ["1042", "a\nb", "7", "Ann"]
    assert text_units("Where is my order?") == ["Where is my order?"]
    assert text_units('{"truncated": ') == ['{"truncated": ']


def test_values_are_written_back_in_place_and_unchanged_ones_keep_their_spelling():
    text = '{"name":  "Jos\\u00e9",\n "card": 4111111111111111, "note": "caf\\u00e9"}'
    out = map_units(text, lambda v: "<X>" if v in ("José", "4111111111111111") else v)
    assert out == '{"name":  "<X>",\n "card": "<X>", "note": "caf\\u00e9"}'
    assert json.loads(out) == {"name": "<X>", "card": "<X>", "note": "café"}


@pytest.mark.parametrize("tier", ["strict", "full"])
def test_ex_v2_tool_keeps_its_argument_names(tier):
    messages = example("ex-v2-tool")
    if tier == "strict":
        cleaned = strict_deidentify_messages(messages).messages
    else:
        cleaned = Deidentifier().deidentify_messages(messages).messages
    assert cleaned[1]["tool_calls"][0]["function"]["arguments"] == '{"order_id": "1042"}'
    assert json.loads(cleaned[2]["content"]) == {"status": "shipped", "eta": "2025-03-11"}
    assert cleaned == messages  # nothing in it is personal


def test_keys_that_look_like_names_stay_and_values_are_still_masked():
    arguments = json.dumps(
        {"customer_name": "Maria Lopez", "email": "maria.lopez@example.org", "ip": "fe80::1"}
    )
    result = Deidentifier().deidentify_messages(
        [{"role": "user", "content": "Look up Maria Lopez"}, tool_call(arguments)]
    )
    masked = json.loads(result.messages[1]["tool_calls"][0]["function"]["arguments"])
    assert masked == {"customer_name": "<PERSON_1>", "email": "<EMAIL_ADDRESS_1>", "ip": "<IP_ADDRESS_1>"}


def test_an_escaped_newline_no_longer_hides_a_phone_number():
    content = json.dumps({"note": "Call back on\n212-555-0199 after five"})
    cleaned = strict_deidentify_messages([{"role": "tool", "tool_call_id": "c1", "content": content}])
    assert json.loads(cleaned.messages[0]["content"]) == {"note": "Call back on\n<PHONE_NUMBER_1> after five"}
