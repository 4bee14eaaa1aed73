"""The four forecasts of a candidate's production rate, and the scores a forecast is judged by."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom

from deploysim.core.arms import Arm
from deploysim.stats.forecasts import (
    PER,
    PairCells,
    fold_error,
    forecast_table,
    nll_regret,
    ratio_forecast,
    smoothed_rate,
)


def test_fold_error_is_symmetric_and_elementwise() -> None:
    assert fold_error(200.0, 100.0) == 2.0 and fold_error(50.0, 100.0) == 2.0 and fold_error(7.0, 7.0) == 1.0
    assert fold_error(np.array([1.0, 3.0]), np.array([2.0, 1.0])).tolist() == [2.0, 3.0]


def test_a_zero_count_still_has_a_finite_rate() -> None:
    assert smoothed_rate(0, 999) == pytest.approx(0.5 / 1000)
    assert math.isfinite(fold_error(smoothed_rate(0, 100), smoothed_rate(3, 100)))


def test_nll_regret_is_zero_at_the_observed_rate_and_grows_away_from_it() -> None:
    assert nll_regret(0.02, 20, 1000) == pytest.approx(0.0, abs=1e-9)
    near, far = nll_regret(0.025, 20, 1000), nll_regret(0.08, 20, 1000)
    assert 0 < near < far
    assert near == pytest.approx(binom.logpmf(20, 1000, 0.02) - binom.logpmf(20, 1000, 0.025))
    # A rare event: a forecast 2x too high on 1 event in 1000 costs far less than on 100 events in 100k,
    # which is why the regret, not fold error alone, separates forecasts of rare behaviours.
    assert nll_regret(0.002, 1, 1000) < nll_regret(0.002, 100, 100_000)
    assert nll_regret(np.array([0.02, 0.04]), np.array([20, 20]), np.array([1000, 1000])).shape == (2,)


def test_the_ratio_forecast_scales_the_prior_observed_rate_by_the_simulated_change() -> None:
    # The candidate does it twice as often as the prior on the same prefixes; production saw the prior at 1%.
    cells = PairCells(both=100, candidate_only=100, prior_only=0, neither=9800)
    forecast = ratio_forecast(observed=1000, observed_n=100_000, cells=cells)
    expected = smoothed_rate(1000, 100_000) * smoothed_rate(200, 10_000) / smoothed_rate(100, 10_000)
    assert forecast.rate == pytest.approx(expected)
    assert forecast.low < forecast.rate < forecast.high
    assert forecast.low > 1.6 * 0.01 and forecast.high < 2.5 * 0.01
    # Deterministic: a rerun gives the same interval.
    assert ratio_forecast(1000, 100_000, cells) == forecast


def test_the_ratio_interval_narrows_with_more_prefixes_and_keeps_the_pairing() -> None:
    small = ratio_forecast(100, 10_000, PairCells(10, 10, 0, 980))
    large = ratio_forecast(100, 10_000, PairCells(100, 100, 0, 9800))
    assert (large.high - large.low) < (small.high - small.low)
    # The same marginal counts, but discordant: a paired resample must be wider than a concordant one.
    concordant = ratio_forecast(100, 10_000, PairCells(both=100, candidate_only=0, prior_only=0, neither=900))
    discordant = ratio_forecast(
        100, 10_000, PairCells(both=0, candidate_only=100, prior_only=100, neither=800)
    )
    assert concordant.rate == pytest.approx(discordant.rate)
    assert (discordant.high - discordant.low) > (concordant.high - concordant.low)


def test_the_ratio_forecast_needs_pairs_and_a_window() -> None:
    with pytest.raises(ValueError):
        ratio_forecast(1, 100, PairCells(0, 0, 0, 0))
    with pytest.raises(ValueError):
        ratio_forecast(0, 0, PairCells(1, 0, 0, 1))


def _scores(rows: list[tuple[str, str, Arm, bool, bool]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "conversation_id": c,
                "surface": s,
                "category": "refusal",
                "arm": a,
                "label": lab,
                "in_sample": ins,
            }
            for c, s, a, lab, ins in rows
        ]
    )


def test_the_forecast_table_counts_pairs_and_the_window_per_surface_and_overall() -> None:
    rows = []
    # api: 4 paired prefixes, the candidate flags 2, the prior 1; production's window has 8 rows, 2 flagged.
    for i, (cand, prior) in enumerate([(True, True), (True, False), (False, False), (False, False)]):
        rows += [(f"a{i}", "api", Arm.CANDIDATE, cand, True), (f"a{i}", "api", Arm.PRIOR, prior, True)]
    rows += [(f"a{i}", "api", Arm.PRODUCTION, i < 2, i < 4) for i in range(8)]
    # chat: 2 paired prefixes, nothing flagged; 2 window rows. A prefix answered by one arm only is unpaired.
    for i in range(2):
        rows += [(f"c{i}", "chat", Arm.CANDIDATE, False, True), (f"c{i}", "chat", Arm.PRIOR, False, True)]
        rows.append((f"c{i}", "chat", Arm.PRODUCTION, False, True))
    rows.append(("c9", "chat", Arm.CANDIDATE, True, True))
    table = forecast_table(_scores(rows)).set_index("surface")
    api, chat, overall = table.loc["api"], table.loc["chat"], table.loc["*"]
    assert (api.n_paired, api.candidate_count, api.prior_count) == (4, 2, 1)
    assert (api.observed_count, api.observed_n, api.paired_production_count) == (2, 8, 2)
    assert api.raw_per_100k == pytest.approx(smoothed_rate(2, 4) * PER)
    assert api.persistence_per_100k == pytest.approx(smoothed_rate(2, 8) * PER)
    assert api.ratio_per_100k == pytest.approx(
        smoothed_rate(2, 8) * smoothed_rate(2, 4) / smoothed_rate(1, 4) * PER
    )
    assert (chat.n_paired, chat.candidate_count) == (2, 0)
    assert (overall.n_paired, overall.observed_n, overall.candidate_count) == (6, 10, 2)


def test_an_empty_partition_has_no_forecasts() -> None:
    empty = forecast_table(
        _scores([]).reindex(columns=["conversation_id", "surface", "category", "arm", "label", "in_sample"])
    )
    assert empty.empty and "ratio_per_100k" in empty.columns
