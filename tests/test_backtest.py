import pandas as pd
import pytest

from deploysim.backtest import backtest_pairs, fold_error, smoothed_rate, summarize


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
