import pandas as pd
import pytest

from deploysim.stats.backtest import backtest_pairs, fold_error, smoothed_rate, summarize, with_calibration


def _rates(rows):
    return pd.DataFrame(
        rows, columns=["partition_key", "arm", "model_version", "surface", "category", "count", "n"]
    )


def test_fold_error_is_symmetric():
    assert fold_error(0.02, 0.01) == fold_error(0.01, 0.02) == 2.0
    assert smoothed_rate(0, 99) == 0.005


def test_pairs_join_the_forecast_with_the_next_windows_observed_rate():
    # Partition B (prior A): B forecast 30/200, A simulated 10/200, A observed 10/200.
    # Partition C (prior B): B observed 40/200 in B's own window.
    rates = _rates(
        [
            ("B", "candidate", "B", "api", "refusal", 30, 200),
            ("B", "prior", "A", "api", "refusal", 10, 200),
            ("B", "production", "A", "api", "refusal", 10, 200),
            ("B", "candidate", "B", "*", "refusal", 30, 200),
            ("C", "candidate", "C", "api", "refusal", 5, 200),
            ("C", "prior", "B", "api", "refusal", 40, 200),
            ("C", "production", "B", "api", "refusal", 40, 200),
        ]
    )
    pairs = backtest_pairs(rates, ["B", "C"])
    assert len(pairs) == 1  # C has no observed window yet; the "*" aggregate is never paired.
    pair = pairs.iloc[0]
    assert pair["release"] == "B" and pair["prior_version"] == "A"
    assert pair["fold_error"] == pytest.approx(fold_error(smoothed_rate(30, 200), smoothed_rate(40, 200)))
    assert pair["predicted_direction"] == 1 and pair["observed_direction"] == 1
    assert bool(pair["moved"])
    summary = summarize(pairs)
    assert summary["directional_accuracy"] == 1.0
    assert summary["median_fold_error"] == pytest.approx(pair["fold_error"])
    assert summary["persistence_median_fold_error"] == pytest.approx(
        fold_error(smoothed_rate(10, 200), smoothed_rate(40, 200))
    )


def test_small_windows_are_left_out_and_empty_summaries_say_so():
    rates = _rates(
        [
            ("B", "candidate", "B", "api", "refusal", 1, 5),
            ("B", "prior", "A", "api", "refusal", 1, 5),
            ("B", "production", "A", "api", "refusal", 1, 5),
            ("C", "production", "B", "api", "refusal", 1, 5),
        ]
    )
    pairs = backtest_pairs(rates, ["B", "C"], min_n=20)
    assert pairs.empty and list(pairs.columns)
    assert summarize(pairs)["pairs"] == 0
    assert summarize(pairs)["median_fold_error"] is None


def test_directional_accuracy_counts_only_rates_that_really_moved():
    pairs = pd.DataFrame(
        {
            "fold_error": [1.2, 1.5, 3.0],
            "persistence_fold_error": [1.0, 1.1, 2.0],
            "predicted_direction": [1, -1, 1],
            "observed_direction": [-1, -1, 1],
            "moved": [False, True, True],
        }
    )
    summary = summarize(pairs)
    assert summary["moved_pairs"] == 2
    assert summary["directional_accuracy"] == 1.0
    assert summary["share_within_2x"] == pytest.approx(2 / 3)


RELEASES = [f"r{i}" for i in range(7)]
N = 20_000
# True rates move 4x up or down at every release, so every pair "really moved".
TRUE = {release: 0.01 * (4.0 if i % 2 else 1.0) for i, release in enumerate(RELEASES)}


def _history(forecast) -> pd.DataFrame:
    """behavior_rates rows for partitions r1..r6; `forecast(prior_rate, true_rate)` is the simulation."""
    rows = []
    for i in range(1, len(RELEASES)):
        release, prior = RELEASES[i], RELEASES[i - 1]

        def row(arm: str, model: str, rate: float, release: str = release) -> dict:
            return {
                "partition_key": release,
                "arm": arm,
                "model_version": model,
                "surface": "api",
                "category": "refusal",
                "count": round(rate * N),
                "n": N,
            }

        rows += [
            row("production", prior, TRUE[prior]),
            row("prior", prior, TRUE[prior]),
            row("candidate", release, forecast(TRUE[prior], TRUE[release])),
        ]
    return pd.DataFrame(rows)


def _summary(forecast) -> dict:
    return summarize(with_calibration(backtest_pairs(_history(forecast), RELEASES)))


def test_perfect_forecasts_score_fold_one_and_every_direction():
    result = _summary(lambda prior, true: true)
    assert result["pairs"] == 5  # the last release has no observed window yet
    assert result["median_fold_error"] == pytest.approx(1.0)
    assert result["directional_accuracy"] == 1.0 and result["moved_pairs"] == 5
    assert result["persistence_median_fold_error"] == pytest.approx(4.0, rel=1e-2)  # half-count smoothing
    assert result["persistence_directional_accuracy"] == 0.0
    assert result["calibrated_median_fold_error"] == pytest.approx(1.0)
    assert result["calibration_beats_raw"] is False


def test_forecasts_always_twice_too_high_are_corrected_by_calibration():
    result = _summary(lambda prior, true: 2 * true)
    assert result["median_fold_error"] == pytest.approx(2.0, rel=1e-3)
    assert result["share_within_2x"] == 1.0 and result["share_within_10x"] == 1.0
    assert result["directional_accuracy"] == 1.0  # a constant bias keeps the direction of a 4x move
    # Leave-one-release-out with shrinkage: four other releases pull the factor most of the way to 1/2.
    assert result["calibration_beats_raw"] is True
    assert result["calibrated_median_fold_error"] < 1.4
    assert result["calibration_improvement"] > 1.4


def test_forecasts_in_the_wrong_direction_score_zero_directional_accuracy():
    result = _summary(lambda prior, true: prior * prior / true)
    assert result["directional_accuracy"] == 0.0 and result["moved_pairs"] == 5
    assert result["median_fold_error"] == pytest.approx(16.0, rel=1e-2)
    assert result["share_within_10x"] == 0.0
