"""The release gate's three plots, from the gate and its backtest pairs."""

from __future__ import annotations

import pandas as pd

from deploysim.gate import ReleaseGate
from deploysim.plots import (
    CalibrationPoint,
    FunnelPoint,
    RatePoint,
    calibration_plot,
    funnel_plot,
    rates_plot,
)
from deploysim.rates import PER, wilson_interval


def _observed_point(category: str, arm: str, rate_per_100k: float | None, n: int) -> RatePoint | None:
    if rate_per_100k is None or rate_per_100k != rate_per_100k or n == 0:
        return None
    low, high = wilson_interval(round(rate_per_100k / PER * n), n)
    return RatePoint(category, arm, rate_per_100k, low * PER, high * PER)


def rate_points(gate: ReleaseGate) -> list[RatePoint]:
    """Per category: the prior observed and simulated, the candidate's raw and calibrated forecast."""
    points: list[RatePoint] = []
    for c in gate.categories:
        for arm, rate in (("production", c.prior_observed_per_100k), ("prior", c.prior_simulated_per_100k)):
            point = _observed_point(c.category, arm, rate, c.n_paired)
            if point:
                points.append(point)
        low, high = c.candidate_ci_per_100k
        points.append(RatePoint(c.category, "candidate", c.candidate_per_100k, low, high))
        if c.calibrated_per_100k is not None and c.calibrated_ci_per_100k is not None:
            c_low, c_high = c.calibrated_ci_per_100k
            points.append(
                RatePoint(c.category, "candidate, calibrated", c.calibrated_per_100k, c_low, c_high)
            )
    return points


def gate_plots(gate: ReleaseGate, backtest: pd.DataFrame) -> dict[str, bytes]:
    """PNG bytes by name: rates with intervals, backtest calibration on log-log axes, and a funnel of
    fold error against expected count (how much of each past miss sampling noise explains)."""
    calibration = [
        CalibrationPoint(
            release=row.release,
            category=f"{row.category} ({row.surface})",
            forecast_per_100k=row.forecast_per_100k,
            observed_per_100k=row.observed_per_100k,
            calibrated_per_100k=getattr(row, "calibrated_per_100k", None),
        )
        for row in backtest.itertuples(index=False)
    ]
    funnel = [
        FunnelPoint(
            release=row.release,
            category=f"{row.category} ({row.surface})",
            expected_count=row.forecast_per_100k / PER * row.observed_n,
            fold_error=row.fold_error,
        )
        for row in backtest.itertuples(index=False)
    ]
    who = f"{gate.candidate} vs prior {gate.prior}"
    return {
        "rates": rates_plot(rate_points(gate), f"Rates per 100k turns: {who}"),
        "calibration": calibration_plot(calibration, f"Backtest: forecast vs observed ({gate.candidate})"),
        "funnel": funnel_plot(funnel, f"Backtest: fold error vs expected count ({gate.candidate})"),
    }
