import duckdb
import pandas as pd
import pytest

from deploysim.core.arms import Arm
from deploysim.stats.corrections import AuditCounts, ValidationCounts, correct, validation_counts
from deploysim.store.tables import ensure_schema, replace_partition

COLUMNS = ["evaluator", "evaluator_version", "category", "dataset", "subset", "fold_kind", "scope"]


def _validation(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[*COLUMNS, "weak_labels", "tp", "fn", "tn", "fp"])
    frame["n"] = frame[["tp", "fn", "tn", "fp"]].sum(axis=1)
    for metric in ("agreement", "precision", "sensitivity", "specificity"):
        frame[metric] = frame[f"{metric}_low"] = frame[f"{metric}_high"] = 0.5
    return frame.assign(partition_key=None)


def test_only_held_out_human_labels_of_the_same_version_correct_the_rates():
    con = duckdb.connect()
    ensure_schema(con)
    held = (
        "refusal",
        "3",
        "refusal",
        "*",
        "held-out models, human labels",
        "pooled",
        "held_out",
        False,
        80,
        20,
        90,
        10,
    )
    rows = [
        held,
        (
            "refusal",
            "3",
            "refusal",
            "*",
            "in-sample models, human labels",
            "pooled",
            "in_sample",
            False,
            9,
            1,
            9,
            1,
        ),
        (
            "refusal",
            "3",
            "refusal",
            "*",
            "held-out models, weak labels",
            "pooled",
            "held_out",
            True,
            5,
            5,
            5,
            5,
        ),
        (
            "refusal",
            "2",
            "refusal",
            "*",
            "held-out models, human labels",
            "pooled",
            "held_out",
            False,
            1,
            1,
            1,
            1,
        ),
    ]
    replace_partition(con, "evaluator_validation", None, _validation(rows))
    scores = pd.DataFrame({"category": ["refusal"], "evaluator": ["refusal"], "evaluator_version": ["3"]})
    assert validation_counts(con, scores) == {"refusal": ValidationCounts(tp=80, fn=20, tn=90, fp=10)}


def test_the_candidates_own_audit_is_preferred_to_the_validation():
    validation = {"refusal": ValidationCounts(tp=80, fn=20, tn=90, fp=10)}
    audit = AuditCounts(
        audit_id="a1",
        evaluator_version="3",
        flagged_true=9,
        flagged_audited=10,
        unflagged_true=1,
        unflagged_audited=10,
    )
    estimate, source = correct(Arm.CANDIDATE, "refusal", "3", 50, 1000, validation, {"refusal": audit})
    assert source == "audit:a1" and estimate is not None
    assert estimate.corrected == pytest.approx(0.05 * 0.9 + 0.95 * 0.1)
    # The audit sampled the candidate only, and only the version it audited.
    assert correct(Arm.PRIOR, "refusal", "3", 50, 1000, validation, {"refusal": audit})[1] == "validation"
    assert correct(Arm.CANDIDATE, "refusal", "4", 50, 1000, validation, {"refusal": audit})[1] == "validation"
    assert correct(Arm.CANDIDATE, "other", "3", 50, 1000, validation, {"refusal": audit}) == (None, None)
