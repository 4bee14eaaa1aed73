"""Backtest calibration on the log scale: learn how far off past forecasts were, per category, and correct.

Forecast errors are multiplicative (a rate 2x too high is as wrong as one 2x too low), so everything here
works with log(observed / forecast). Factors are checked leave-one-release-out so that the reported
improvement is what a new release would have seen, not an in-sample fit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from deploysim.stats.forecasts import fold_error

#: Default prior strength, in pseudo-pairs at log factor 0: with 2 pseudo-pairs, k real pairs keep k/(k+2)
#: of their mean log ratio. One or two past releases are then mostly ignored; ten move the factor ~83%.
SHRINKAGE = 2.0

REQUIRED = ("release", "category", "forecast_per_100k", "observed_per_100k")


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


def _validated(pairs: pd.DataFrame) -> pd.DataFrame:
    missing = [column for column in REQUIRED if column not in pairs.columns]
    if missing:
        raise ValueError(f"backtest pairs are missing columns {missing}")
    for column in ("forecast_per_100k", "observed_per_100k"):
        values = pairs[column].to_numpy(dtype=float)
        if not (np.isfinite(values) & (values > 0)).all():
            raise ValueError(f"{column} must be positive and finite (use smoothed rates)")
    return pairs


def _log_ratios(pairs: pd.DataFrame) -> pd.Series:
    return pd.Series(
        np.log(pairs["observed_per_100k"].to_numpy(dtype=float) / pairs["forecast_per_100k"].to_numpy(float)),
        index=pairs.index,
    )


def leave_one_release_out(pairs: pd.DataFrame, shrinkage: float = SHRINKAGE) -> pd.DataFrame:
    """Each pair calibrated with a factor fit on its category's pairs from OTHER releases only.

    No release ever sees its own observed rate, so the calibrated fold errors estimate how calibration
    would do on the next release. A category with no other release gets factor 1. Adds the columns
    calibration_factor, calibrated_per_100k and calibrated_fold_error (the input is not modified).
    """
    _validated(pairs)
    fit_factor([], shrinkage)  # validate shrinkage even when there are no pairs
    out = pairs.copy()
    log_ratio = _log_ratios(out)
    frame = pd.DataFrame({"category": out["category"], "release": out["release"], "log_ratio": log_ratio})
    by_category = frame.groupby("category", sort=False)["log_ratio"]
    by_release = frame.groupby(["category", "release"], sort=False)["log_ratio"]
    others_sum = by_category.transform("sum") - by_release.transform("sum")
    others_n = by_category.transform("size") - by_release.transform("size")
    has_others = others_n > 0
    denominator = (others_n + shrinkage).where(has_others, 1.0)  # > 0 wherever it is used
    log_factor = np.where(has_others, others_sum / denominator, 0.0)
    out["calibration_factor"] = np.exp(log_factor)
    out["calibrated_per_100k"] = out["forecast_per_100k"] * out["calibration_factor"]
    out["calibrated_fold_error"] = fold_error(out["calibrated_per_100k"], out["observed_per_100k"])
    return out


def factors(pairs: pd.DataFrame, shrinkage: float = SHRINKAGE) -> dict[Any, float]:
    """Per-category factors fit on every release, to multiply into the candidate's forecast."""
    _validated(pairs)
    log_ratio = _log_ratios(pairs)
    return {
        category: fit_factor(log_ratio[group.index].tolist(), shrinkage)
        for category, group in pairs.groupby("category", sort=True)
    }


def _errors(fold: np.ndarray) -> tuple[float | None, float | None, float | None]:
    fold = fold[np.isfinite(fold)]
    if fold.size == 0:
        return None, None, None
    return float(np.median(fold)), float((fold <= 2.0).mean()), float((fold <= 10.0).mean())


def summary(pairs_with_calibration: pd.DataFrame) -> dict[str, Any]:
    """Median fold error and shares within 2x / 10x: raw forecast, LOO-calibrated forecast, persistence.

    Persistence (the prior model's observed rate as the forecast) is the baseline any forecast must beat;
    it is None when prior_observed_per_100k is absent. `improvement` is raw median / calibrated median;
    `calibration_beats_raw` is True when the calibrated median fold error is strictly lower.
    """
    pairs = pairs_with_calibration
    observed = pairs["observed_per_100k"].to_numpy(dtype=float)
    result: dict[str, Any] = {"pairs": len(pairs)}
    estimates = {
        "raw": pairs["forecast_per_100k"],
        "calibrated": pairs["calibrated_per_100k"],
        "persistence": pairs.get("prior_observed_per_100k"),
    }
    for name, estimate in estimates.items():
        if estimate is None:
            fold = np.array([], dtype=float)
        else:
            fold = np.asarray(fold_error(estimate.to_numpy(dtype=float), observed), dtype=float)
        median, within_2x, within_10x = _errors(fold)
        result[f"median_fold_error_{name}"] = median
        result[f"share_within_2x_{name}"] = within_2x
        result[f"share_within_10x_{name}"] = within_10x
    raw, calibrated = result["median_fold_error_raw"], result["median_fold_error_calibrated"]
    result["improvement"] = raw / calibrated if raw is not None and calibrated is not None else None
    result["calibration_beats_raw"] = bool(raw is not None and calibrated is not None and calibrated < raw)
    return result
