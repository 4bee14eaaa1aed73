"""Backtest calibration on the log scale: learn how far off past forecasts were, per category, and correct.

Forecast errors are multiplicative (a rate 2x too high is as wrong as one 2x too low), so everything here
works with log(observed / forecast). Factors are checked leave-one-release-out so that the reported
improvement is what a new release would have seen, not an in-sample fit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

#: Default prior strength, in pseudo-pairs at log factor 0: with 2 pseudo-pairs, k real pairs keep k/(k+2)
#: of their mean log ratio. One or two past releases are then mostly ignored; ten move the factor ~83%.
SHRINKAGE = 2.0

#: Groups within which a factor is fitted: each release chain's categories on their own.
GROUP = ("chain", "category")


def fit_factor(log_ratios: Sequence[float], shrinkage: float = SHRINKAGE) -> float:
    """Multiplicative calibration factor exp(sum(log(obs/forecast)) / (k + shrinkage)).

    This is the posterior mean of a normal-normal model: log ratios ~ N(mu, s^2) around a prior
    mu ~ N(0, t^2), with shrinkage = s^2 / t^2, i.e. `shrinkage` pseudo-observations at log factor 0
    (factor 1, "trust the forecast"). It is also the ridge estimate. Few pairs, little correction.
    No pairs (or shrinkage making the denominator 0) gives factor 1.
    """
    if shrinkage < 0 or not math.isfinite(shrinkage):
        raise ValueError(f"shrinkage must be a finite number >= 0, got {shrinkage}")
    values = np.asarray(log_ratios, dtype=float)
    if not np.isfinite(values).all():
        raise ValueError("log ratios must be finite")
    denominator = len(values) + shrinkage
    if denominator == 0:
        return 1.0
    return float(math.exp(values.sum() / denominator))


def _log_ratios(pairs: pd.DataFrame, forecast: str) -> pd.Series:
    for column in (forecast, "observed_per_100k"):
        values = pairs[column].to_numpy(dtype=float)
        if not (np.isfinite(values) & (values > 0)).all():
            raise ValueError(f"{column} must be positive and finite (use smoothed rates)")
    return pd.Series(
        np.log(pairs["observed_per_100k"].to_numpy(dtype=float) / pairs[forecast].to_numpy(dtype=float)),
        index=pairs.index,
    )


def leave_one_release_out(
    pairs: pd.DataFrame, forecast: str = "raw_per_100k", shrinkage: float = SHRINKAGE
) -> pd.Series:
    """Each pair's factor, fit on its chain and category's pairs from OTHER releases only.

    No release ever sees its own observed rate, so calibrated errors estimate how calibration would do on
    the next release. A group with no other release gets factor 1.
    """
    fit_factor([], shrinkage)  # validate shrinkage even when there are no pairs
    if pairs.empty:
        return pd.Series(dtype=float)
    frame = pairs[[*GROUP, "release"]].assign(log_ratio=_log_ratios(pairs, forecast))
    by_group = frame.groupby(list(GROUP), sort=False)["log_ratio"]
    by_release = frame.groupby([*GROUP, "release"], sort=False)["log_ratio"]
    others_sum = by_group.transform("sum") - by_release.transform("sum")
    others_n = by_group.transform("size") - by_release.transform("size")
    has_others = others_n > 0
    denominator = (others_n + shrinkage).where(has_others, 1.0)  # > 0 wherever it is used
    return pd.Series(np.exp(np.where(has_others, others_sum / denominator, 0.0)), index=pairs.index)


def factors(
    pairs: pd.DataFrame, chain: str, forecast: str = "raw_per_100k", shrinkage: float = SHRINKAGE
) -> dict[str, float]:
    """Per-category factors fit on every past release of one chain, for that chain's next forecast."""
    mine = pairs[pairs["chain"] == chain]
    if mine.empty:
        return {}
    log_ratio = _log_ratios(mine, forecast)
    return {
        str(category): fit_factor(log_ratio[group.index].tolist(), shrinkage)
        for category, group in mine.groupby("category", sort=True)
    }
