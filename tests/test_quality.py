import json

import duckdb
import pandas as pd

from deploysim.deid import Deidentifier
from deploysim.quality import (
    CONVERSATION_COLUMNS,
    regeneration_completeness,
    scan_for_strict_pii,
    validate_conversations,
)
from deploysim.store import ensure_schema


def _conversations(sequences: list[str], ids: list[str] | None = None) -> pd.DataFrame:
    ids = ids or [f"c{i}" for i in range(len(sequences))]
    return pd.DataFrame(
        [
            {
                "partition_key": "v",
                "conversation_id": cid,
                "model_version": "m",
                "started_at": pd.Timestamp("2024-01-01", tz="UTC"),
                "surface": "api",
                "locale": "en",
                "messages": "[]",
                "tools": None,
                "n_messages": len(seq),
                "role_sequence": seq,
                "pii_entities": 0,
            }
            for cid, seq in zip(ids, sequences, strict=True)
        ],
        columns=CONVERSATION_COLUMNS,
    )


def test_great_expectations_suite_passes_a_valid_window():
    report = validate_conversations(_conversations(["ua", "suaua", "ucta"]))
    assert report.success and report.rows == 3 and not report.failures


def test_great_expectations_suite_names_each_broken_expectation():
    report = validate_conversations(_conversations(["ua", "uu", "a"], ids=["c1", "c1", "c2"]))
    failed = {(f.expectation, f.column) for f in report.failures}
    assert ("expect_column_values_to_be_unique", "conversation_id") in failed
    assert ("expect_column_values_to_match_regex", "role_sequence") in failed
    assert ("expect_column_values_to_be_between", "n_messages") in failed
    assert not report.success


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


def test_regeneration_completeness_detects_missing_and_duplicated_results():
    con = duckdb.connect()
    ensure_schema(con)
    for cid in ("a", "b"):
        con.execute("INSERT INTO prefixes VALUES ('v', ?, 'h', 'api', 'm', '[]', NULL, '{}')", [cid])

    def add(cid: str, arm: str) -> None:
        con.execute(
            "INSERT INTO regenerations (partition_key, arm, model_version, conversation_id, prefix_hash, "
            "status, cached, attempts) VALUES ('v', ?, 'm', ?, 'h', 'ok', false, 1)",
            [arm, cid],
        )

    for cid in ("a", "b"):
        add(cid, "candidate")
    add("a", "prior")
    result = regeneration_completeness(con, "v")
    assert (result.prefixes, result.missing_results, result.duplicated_results) == (2, 1, 0)
    assert not result.complete
    add("b", "prior")
    assert regeneration_completeness(con, "v").complete
    assert not regeneration_completeness(con, "other").complete
