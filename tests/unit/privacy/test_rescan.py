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
