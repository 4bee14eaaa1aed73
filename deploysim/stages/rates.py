"""Stage 5: behaviour rates per arm with intervals, and change tests of candidate against prior."""

from __future__ import annotations

from dataclasses import asdict

import duckdb
import pandas as pd
from pydantic import BaseModel

from deploysim.rates import change_test, rate_table
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


def compute_rates(con: duckdb.DuckDBPyConnection, partition_key: str, alpha: float) -> RatesSummary:
    # A grade that failed (a judge's malformed output) has no label: it is left out, never counted as absent.
    scores = con.execute(
        "SELECT * FROM scores WHERE partition_key = ? AND label IS NOT NULL", [partition_key]
    ).df()
    table = rate_table(scores)
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
            ]
        ]
        .round(1)
        .to_dict("records"),
        change_tests=[{**asdict(t), "significant": t.significant} for t in tests],
    )
