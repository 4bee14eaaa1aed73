"""Log-scale backtest calibration on constructed histories whose right answer is known."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from deploysim.stats.calibration import factors, fit_factor, leave_one_release_out
from deploysim.stats.forecasts import fold_error

CATEGORIES = ("refusal", "pii_leakage", "eval_awareness")


def history(
    releases: int, forecast_over_observed: float = 1.0, noise: float = 0.0, seed: int = 0, chain: str = "gpt"
) -> pd.DataFrame:
    """Backtest pairs where forecast = observed * bias * lognormal noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(releases):
        for i, category in enumerate(CATEGORIES):
            observed = 100.0 * (i + 1) * (1 + r % 3)
            forecast = observed * forecast_over_observed * math.exp(rng.normal(0.0, noise) if noise else 0.0)
            rows.append(
                {
                    "chain": chain,
                    "release": f"{chain}-v{r}",
                    "surface": "api",
                    "category": category,
                    "raw_per_100k": forecast,
                    "observed_per_100k": observed,
                }
            )
    return pd.DataFrame(
        rows, columns=["chain", "release", "surface", "category", "raw_per_100k", "observed_per_100k"]
    )


def median_fold(pairs: pd.DataFrame, factor: pd.Series) -> float:
    return float(np.median(fold_error(pairs["raw_per_100k"] * factor, pairs["observed_per_100k"])))


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
    pairs = history(6)
    assert np.allclose(leave_one_release_out(pairs, shrinkage=1.0), 1.0)
    assert factors(pairs, "gpt", shrinkage=1.0) == pytest.approx(dict.fromkeys(CATEGORIES, 1.0))


def test_forecasts_twice_too_high_are_corrected() -> None:
    pairs = history(12, forecast_over_observed=2.0)
    factor = leave_one_release_out(pairs, shrinkage=0.1)
    assert median_fold(pairs, 1.0) == pytest.approx(2.0)
    # 11 other releases, shrinkage 0.1: factor = 2^(-11/11.1), so the residual fold is 2^(0.1/11.1).
    assert median_fold(pairs, factor) == pytest.approx(2 ** (0.1 / 11.1))
    assert factors(pairs, "gpt", shrinkage=0.0) == pytest.approx(dict.fromkeys(CATEGORIES, 0.5))


def test_shrinkage_holds_back_a_short_history() -> None:
    # Two releases, shrinkage 2: each release sees one other pair, so only a third of the log bias is removed.
    assert np.allclose(
        leave_one_release_out(history(2, forecast_over_observed=2.0), shrinkage=2.0), 2 ** (-1 / 3)
    )


def test_unbiased_noise_is_not_much_improved() -> None:
    pairs = history(10, noise=0.4, seed=3)
    raw, calibrated = median_fold(pairs, 1.0), median_fold(pairs, leave_one_release_out(pairs, shrinkage=2.0))
    assert calibrated > raw / 1.1, (raw, calibrated)
    assert all(0.7 < f < 1.4 for f in factors(pairs, "gpt", shrinkage=2.0).values())


def test_chains_are_calibrated_apart() -> None:
    # One chain's simulation runs 4x high, the other's is exact: neither's factor may borrow from the other.
    pairs = pd.concat([history(5, 4.0, chain="gpt"), history(5, 1.0, chain="claude")], ignore_index=True)
    factor = leave_one_release_out(pairs, shrinkage=0.0)
    assert np.allclose(factor[pairs["chain"] == "gpt"], 0.25)
    assert np.allclose(factor[pairs["chain"] == "claude"], 1.0)
    assert factors(pairs, "claude", shrinkage=0.0) == pytest.approx(dict.fromkeys(CATEGORIES, 1.0))
    assert factors(pairs, "mistral") == {}


def test_single_release_category_gets_factor_one() -> None:
    pairs = history(3, forecast_over_observed=2.0)
    lonely = {
        "chain": "gpt",
        "release": "gpt-v9",
        "surface": "api",
        "category": "new_behaviour",
        "raw_per_100k": 40.0,
        "observed_per_100k": 10.0,
    }
    pairs = pd.concat([pairs, pd.DataFrame([lonely])], ignore_index=True)
    factor = leave_one_release_out(pairs, shrinkage=0.5)
    assert factor[pairs["category"] == "new_behaviour"].tolist() == [1.0]


def test_held_out_release_is_never_used() -> None:
    # Release v0 is 10x too high, v1 and v2 exact; two surfaces per release so the held-out release has
    # several pairs. Using v0's own pairs would pull its factor below 1; LOO must give exactly 1 for v0
    # (fit on v1, v2 only), and v1/v2 see v0's bias: 4 other pairs, 2 of them at log(1/10), none of their own.
    rows = [
        {
            "chain": "gpt",
            "release": release,
            "surface": surface,
            "category": "refusal",
            "raw_per_100k": 50.0 * bias,
            "observed_per_100k": 50.0,
        }
        for release, bias in (("v0", 10.0), ("v1", 1.0), ("v2", 1.0))
        for surface in ("api", "chat")
    ]
    pairs = pd.DataFrame(rows)
    factor = leave_one_release_out(pairs, shrinkage=0.0)
    indexed = pd.Series(factor.to_numpy(), index=pd.MultiIndex.from_frame(pairs[["release", "surface"]]))
    assert indexed[("v0", "api")] == pytest.approx(1.0)
    assert indexed[("v1", "api")] == pytest.approx(math.exp(2 * math.log(0.1) / 4))
    # In-sample fitting would have given every row the same factor, 10^(-2/6).
    assert factors(pairs, "gpt", shrinkage=0.0)["refusal"] == pytest.approx(10 ** (-1 / 3))
    assert list(pairs.columns) == [
        "chain",
        "release",
        "surface",
        "category",
        "raw_per_100k",
        "observed_per_100k",
    ]


def test_validation_and_empty() -> None:
    bad = history(2)
    bad.loc[0, "observed_per_100k"] = 0.0
    with pytest.raises(ValueError):
        leave_one_release_out(bad, shrinkage=1.0)
    with pytest.raises(KeyError):
        leave_one_release_out(history(2).drop(columns="category"), shrinkage=1.0)
    with pytest.raises(ValueError):
        leave_one_release_out(history(2), shrinkage=-1.0)
    assert leave_one_release_out(history(0), shrinkage=1.0).empty
