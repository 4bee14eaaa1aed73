"""Log-scale backtest calibration on constructed histories whose right answer is known."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from deploysim.stats.calibration import factors, fit_factor, fold_error, leave_one_release_out, summary

CATEGORIES = ("refusal", "pii_leak", "eval_awareness")


def history(
    releases: int, forecast_over_observed: float = 1.0, noise: float = 0.0, seed: int = 0
) -> pd.DataFrame:
    """Backtest pairs where forecast = observed * bias * lognormal noise; persistence is 1.5x off."""
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(releases):
        for i, category in enumerate(CATEGORIES):
            observed = 100.0 * (i + 1) * (1 + r % 3)
            forecast = observed * forecast_over_observed * math.exp(rng.normal(0.0, noise) if noise else 0.0)
            rows.append(
                {
                    "release": f"v{r}",
                    "surface": "api",
                    "category": category,
                    "forecast_per_100k": forecast,
                    "observed_per_100k": observed,
                    "prior_observed_per_100k": observed * 1.5,
                }
            )
    return pd.DataFrame(rows)


def test_fold_error() -> None:
    assert fold_error(200.0, 100.0) == 2.0 and fold_error(50.0, 100.0) == 2.0 and fold_error(7.0, 7.0) == 1.0


def test_fit_factor_is_shrunk_geometric_mean() -> None:
    log2 = math.log(2)
    assert fit_factor([log2] * 4, 0.0) == pytest.approx(2.0)
    assert fit_factor([log2] * 4, 4.0) == pytest.approx(math.sqrt(2))  # half the log factor survives
    assert fit_factor([log2, -log2], 1.0) == pytest.approx(1.0)
    assert fit_factor([], 2.0) == 1.0 and fit_factor([], 0.0) == 1.0
    with pytest.raises(ValueError):
        fit_factor([0.1], -1.0)
    with pytest.raises(ValueError):
        fit_factor([float("nan")], 1.0)


def test_perfect_forecasts_need_no_calibration() -> None:
    result = leave_one_release_out(history(6), shrinkage=1.0)
    assert np.allclose(result["calibration_factor"], 1.0)
    assert np.allclose(result["calibrated_fold_error"], 1.0)
    stats = summary(result)
    assert stats["median_fold_error_raw"] == pytest.approx(1.0)
    assert stats["median_fold_error_calibrated"] == pytest.approx(1.0)
    assert stats["median_fold_error_persistence"] == pytest.approx(1.5)
    assert stats["share_within_2x_raw"] == 1.0 and stats["share_within_10x_persistence"] == 1.0
    assert stats["calibration_beats_raw"] is False
    assert factors(history(6), 1.0) == pytest.approx(dict.fromkeys(CATEGORIES, 1.0))


def test_forecasts_twice_too_high_are_corrected() -> None:
    pairs = history(12, forecast_over_observed=2.0)
    result = leave_one_release_out(pairs, shrinkage=0.1)
    stats = summary(result)
    assert stats["median_fold_error_raw"] == pytest.approx(2.0)
    # 11 other releases, shrinkage 0.1: factor = 2^(-11/11.1), so the residual fold is 2^(0.1/11.1).
    assert stats["median_fold_error_calibrated"] == pytest.approx(2 ** (0.1 / 11.1))
    assert stats["median_fold_error_calibrated"] < 1.01
    assert stats["calibration_beats_raw"] is True
    assert stats["improvement"] == pytest.approx(2.0, rel=0.01)
    assert stats["share_within_2x_raw"] == 1.0  # exactly 2x counts as within 2x
    assert factors(pairs, 0.0) == pytest.approx(dict.fromkeys(CATEGORIES, 0.5))


def test_shrinkage_holds_back_a_short_history() -> None:
    # Two releases, shrinkage 2: each release sees one other pair, so only a third of the log bias is removed.
    result = leave_one_release_out(history(2, forecast_over_observed=2.0), shrinkage=2.0)
    assert np.allclose(result["calibration_factor"], 2 ** (-1 / 3))


def test_unbiased_noise_is_not_much_improved() -> None:
    pairs = history(10, noise=0.4, seed=3)
    stats = summary(leave_one_release_out(pairs, shrinkage=2.0))
    assert stats["improvement"] < 1.1, stats
    assert all(0.7 < f < 1.4 for f in factors(pairs, 2.0).values())


def test_single_release_category_gets_factor_one() -> None:
    pairs = history(3, forecast_over_observed=2.0)
    lonely = {
        "release": "v9",
        "surface": "api",
        "category": "new_behaviour",
        "forecast_per_100k": 40.0,
        "observed_per_100k": 10.0,
        "prior_observed_per_100k": 10.0,
    }
    result = leave_one_release_out(pd.concat([pairs, pd.DataFrame([lonely])], ignore_index=True), 0.5)
    row = result[result["category"] == "new_behaviour"].iloc[0]
    assert row["calibration_factor"] == 1.0 and row["calibrated_fold_error"] == pytest.approx(4.0)


def test_held_out_release_is_never_used() -> None:
    # Release v0 is 10x too high, v1 and v2 perfect; two surfaces per release so the held-out release has
    # several pairs. Using v0's own pairs would pull its factor well below 1; LOO must give exactly 1 for v0
    # (fit on v1, v2 only), and v1/v2 see v0's bias: 4 other pairs, 2 of them at log(1/10), none of their own.
    rows = []
    for release, bias in (("v0", 10.0), ("v1", 1.0), ("v2", 1.0)):
        for surface in ("api", "chat"):
            rows.append(
                {
                    "release": release,
                    "surface": surface,
                    "category": "refusal",
                    "forecast_per_100k": 50.0 * bias,
                    "observed_per_100k": 50.0,
                    "prior_observed_per_100k": 50.0,
                }
            )
    pairs = pd.DataFrame(rows)
    result = leave_one_release_out(pairs, shrinkage=0.0).set_index(["release", "surface"])
    assert result.loc[("v0", "api"), "calibration_factor"] == pytest.approx(1.0)
    assert result.loc[("v0", "chat"), "calibrated_fold_error"] == pytest.approx(10.0)
    assert result.loc[("v1", "api"), "calibration_factor"] == pytest.approx(math.exp(2 * math.log(0.1) / 4))
    # In-sample fitting would have given every row the same factor, 10^(-2/6).
    assert factors(pairs, 0.0)["refusal"] == pytest.approx(10 ** (-1 / 3))
    # The input is not modified.
    assert "calibration_factor" not in pairs.columns


def test_validation_and_empty() -> None:
    bad = history(2)
    bad.loc[0, "observed_per_100k"] = 0.0
    with pytest.raises(ValueError):
        leave_one_release_out(bad, 1.0)
    with pytest.raises(ValueError):
        leave_one_release_out(history(2).drop(columns="category"), 1.0)
    empty = leave_one_release_out(history(0).reindex(columns=history(1).columns), 1.0)
    stats = summary(empty)
    assert stats["pairs"] == 0 and stats["median_fold_error_raw"] is None
    assert stats["calibration_beats_raw"] is False and stats["improvement"] is None


def test_summary_without_persistence_column() -> None:
    result = leave_one_release_out(
        history(4, forecast_over_observed=2.0).drop(columns="prior_observed_per_100k")
    )
    stats = summary(result)
    assert stats["median_fold_error_persistence"] is None and stats["share_within_2x_persistence"] is None
    assert stats["median_fold_error_raw"] == pytest.approx(2.0)
