import json

from deploysim.privacy.deidentifier import Deidentifier
from deploysim.privacy.rescan import scan_for_strict_pii


def test_pii_rescan_flags_conversations_by_id_and_type_only():
    rows = [
        ("clean", json.dumps([{"role": "user", "content": "Write to <EMAIL_ADDRESS_1> please"}])),
        (
            "leaky",
            json.dumps(
                [
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "id": "1",
                                "type": "function",
                                "function": {"name": "send", "arguments": '{"to": "leak@example.com"}'},
                            }
                        ],
                    }
                ]
            ),
        ),
    ]
    scan = scan_for_strict_pii(rows, Deidentifier())
    assert scan.flagged_ids == ["leaky"]
    assert scan.hits_by_type == {"EMAIL_ADDRESS": 1}
    assert "leak@example.com" not in scan.model_dump_json()


def _row(conversation_id: str, content: str) -> dict:
    return {
        "conversation_id": conversation_id,
        "messages": json.dumps([{"role": "user", "content": content}]),
    }


def test_residual_pii_quarantines_only_its_conversation_and_the_rest_goes_on():
    from deploysim.privacy.rescan import quarantine_residual_pii, residual_reason

    rows = [
        _row("code", "Every sixth column: `solution[:,::6]`, styled by tailwindcss@2.2.19/dist."),
        _row("leaky", "write to leak@example.com, I am at 203.0.113.7"),
        _row("clean", "Write to <EMAIL_ADDRESS_1> please"),
    ]
    clean, quarantined = quarantine_residual_pii(rows, Deidentifier(ner=False))
    assert [row["conversation_id"] for row in clean] == ["code", "clean"]
    assert clean[0] is rows[0]
    assert quarantined == [("leaky", ["EMAIL_ADDRESS", "IP_ADDRESS"])]
    assert residual_reason(quarantined[0][1]) == (
        "strict PII remains after de-identification: EMAIL_ADDRESS, IP_ADDRESS"
    )


def test_quarantine_defaults_to_the_pattern_rescan_and_takes_message_lists():
    from deploysim.privacy.rescan import quarantine_residual_pii

    rows = [{"conversation_id": "x", "messages": [{"role": "user", "content": "ip 203.0.113.7"}]}]
    assert quarantine_residual_pii(rows) == ([], [("x", ["IP_ADDRESS"])])


def test_strict_pii_in_a_json_key_is_never_masked_so_the_rescan_stops_it():
    from deploysim.privacy.placeholders import strict_deidentify_messages
    from deploysim.privacy.rescan import quarantine_residual_pii

    content = json.dumps({"leak@example.com": {"orders": 2}})
    cleaned = strict_deidentify_messages([{"role": "tool", "tool_call_id": "c", "content": content}])
    assert cleaned.messages[0]["content"] == content
    rows = [{"conversation_id": "k", "messages": json.dumps(cleaned.messages)}]
    assert quarantine_residual_pii(rows)[1] == [("k", ["EMAIL_ADDRESS"])]
