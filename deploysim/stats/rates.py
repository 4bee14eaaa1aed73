"""Stage 5, rates: each behaviour's rate per arm with intervals, and change tests of candidate against prior.

scipy and statsmodels compute every distribution; this module only shapes the tables.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import duckdb
import pandas as pd
from pydantic import BaseModel

from deploysim.core.arms import Arm
from deploysim.stats.corrections import (
    AuditCounts,
    ValidationCounts,
    correct,
    latest_audit_counts,
    validation_counts,
)
from deploysim.stats.forecasts import forecast_table
from deploysim.stats.intervals import bh_adjusted, estimate
from deploysim.stats.paired import compare_paired, paired_labels
from deploysim.store.tables import replace_partition

PER = 100_000


def rate_table(
    scores: pd.DataFrame,
    validation: dict[str, ValidationCounts] | None = None,
    audits: dict[str, AuditCounts] | None = None,
) -> pd.DataFrame:
    """Per (arm, model, surface, evaluator, category): count, n and rate per 100k with 95% intervals.

    Wilson and Jeffreys intervals for every row; for a zero count, the rule-of-three upper bound. With
    the evaluator's validation counts for a category, also the Rogan-Gladen prevalence correction with
    an interval widened for the uncertainty in its sensitivity and specificity.
    `scores` has one row per graded response and category, with a boolean `label`.
    Surface "*" aggregates every surface.
    """
    keys = ["arm", "model_version", "evaluator", "evaluator_version", "category"]
    overall = scores.assign(surface="*")
    grouped = pd.concat([scores, overall]).groupby([*keys, "surface"], as_index=False)
    table = grouped.agg(count=("label", "sum"), n=("label", "size"))
    table["count"] = table["count"].astype(int)
    estimates = [estimate(int(c), int(n)) for c, n in zip(table["count"], table["n"], strict=True)]
    table["rate_per_100k"] = table["count"] / table["n"] * PER
    table["ci_low_per_100k"] = [e.wilson_low * PER for e in estimates]
    table["ci_high_per_100k"] = [e.wilson_high * PER for e in estimates]
    table["jeffreys_low_per_100k"] = [e.jeffreys_low * PER for e in estimates]
    table["jeffreys_high_per_100k"] = [e.jeffreys_high * PER for e in estimates]
    table["rule_of_three_upper_per_100k"] = [
        e.upper_rule_of_three * PER if e.upper_rule_of_three is not None else None for e in estimates
    ]
    corrections = [
        correct(row.arm, row.category, row.evaluator_version, int(row.count), int(row.n), validation, audits)
        for row in table.itertuples(index=False)
    ]
    table["corrected_per_100k"] = [c.corrected * PER if c else None for c, _ in corrections]
    table["corrected_low_per_100k"] = [c.low * PER if c else None for c, _ in corrections]
    table["corrected_high_per_100k"] = [c.high * PER if c else None for c, _ in corrections]
    table["correction_source"] = [source for _, source in corrections]
    return table


@dataclass(frozen=True)
class ChangeTest:
    """Candidate against prior on the prefixes both answered (see `deploysim.stats.paired`)."""

    category: str
    n_paired: int
    candidate_count: int
    prior_count: int
    fisher_odds_ratio: float
    fisher_p: float
    #: Prefixes where only the candidate / only the prior shows the behaviour.
    candidate_only: int
    prior_only: int
    mcnemar_p: float
    alpha: float

    @property
    def significant(self) -> bool:
        """The reference method's test: two-sided Fisher exact at alpha."""
        return bool(self.fisher_p < self.alpha)

    @property
    def paired_significant(self) -> bool:
        return bool(self.mcnemar_p < self.alpha)


def change_test(paired: pd.DataFrame, category: str, alpha: float) -> ChangeTest:
    """`paired` has boolean columns `candidate` and `prior`, one row per shared prefix."""
    result = compare_paired(paired[Arm.CANDIDATE].tolist(), paired[Arm.PRIOR].tolist())
    return ChangeTest(
        category=category,
        n_paired=result.n,
        candidate_count=result.first_count,
        prior_count=result.second_count,
        fisher_odds_ratio=result.fisher_odds_ratio,
        fisher_p=result.fisher_p,
        candidate_only=result.first_only,
        prior_only=result.second_only,
        mcnemar_p=result.mcnemar_p,
        alpha=alpha,
    )


class RatesSummary(BaseModel):
    rates: list[dict]
    change_tests: list[dict]


def compute_rates(con: duckdb.DuckDBPyConnection, partition_key: str, alpha: float) -> RatesSummary:
    # A grade that failed (a judge's malformed output) has no label: it is left out, never counted as absent.
    scores = con.execute(
        "SELECT * FROM scores WHERE partition_key = ? AND label IS NOT NULL", [partition_key]
    ).df()
    table = rate_table(scores, validation_counts(con, scores), latest_audit_counts(con, partition_key))
    table.insert(0, "partition_key", partition_key)
    replace_partition(con, "behavior_rates", partition_key, table)

    tests, production_counts = [], []
    for category in sorted(scores["category"].unique()):
        paired = paired_labels(scores[scores["category"] == category])
        tests.append(change_test(paired, category, alpha))
        production_counts.append(int(paired[Arm.PRODUCTION].sum()))
    test_frame = pd.DataFrame([asdict(t) for t in tests])
    test_frame.insert(0, "partition_key", partition_key)
    test_frame["production_count"] = production_counts
    # Several categories are tested at once: Benjamini-Hochberg keeps the false discovery rate at alpha.
    test_frame["fisher_p_bh"] = bh_adjusted(list(test_frame["fisher_p"])) if len(test_frame) else []
    test_frame["mcnemar_p_bh"] = bh_adjusted(list(test_frame["mcnemar_p"])) if len(test_frame) else []
    replace_partition(con, "change_tests", partition_key, test_frame)
    forecasts = forecast_table(scores)
    forecasts.insert(0, "partition_key", partition_key)
    replace_partition(con, "forecasts", partition_key, forecasts)

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
