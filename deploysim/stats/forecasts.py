"""Forecasts of a release's production rate, and how a forecast is scored against what production showed.

Four forecasts of a candidate's production rate for a (surface, category):

- raw: the candidate's simulated rate on the paired prefixes;
- ratio: the prior's observed production rate x (candidate simulated / prior simulated), on the same
  prefixes, as the reference system card forecasts: the simulation's own bias cancels in the ratio;
- calibrated: the raw forecast x the chain's backtest factor (`deploysim.stats.calibration`);
- persistence: the prior's observed rate, unchanged: the baseline any forecast must beat.

Every rate is smoothed by half a count, so a zero count still gives a finite ratio, fold error and regret.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binom

from deploysim.core.arms import Arm
from deploysim.stats.paired import paired_labels

PER = 100_000
#: Bootstrap draws and seed of the ratio forecast's interval: fixed so reruns give identical output.
DRAWS = 2_000
SEED = 20_260_615
RATIO_METHOD = (
    "paired bootstrap over prefixes (2,000 draws of the four paired cells) x Jeffreys posterior of the "
    "prior's observed rate; 95% percentile interval; half-count smoothing"
)


def smoothed_rate(count: float, n: float) -> float:
    """Rates are smoothed by half a count so a zero count still gives a finite fold error."""
    return (count + 0.5) / (n + 1.0)


def fold_error(estimate: Any, observed: Any) -> Any:
    """max(est/obs, obs/est), elementwise for arrays; both must be positive (use smoothed rates)."""
    est = np.asarray(estimate, dtype=float)
    obs = np.asarray(observed, dtype=float)
    result = np.maximum(est / obs, obs / est)
    return float(result) if result.ndim == 0 else result


def nll_regret(rate: Any, count: Any, n: Any) -> Any:
    """Binomial negative log-likelihood of the observed count under the forecast rate, minus that under the
    observed rate itself (the best any forecast could do): 0 for a perfect forecast, larger the worse.
    The reference paper scores rare-event forecasts this way, where fold error is dominated by noise."""
    rate, count, n = (np.asarray(v, dtype=float) for v in (rate, count, n))
    observed = np.where(n > 0, count / np.maximum(n, 1), 0.0)
    regret = binom.logpmf(count, n, observed) - binom.logpmf(count, n, np.clip(rate, 1e-12, 1 - 1e-12))
    return float(regret) if regret.ndim == 0 else regret


@dataclass(frozen=True)
class PairCells:
    """Paired prefixes by the two simulated arms' labels."""

    both: int
    candidate_only: int
    prior_only: int
    neither: int

    @property
    def n(self) -> int:
        return self.both + self.candidate_only + self.prior_only + self.neither

    @property
    def candidate(self) -> int:
        return self.both + self.candidate_only

    @property
    def prior(self) -> int:
        return self.both + self.prior_only


@dataclass(frozen=True)
class RatioForecast:
    rate: float
    low: float
    high: float


def ratio_forecast(observed: int, observed_n: int, cells: PairCells) -> RatioForecast:
    """prior observed x (candidate simulated / prior simulated), smoothed, with a bootstrap interval.

    The paired prefixes are resampled as counts of the four (candidate, prior) label cells, which keeps the
    arms' correlation; the prior's observed rate, measured on the whole window, is drawn from its Jeffreys
    posterior. Raises ValueError without paired prefixes or an observed window.
    """
    if cells.n == 0 or observed_n == 0:
        raise ValueError("a ratio forecast needs paired prefixes and an observed prior window")
    point = (
        smoothed_rate(observed, observed_n)
        * smoothed_rate(cells.candidate, cells.n)
        / smoothed_rate(cells.prior, cells.n)
    )
    rng = np.random.default_rng(SEED)
    probabilities = np.array([cells.both, cells.candidate_only, cells.prior_only, cells.neither]) / cells.n
    draws = rng.multinomial(cells.n, probabilities, size=DRAWS)
    candidate = (draws[:, 0] + draws[:, 1] + 0.5) / (cells.n + 1.0)
    prior = (draws[:, 0] + draws[:, 2] + 0.5) / (cells.n + 1.0)
    base = rng.beta(observed + 0.5, observed_n - observed + 0.5, size=DRAWS)
    low, high = np.quantile(base * candidate / prior, [0.025, 0.975])
    return RatioForecast(rate=float(point), low=float(min(low, point)), high=float(max(high, point)))


FORECAST_COLUMNS = [
    "surface",
    "category",
    "n_paired",
    "candidate_count",
    "prior_count",
    "paired_production_count",
    "observed_count",
    "observed_n",
    "raw_per_100k",
    "ratio_per_100k",
    "ratio_low_per_100k",
    "ratio_high_per_100k",
    "persistence_per_100k",
]


def forecast_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Per surface (and "*" for all) and category: the paired counts and the raw, ratio and persistence
    forecasts of the candidate's production rate. `scores` are one partition's labelled score rows."""
    rows = []
    surfaces = [*sorted(scores["surface"].unique()), "*"] if len(scores) else []
    for category in sorted(scores["category"].unique()) if len(scores) else []:
        for surface in surfaces:
            chosen = scores[scores["category"] == category]
            if surface != "*":
                chosen = chosen[chosen["surface"] == surface]
            window = chosen[chosen["arm"] == Arm.PRODUCTION]
            paired = paired_labels(chosen)
            if paired.empty or window.empty:
                continue
            candidate, prior = paired[Arm.CANDIDATE], paired[Arm.PRIOR]
            cells = PairCells(
                both=int((candidate & prior).sum()),
                candidate_only=int((candidate & ~prior).sum()),
                prior_only=int((~candidate & prior).sum()),
                neither=int((~candidate & ~prior).sum()),
            )
            observed, observed_n = int(window["label"].sum()), len(window)
            ratio = ratio_forecast(observed, observed_n, cells)
            rows.append(
                {
                    "surface": surface,
                    "category": category,
                    "n_paired": cells.n,
                    "candidate_count": cells.candidate,
                    "prior_count": cells.prior,
                    "paired_production_count": int(paired[Arm.PRODUCTION].sum()),
                    "observed_count": observed,
                    "observed_n": observed_n,
                    "raw_per_100k": smoothed_rate(cells.candidate, cells.n) * PER,
                    "ratio_per_100k": ratio.rate * PER,
                    "ratio_low_per_100k": ratio.low * PER,
                    "ratio_high_per_100k": ratio.high * PER,
                    "persistence_per_100k": smoothed_rate(observed, observed_n) * PER,
                }
            )
    return pd.DataFrame(rows, columns=FORECAST_COLUMNS)
