"""Behaviour rates with intervals, and tests of the candidate against the prior model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import fisher_exact
from statsmodels.stats.contingency_tables import mcnemar

from deploysim.intervals import corrected_interval, estimate, wilson

PER = 100_000
ALPHA = 0.1


#: The Wilson interval lives with the other interval estimators; kept under this name for its callers.
wilson_interval = wilson


def rate_table(scores: pd.DataFrame, validation: dict[str, ValidationCounts] | None = None) -> pd.DataFrame:
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
    corrected = [
        _corrected(row.category, int(row.count), int(row.n), validation or {})
        for row in table.itertuples(index=False)
    ]
    table["corrected_per_100k"] = [c.corrected * PER if c else None for c in corrected]
    table["corrected_low_per_100k"] = [c.low * PER if c else None for c in corrected]
    table["corrected_high_per_100k"] = [c.high * PER if c else None for c in corrected]
    return table


@dataclass(frozen=True)
class ValidationCounts:
    """An evaluator's confusion counts against human labels, from `evaluator_validation`."""

    tp: int
    fn: int
    tn: int
    fp: int


def _corrected(category: str, count: int, n: int, validation: dict[str, ValidationCounts]):
    counts = validation.get(category)
    if counts is None or n == 0:
        return None
    try:
        return corrected_interval(
            count, n, counts.tp, counts.tp + counts.fn, counts.tn, counts.tn + counts.fp
        )
    except ValueError:  # no better than chance, or no positives / negatives to measure it on
        return None


@dataclass(frozen=True)
class ChangeTest:
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


def change_test(paired: pd.DataFrame, category: str, alpha: float = ALPHA) -> ChangeTest:
    """Candidate against prior on the prefixes both answered.

    Fisher's exact test treats the arms as independent samples, as the reference method does;
    McNemar uses the pairing (same prefix, both arms), which is more powerful.
    `paired` has boolean columns `candidate` and `prior`, one row per shared prefix.
    """
    n = len(paired)
    cand = int(paired["candidate"].sum())
    prior = int(paired["prior"].sum())
    if n == 0:
        nan = float("nan")
        return ChangeTest(category, 0, 0, 0, nan, nan, 0, 0, nan, alpha)
    odds_ratio, fisher_p = fisher_exact([[cand, n - cand], [prior, n - prior]], alternative="two-sided")
    candidate_only = int((paired["candidate"] & ~paired["prior"]).sum())
    prior_only = int((~paired["candidate"] & paired["prior"]).sum())
    both = int((paired["candidate"] & paired["prior"]).sum())
    table = np.array([[both, candidate_only], [prior_only, n - both - candidate_only - prior_only]])
    mcnemar_p = float(mcnemar(table, exact=True).pvalue)
    return ChangeTest(
        category=category,
        n_paired=n,
        candidate_count=cand,
        prior_count=prior,
        fisher_odds_ratio=float(odds_ratio),
        fisher_p=float(fisher_p),
        candidate_only=candidate_only,
        prior_only=prior_only,
        mcnemar_p=mcnemar_p,
        alpha=alpha,
    )
