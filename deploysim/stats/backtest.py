"""Stage 6, backtest: for each past release, its pre-release forecasts against what production then showed.

For release U (prior P), partition U holds U's forecasts of its own production rate (raw, ratio,
persistence; `deploysim.stats.forecasts`), made on P's traffic before U shipped. What U then showed is the
production rate of U's own window, scored in the partition whose prior is U. Each release chain (the
releases linked by `prior_version`) is backtested on its own history; pairs are pooled with the chain named.

Scores per forecast: fold error (median, shares within 2x and 10x) and binomial NLL regret (median and
total). Directional accuracy, with a Wilson interval, is counted on observed moves of at least 1.5x (as the
reference does) and on moves that are themselves significant (Fisher's exact test on the two observed
production counts, alpha 0.1); fewer than 10 qualifying pairs say "not enough moves" instead of a share.
"""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
from pydantic import BaseModel
from scipy.stats import fisher_exact

from deploysim.core.arms import Arm
from deploysim.stats import calibration
from deploysim.stats.forecasts import PER, fold_error, nll_regret, smoothed_rate
from deploysim.stats.intervals import wilson
from deploysim.store.tables import columns_of, replace_partition

#: A category "really moved" when its observed rate changed by at least this factor between releases.
MOVED_FOLD = 1.5
#: Or when the change of the two observed production counts is significant at this level.
MOVE_ALPHA = 0.1
#: Fewer qualifying pairs than this give no directional accuracy, only "not enough moves".
MIN_MOVES = 10
FORECASTS = ("raw", "ratio", "calibrated", "persistence")
FORECAST_TITLES = {
    "raw": "simulation, raw",
    "ratio": "ratio: prior observed x candidate / prior simulated",
    "calibrated": "simulation, calibrated (leave one release out)",
    "persistence": "persistence (prior's observed rate)",
}


def _direction(new: float, old: float) -> int:
    if math.isclose(new, old, rel_tol=1e-12):
        return 0
    return 1 if new > old else -1


def backtest_pairs(
    forecasts: pd.DataFrame,
    observed: pd.DataFrame,
    chain_of: dict[str, str],
    prior_of: dict[str, str],
    min_n: int = 20,
) -> pd.DataFrame:
    """One row per (release, surface, category) whose forecasts and observed rate both exist.

    `forecasts` are `forecasts` rows of several partitions; `observed` are the production-arm rows of
    `behavior_rates` (partition_key, surface, category, count, n). A release's observed rate is the
    production arm of the partition whose prior it is. Per-surface rows only: an aggregate over surfaces
    mixes traffic the simulation may not cover.
    """
    successor = {prior: version for version, prior in prior_of.items()}
    observed_by = {
        (row.partition_key, row.surface, row.category): (int(row.count), int(row.n))
        for row in observed.itertuples(index=False)
    }
    rows = []
    for row in forecasts[forecasts["surface"] != "*"].itertuples(index=False):
        release = row.partition_key
        seen = observed_by.get((successor.get(release), row.surface, row.category))
        if seen is None or min(row.n_paired, row.observed_n, seen[1]) < min_n:
            continue
        count, n = seen
        observed_rate = smoothed_rate(count, n)
        prior_observed = row.persistence_per_100k / PER
        move_p = float(
            fisher_exact([[count, n - count], [row.observed_count, row.observed_n - row.observed_count]])[1]
        )
        rows.append(
            {
                "chain": chain_of[release],
                "release": release,
                "prior_version": prior_of[release],
                "surface": row.surface,
                "category": row.category,
                "observed_count": count,
                "observed_n": n,
                "observed_per_100k": observed_rate * PER,
                "prior_observed_per_100k": row.persistence_per_100k,
                "prior_simulated_per_100k": smoothed_rate(row.prior_count, row.n_paired) * PER,
                "n_paired": int(row.n_paired),
                "raw_per_100k": row.raw_per_100k,
                "ratio_per_100k": row.ratio_per_100k,
                "persistence_per_100k": row.persistence_per_100k,
                "predicted_direction": _direction(row.candidate_count, row.prior_count),
                "observed_direction": _direction(observed_rate, prior_observed),
                "moved": fold_error(observed_rate, prior_observed) >= MOVED_FOLD,
                "significant_move": move_p < MOVE_ALPHA,
                "move_p": move_p,
            }
        )
    pairs = pd.DataFrame(rows)
    if pairs.empty:
        return pd.DataFrame(columns=[c for c in columns_of("backtest") if c != "partition_key"])
    pairs["calibration_factor"] = calibration.leave_one_release_out(pairs)
    pairs["calibrated_per_100k"] = pairs["raw_per_100k"] * pairs["calibration_factor"]
    for name in FORECASTS:
        rate = pairs[f"{name}_per_100k"]
        pairs[f"{name}_fold_error"] = fold_error(rate, pairs["observed_per_100k"])
        pairs[f"{name}_regret"] = nll_regret(rate / PER, pairs["observed_count"], pairs["observed_n"])
    return pairs[[c for c in columns_of("backtest") if c != "partition_key"]]


class ForecastScore(BaseModel):
    forecast: str
    pairs: int
    median_fold_error: float | None
    within_2x: float | None
    within_10x: float | None
    median_regret: float | None
    total_regret: float | None


class DirectionScore(BaseModel):
    #: A chain, or "all chains".
    scope: str
    #: "moved >= 1.5x" or "significant move".
    rule: str
    qualifying: int
    right: int
    #: Qualifying pairs where the simulation predicted no change (equal paired counts): counted wrong.
    predicted_flat: int = 0
    accuracy: float | None
    low: float | None
    high: float | None

    @property
    def enough(self) -> bool:
        return self.qualifying >= MIN_MOVES


class BacktestSummary(BaseModel):
    pairs: int = 0
    chains: list[str] = []
    releases: list[str] = []
    #: Every forecast scored on all chains' pairs together, then per chain.
    forecasts: list[ForecastScore] = []
    by_chain: dict[str, list[ForecastScore]] = {}
    direction: list[DirectionScore] = []

    def score(self, forecast: str) -> ForecastScore | None:
        return next((s for s in self.forecasts if s.forecast == forecast), None)


def _scores(pairs: pd.DataFrame) -> list[ForecastScore]:
    scores = []
    for name in FORECASTS:
        fold = pairs[f"{name}_fold_error"].to_numpy(dtype=float) if len(pairs) else np.array([])
        regret = pairs[f"{name}_regret"].to_numpy(dtype=float) if len(pairs) else np.array([])
        scores.append(
            ForecastScore(
                forecast=name,
                pairs=len(pairs),
                median_fold_error=float(np.median(fold)) if fold.size else None,
                within_2x=float((fold <= 2.0).mean()) if fold.size else None,
                within_10x=float((fold <= 10.0).mean()) if fold.size else None,
                median_regret=float(np.median(regret)) if regret.size else None,
                total_regret=float(regret.sum()) if regret.size else None,
            )
        )
    return scores


def _direction_scores(pairs: pd.DataFrame, scope: str) -> list[DirectionScore]:
    scores = []
    for rule, column in (("moved >= 1.5x", "moved"), ("significant move", "significant_move")):
        chosen = pairs[pairs[column].astype(bool)] if len(pairs) else pairs
        right = (
            int((chosen["predicted_direction"] == chosen["observed_direction"]).sum()) if len(chosen) else 0
        )
        flat = int((chosen["predicted_direction"] == 0).sum()) if len(chosen) else 0
        low, high = wilson(right, len(chosen)) if len(chosen) else (None, None)
        scores.append(
            DirectionScore(
                scope=scope,
                rule=rule,
                qualifying=len(chosen),
                right=right,
                predicted_flat=flat,
                accuracy=right / len(chosen) if len(chosen) else None,
                low=low,
                high=high,
            )
        )
    return scores


def summarize(pairs: pd.DataFrame) -> BacktestSummary:
    if pairs.empty:
        return BacktestSummary(forecasts=_scores(pairs), direction=_direction_scores(pairs, "all chains"))
    chains = sorted(pairs["chain"].unique())
    direction = _direction_scores(pairs, "all chains")
    for chain in chains:
        direction += _direction_scores(pairs[pairs["chain"] == chain], chain)
    return BacktestSummary(
        pairs=len(pairs),
        chains=chains,
        releases=sorted(pairs["release"].unique()),
        forecasts=_scores(pairs),
        by_chain={chain: _scores(pairs[pairs["chain"] == chain]) for chain in chains},
        direction=direction,
    )


def run_backtest(
    con: duckdb.DuckDBPyConnection,
    partition_key: str,
    release_order: list[str],
    prior_of: dict[str, str],
    chain_of: dict[str, str],
    min_n: int = 20,
) -> tuple[BacktestSummary, pd.DataFrame]:
    """Uses only partitions up to this release in release order, so a backtest never sees its own future.

    `release_order` lists the simulated releases oldest first, across chains; this partition is among them.
    """
    known = release_order[: release_order.index(partition_key) + 1]
    forecasts = con.execute("SELECT * FROM forecasts WHERE partition_key IN (SELECT unnest(?))", [known]).df()
    observed = con.execute(
        "SELECT partition_key, surface, category, count, n FROM behavior_rates "
        "WHERE partition_key IN (SELECT unnest(?)) AND arm = ?",
        [known, Arm.PRODUCTION],
    ).df()
    pairs = backtest_pairs(forecasts, observed, chain_of, prior_of, min_n=min_n)
    replace_partition(con, "backtest", partition_key, pairs.assign(partition_key=partition_key))
    return summarize(pairs), pairs
