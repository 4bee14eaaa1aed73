"""Backtest: for each past release, its pre-release forecast against what production then showed."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

#: A category "really moved" when its observed rate changed by at least this factor between releases.
MOVED_FOLD = 1.5


def smoothed_rate(count: float, n: float) -> float:
    """Rates are smoothed by half a count so a zero count still gives a finite fold error."""
    return (count + 0.5) / (n + 1.0)


def fold_error(estimate: float, observed: float) -> float:
    """max(est/obs, obs/est); both arguments must be positive (use smoothed rates)."""
    return max(estimate / observed, observed / estimate)


def _direction(new: float, old: float) -> int:
    if math.isclose(new, old, rel_tol=1e-12):
        return 0
    return 1 if new > old else -1


PAIR_COLUMNS = [
    "release",
    "prior_version",
    "surface",
    "category",
    "forecast_per_100k",
    "observed_per_100k",
    "prior_observed_per_100k",
    "prior_simulated_per_100k",
    "forecast_n",
    "observed_n",
    "fold_error",
    "persistence_fold_error",
    "predicted_direction",
    "observed_direction",
    "moved",
]


def backtest_pairs(rates: pd.DataFrame, release_order: list[str], min_n: int = 20) -> pd.DataFrame:
    """One row per (release, surface, category) whose forecast and observed rate both exist.

    `rates` holds behavior_rates rows of several partitions: columns partition_key, arm, model_version,
    surface, category, count, n. For partition V (prior P): the `candidate` arm is V's forecast, the
    `prior` arm is P simulated on the same prefixes, and the `production` arm is P's observed rate.
    V's own observed rate is the `production` arm of the partition whose prior is V.
    Per-surface rows only: an aggregate over surfaces mixes traffic the simulation may not cover.
    """
    per_surface = rates[rates["surface"] != "*"]
    index_cols = ["partition_key", "arm", "surface", "category"]
    table = per_surface.set_index(index_cols)[["model_version", "count", "n"]]
    observed = per_surface[per_surface["arm"] == "production"]
    observed_by_model = {
        (row.model_version, row.surface, row.category): row for row in observed.itertuples(index=False)
    }
    rows = []
    for release in release_order:
        forecasts = per_surface[
            (per_surface["partition_key"] == release) & (per_surface["arm"] == "candidate")
        ]
        for forecast in forecasts.itertuples(index=False):
            seen = observed_by_model.get((release, forecast.surface, forecast.category))
            key = (release, "production", forecast.surface, forecast.category)
            sim_prior_key = (release, "prior", forecast.surface, forecast.category)
            if seen is None or key not in table.index or sim_prior_key not in table.index:
                continue
            prior_seen = table.loc[key]
            sim_prior = table.loc[sim_prior_key]
            if min(forecast.n, seen.n, prior_seen["n"], sim_prior["n"]) < min_n:
                continue
            est = smoothed_rate(forecast.count, forecast.n)
            obs = smoothed_rate(seen.count, seen.n)
            obs_prior = smoothed_rate(prior_seen["count"], prior_seen["n"])
            est_prior = smoothed_rate(sim_prior["count"], sim_prior["n"])
            rows.append(
                {
                    "release": release,
                    "prior_version": prior_seen["model_version"],
                    "surface": forecast.surface,
                    "category": forecast.category,
                    "forecast_per_100k": est * 1e5,
                    "observed_per_100k": obs * 1e5,
                    "prior_observed_per_100k": obs_prior * 1e5,
                    "prior_simulated_per_100k": est_prior * 1e5,
                    "forecast_n": int(forecast.n),
                    "observed_n": int(seen.n),
                    "fold_error": fold_error(est, obs),
                    "persistence_fold_error": fold_error(obs_prior, obs),
                    "predicted_direction": _direction(est, est_prior),
                    "observed_direction": _direction(obs, obs_prior),
                    "moved": fold_error(obs, obs_prior) >= MOVED_FOLD,
                }
            )
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)


def summarize(pairs: pd.DataFrame) -> dict[str, float | int | None]:
    """Median fold error, share within 2x, and directional accuracy on categories that really moved."""
    if pairs.empty:
        return {
            "pairs": 0,
            "median_fold_error": None,
            "share_within_2x": None,
            "moved_pairs": 0,
            "directional_accuracy": None,
            "persistence_median_fold_error": None,
        }
    moved = pairs[pairs["moved"]]
    hits = int((moved["predicted_direction"] == moved["observed_direction"]).sum())
    return {
        "pairs": len(pairs),
        "median_fold_error": float(np.median(pairs["fold_error"])),
        "share_within_2x": float((pairs["fold_error"] <= 2.0).mean()),
        "moved_pairs": len(moved),
        "directional_accuracy": hits / len(moved) if len(moved) else None,
        "persistence_median_fold_error": float(np.median(pairs["persistence_fold_error"])),
    }
