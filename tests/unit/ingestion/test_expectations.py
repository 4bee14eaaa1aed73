import pandas as pd

from deploysim.ingestion.expectations import CONVERSATION_COLUMNS, validate_conversations


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
