"""Stage 6, backtest: for each past release, its pre-release forecast against what production then showed."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
from pydantic import BaseModel

from deploysim.core.arms import Arm
from deploysim.stats import calibration
from deploysim.stats.forecasts import fold_error, smoothed_rate
from deploysim.store.tables import replace_partition

#: A category "really moved" when its observed rate changed by at least this factor between releases.
MOVED_FOLD = 1.5


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
CALIBRATION_COLUMNS = ["calibration_factor", "calibrated_per_100k", "calibrated_fold_error"]


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
    observed = per_surface[per_surface["arm"] == Arm.PRODUCTION]
    observed_by_model = {
        (row.model_version, row.surface, row.category): row for row in observed.itertuples(index=False)
    }
    rows = []
    for release in release_order:
        forecasts = per_surface[
            (per_surface["partition_key"] == release) & (per_surface["arm"] == Arm.CANDIDATE)
        ]
        for forecast in forecasts.itertuples(index=False):
            seen = observed_by_model.get((release, forecast.surface, forecast.category))
            key = (release, Arm.PRODUCTION, forecast.surface, forecast.category)
            sim_prior_key = (release, Arm.PRIOR, forecast.surface, forecast.category)
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


def with_calibration(pairs: pd.DataFrame, shrinkage: float = calibration.SHRINKAGE) -> pd.DataFrame:
    """Each pair's forecast calibrated leave-one-release-out: a per-category factor on the log scale,
    shrunk towards 1 and fit on the other releases only, so the gain is what a new release would see."""
    if pairs.empty:
        return pairs.reindex(columns=[*PAIR_COLUMNS, *CALIBRATION_COLUMNS])
    return calibration.leave_one_release_out(pairs, shrinkage)


def summarize(pairs: pd.DataFrame) -> dict[str, float | int | bool | None]:
    """Median fold error, shares within 2x and 10x, and directional accuracy on rates that really moved,
    for the raw forecast, its leave-one-release-out calibration and the persistence baseline."""
    moved = pairs[pairs["moved"].astype(bool)] if len(pairs) else pairs
    hits = int((moved["predicted_direction"] == moved["observed_direction"]).sum()) if len(moved) else 0
    result: dict[str, float | int | bool | None] = {
        "pairs": len(pairs),
        "median_fold_error": None,
        "share_within_2x": None,
        "share_within_10x": None,
        "moved_pairs": len(moved),
        "directional_accuracy": hits / len(moved) if len(moved) else None,
        "persistence_median_fold_error": None,
        "persistence_share_within_2x": None,
        "persistence_share_within_10x": None,
        "persistence_directional_accuracy": None,
        "calibrated_median_fold_error": None,
        "calibrated_share_within_2x": None,
        "calibrated_share_within_10x": None,
        "calibration_improvement": None,
        "calibration_beats_raw": None,
    }
    if pairs.empty:
        return result
    result.update(
        {
            "median_fold_error": float(np.median(pairs["fold_error"])),
            "share_within_2x": float((pairs["fold_error"] <= 2.0).mean()),
            "share_within_10x": float((pairs["fold_error"] <= 10.0).mean()),
            "persistence_median_fold_error": float(np.median(pairs["persistence_fold_error"])),
            "persistence_share_within_2x": float((pairs["persistence_fold_error"] <= 2.0).mean()),
            "persistence_share_within_10x": float((pairs["persistence_fold_error"] <= 10.0).mean()),
            # Persistence predicts no change, so it never gets the direction of a real move right.
            "persistence_directional_accuracy": 0.0 if len(moved) else None,
        }
    )
    if "calibrated_per_100k" in pairs and pairs["calibrated_per_100k"].notna().all():
        calibrated = calibration.summary(pairs)
        result.update(
            {
                "calibrated_median_fold_error": calibrated["median_fold_error_calibrated"],
                "calibrated_share_within_2x": calibrated["share_within_2x_calibrated"],
                "calibrated_share_within_10x": calibrated["share_within_10x_calibrated"],
                "calibration_improvement": calibrated["improvement"],
                "calibration_beats_raw": calibrated["calibration_beats_raw"],
            }
        )
    return result


class BacktestSummary(BaseModel):
    releases: list[str]
    summary: dict[str, float | int | None]
    pairs: list[dict]


def run_backtest(
    con: duckdb.DuckDBPyConnection, partition_key: str, release_order: list[str], min_n: int = 20
) -> BacktestSummary:
    """Uses only partitions up to this release, so a candidate's backtest never sees its own future.

    `release_order` lists the simulated releases oldest first; this partition must be among them.
    """
    known = release_order[: release_order.index(partition_key) + 1]
    rates = con.execute(
        "SELECT * FROM behavior_rates WHERE partition_key IN (SELECT unnest(?))", [known]
    ).df()
    pairs = with_calibration(backtest_pairs(rates, known, min_n=min_n))
    frame = pairs.copy()
    frame.insert(0, "partition_key", partition_key)
    replace_partition(con, "backtest", partition_key, frame)
    return BacktestSummary(
        releases=sorted(set(pairs["release"])) if len(pairs) else [],
        summary=summarize(pairs),
        pairs=pairs.round(3).to_dict("records"),
    )
