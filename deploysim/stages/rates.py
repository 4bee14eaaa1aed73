"""Stage 5: behaviour rates per arm with intervals, and change tests of candidate against prior."""

from __future__ import annotations

from dataclasses import asdict

import duckdb
import pandas as pd
from pydantic import BaseModel

from deploysim.intervals import bh_adjusted
from deploysim.rates import ValidationCounts, change_test, rate_table
from deploysim.store import replace_partition


class RatesSummary(BaseModel):
    rates: list[dict]
    change_tests: list[dict]


ARMS = ("candidate", "prior", "production")


def paired_labels(scores: pd.DataFrame, category: str) -> pd.DataFrame:
    """One row per sampled prefix that both simulated arms answered, with each arm's label.

    `production` is what production actually served after the same prefix: the fidelity reference.
    """
    subset = scores[(scores["category"] == category) & scores["in_sample"]]
    wide = subset.pivot_table(index="conversation_id", columns="arm", values="label", aggfunc="first")
    wide = wide.reindex(columns=list(ARMS))
    return wide.dropna(subset=["candidate", "prior"]).fillna(False).astype(bool)


def validation_counts(con: duckdb.DuckDBPyConnection, scores: pd.DataFrame) -> dict[str, ValidationCounts]:
    """Per category, the confusion counts of the same evaluator version against human labels.

    A validation of another version is stale and is not used: the correction would describe a different
    grader.
    """
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'evaluator_validation'"
    ).fetchone()
    if not exists or not exists[0] or scores.empty:
        return {}
    graded = scores[["category", "evaluator", "evaluator_version"]].drop_duplicates()
    rows = con.execute(
        """
        SELECT category, evaluator, evaluator_version, tp, fn, tn, fp FROM evaluator_validation
        WHERE subset IN ('all', dataset)
        """
    ).fetchall()
    validated = {(c, e, v): ValidationCounts(tp, fn, tn, fp) for c, e, v, tp, fn, tn, fp in rows}
    return {
        row.category: validated[key]
        for row in graded.itertuples(index=False)
        if (key := (row.category, row.evaluator, row.evaluator_version)) in validated
    }


def compute_rates(con: duckdb.DuckDBPyConnection, partition_key: str, alpha: float) -> RatesSummary:
    # A grade that failed (a judge's malformed output) has no label: it is left out, never counted as absent.
    scores = con.execute(
        "SELECT * FROM scores WHERE partition_key = ? AND label IS NOT NULL", [partition_key]
    ).df()
    table = rate_table(scores, validation_counts(con, scores))
    table.insert(0, "partition_key", partition_key)
    replace_partition(con, "behavior_rates", partition_key, table)

    tests, production_counts = [], []
    for category in sorted(scores["category"].unique()):
        paired = paired_labels(scores, category)
        tests.append(change_test(paired, category, alpha))
        production_counts.append(int(paired["production"].sum()))
    test_frame = pd.DataFrame([asdict(t) for t in tests])
    test_frame.insert(0, "partition_key", partition_key)
    test_frame["production_count"] = production_counts
    # Several categories are tested at once: Benjamini-Hochberg keeps the false discovery rate at alpha.
    test_frame["fisher_p_bh"] = bh_adjusted(list(test_frame["fisher_p"])) if len(test_frame) else []
    test_frame["mcnemar_p_bh"] = bh_adjusted(list(test_frame["mcnemar_p"])) if len(test_frame) else []
    replace_partition(con, "change_tests", partition_key, test_frame)

    overall = table[table["surface"] == "*"]
    return RatesSummary(
        rates=overall[
            [
                "arm",
                "model_version",
                "category",
                "count",
                "n",
                "rate_per_100k",
                "ci_low_per_100k",
                "ci_high_per_100k",
                "corrected_per_100k",
                "corrected_low_per_100k",
                "corrected_high_per_100k",
            ]
        ]
        .round(1)
        .to_dict("records"),
        change_tests=[{**asdict(t), "significant": t.significant} for t in tests],
    )
