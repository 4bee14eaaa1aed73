"""Two arms' binary labels on the same items: Fisher's exact test and the exact McNemar test.

Fisher treats the arms as independent samples, as the reference method does; McNemar uses the pairing
(the same prefix seen by both arms), which is more powerful. Both come from scipy/statsmodels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import fisher_exact
from statsmodels.stats.contingency_tables import mcnemar

from deploysim.core.arms import Arm

NAN = float("nan")


@dataclass(frozen=True)
class PairedComparison:
    n: int
    first_count: int
    second_count: int
    #: Items where only the first / only the second arm shows the behaviour (the discordant pairs).
    first_only: int
    second_only: int
    fisher_odds_ratio: float
    #: Two-sided; NaN when there are no pairs.
    fisher_p: float
    mcnemar_p: float


def compare_paired(first: Sequence[bool], second: Sequence[bool]) -> PairedComparison:
    if len(first) != len(second):
        raise ValueError("paired labels differ in length")
    a = np.asarray(first, dtype=bool)
    b = np.asarray(second, dtype=bool)
    n = len(a)
    if n == 0:
        return PairedComparison(0, 0, 0, 0, 0, NAN, NAN, NAN)
    first_count, second_count = int(a.sum()), int(b.sum())
    odds_ratio, fisher_p = fisher_exact(
        [[first_count, n - first_count], [second_count, n - second_count]], alternative="two-sided"
    )
    first_only = int((a & ~b).sum())
    second_only = int((~a & b).sum())
    both = int((a & b).sum())
    table = np.array([[both, first_only], [second_only, n - both - first_only - second_only]])
    return PairedComparison(
        n=n,
        first_count=first_count,
        second_count=second_count,
        first_only=first_only,
        second_only=second_only,
        fisher_odds_ratio=float(odds_ratio),
        fisher_p=float(fisher_p),
        mcnemar_p=float(mcnemar(table, exact=True).pvalue),
    )


def paired_labels(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per sampled prefix both simulated arms answered, with each arm's label (one category's score
    rows). `production` is what production actually served after the same prefix: the fidelity reference."""
    subset = scores[scores["in_sample"]]
    wide = subset.pivot_table(index="conversation_id", columns="arm", values="label", aggfunc="first")
    wide = wide.reindex(columns=[Arm.CANDIDATE, Arm.PRIOR, Arm.PRODUCTION])
    paired = wide.dropna(subset=[Arm.CANDIDATE, Arm.PRIOR])
    return paired.astype("boolean").fillna(False).astype(bool)
