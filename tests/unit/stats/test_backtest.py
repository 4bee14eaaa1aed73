import pandas as pd
import pytest

from deploysim.stats.backtest import MIN_MOVES, backtest_pairs, summarize
from deploysim.stats.forecasts import PER, fold_error, nll_regret, smoothed_rate

N = 20_000


def _forecast(
    partition: str, candidate: int, prior: int, observed: int, n: int = N, surface: str = "api"
) -> dict:
    """A `forecasts` row: the candidate and prior simulated on n paired prefixes; the prior observed on n."""
    raw = smoothed_rate(candidate, n)
    persistence = smoothed_rate(observed, n)
    return {
        "partition_key": partition,
        "surface": surface,
        "category": "refusal",
        "n_paired": n,
        "candidate_count": candidate,
        "prior_count": prior,
        "observed_count": observed,
        "observed_n": n,
        "raw_per_100k": raw * PER,
        "ratio_per_100k": persistence * raw / smoothed_rate(prior, n) * PER,
        "persistence_per_100k": persistence * PER,
    }


def _observed(partition: str, count: int, n: int = N, surface: str = "api") -> dict:
    return {"partition_key": partition, "surface": surface, "category": "refusal", "count": count, "n": n}


def _history(chain: str, releases: int, simulate, true=None) -> tuple[list[dict], list[dict], dict, dict]:
    """A chain whose true rate moves 4x at every release; `simulate(true_rate)` is the simulation of a model
    whose true rate is `true_rate` (applied to both arms alike)."""
    true = true or (lambda i: 0.01 * (4.0 if i % 2 else 1.0))
    names = [f"{chain}{i}" for i in range(releases)]
    forecasts, observed, priors = [], [], {}
    for i in range(1, releases):
        release, prior = names[i], names[i - 1]
        priors[release] = prior
        forecasts.append(
            _forecast(
                release,
                round(simulate(true(i)) * N),
                round(simulate(true(i - 1)) * N),
                round(true(i - 1) * N),
            )
        )
        observed.append(_observed(release, round(true(i - 1) * N)))
    return forecasts, observed, priors, {name: chain for name in names}


def _pairs(*histories) -> pd.DataFrame:
    forecasts, observed, priors, chains = [], [], {}, {}
    for f, o, p, c in histories:
        forecasts += f
        observed += o
        priors.update(p)
        chains.update(c)
    return backtest_pairs(pd.DataFrame(forecasts), pd.DataFrame(observed), chains, priors)


def test_fold_error_and_regret_reward_the_right_rate():
    assert fold_error(0.02, 0.01) == fold_error(0.01, 0.02) == 2.0
    assert smoothed_rate(0, 99) == 0.005
    assert nll_regret(0.04, 40, 1000) == pytest.approx(0.0)
    assert 0 < nll_regret(0.05, 40, 1000) < nll_regret(0.08, 40, 1000)


def test_a_pair_joins_the_forecast_with_the_releases_own_window_observed_next():
    # Partition B (prior A) forecasts B; partition C (prior B) observes B's own window.
    forecasts = pd.DataFrame(
        [_forecast("B", 300, 100, 100, n=2000), _forecast("B", 300, 100, 100, n=2000, surface="*")]
    )
    observed = pd.DataFrame([_observed("C", 400, n=2000)])
    pairs = backtest_pairs(forecasts, observed, {"A": "A", "B": "A", "C": "A"}, {"B": "A", "C": "B"})
    assert len(pairs) == 1  # the "*" aggregate is never paired
    pair = pairs.iloc[0]
    assert (pair["chain"], pair["release"], pair["prior_version"]) == ("A", "B", "A")
    assert pair["raw_fold_error"] == pytest.approx(
        fold_error(smoothed_rate(300, 2000), smoothed_rate(400, 2000))
    )
    assert pair["predicted_direction"] == pair["observed_direction"] == 1
    assert bool(pair["moved"]) and bool(pair["significant_move"]) and pair["move_p"] < 1e-10
    assert pair["persistence_regret"] > pair["raw_regret"] > 0


def test_the_ratio_forecast_cancels_a_simulation_bias_the_raw_one_carries():
    pairs = _pairs(_history("g", 7, lambda true: 2 * true))  # the simulation doubles every rate
    summary = summarize(pairs)
    assert summary.score("raw").median_fold_error == pytest.approx(2.0, rel=1e-2)
    assert summary.score("ratio").median_fold_error == pytest.approx(1.0, rel=1e-2)
    assert summary.score("ratio").total_regret < summary.score("raw").total_regret
    assert summary.score("persistence").median_fold_error == pytest.approx(4.0, rel=1e-2)
    # Leave-one-release-out calibration learns the bias from the chain's other releases.
    assert summary.score("calibrated").median_fold_error < 1.4


def test_each_chain_is_calibrated_on_its_own_history():
    high = _history("h", 6, lambda true: 2 * true)
    low = _history("l", 6, lambda true: true / 2)
    pairs = _pairs(high, low)
    assert set(pairs["chain"]) == {"h", "l"}
    factors = pairs.groupby("chain")["calibration_factor"].median()
    assert factors["h"] < 0.75 and factors["l"] > 1.4  # pooled, the two biases would cancel to 1
    summary = summarize(pairs)
    assert summary.chains == ["h", "l"] and set(summary.by_chain) == {"h", "l"}
    assert all(s.forecast != "calibrated" or s.median_fold_error < 1.5 for s in summary.by_chain["h"])


def test_directional_accuracy_needs_enough_moves_and_gets_an_interval():
    few = summarize(_pairs(_history("a", 4, lambda true: true)))
    moved = next(d for d in few.direction if d.scope == "all chains" and d.rule == "moved >= 1.5x")
    assert moved.qualifying == 2 and not moved.enough  # the newest release has no observed window yet
    many = summarize(_pairs(_history("a", MIN_MOVES + 3, lambda true: true)))
    for rule in ("moved >= 1.5x", "significant move"):
        score = next(d for d in many.direction if d.scope == "all chains" and d.rule == rule)
        assert score.enough and score.accuracy == 1.0 and score.low < 1.0 == score.high


def test_a_move_that_is_noise_is_not_significant():
    # 1 event of 200, then 2: a 2x "move" on noise.
    forecasts = pd.DataFrame([_forecast("B", 2, 1, 1, n=200)])
    pairs = backtest_pairs(
        forecasts,
        pd.DataFrame([_observed("C", 2, n=200)]),
        {"A": "A", "B": "A", "C": "A"},
        {"B": "A", "C": "B"},
    )
    assert bool(pairs.iloc[0]["moved"]) and not bool(pairs.iloc[0]["significant_move"])


def test_small_windows_are_left_out_and_empty_summaries_say_so():
    forecasts = pd.DataFrame([_forecast("B", 1, 1, 1, n=5)])
    pairs = backtest_pairs(
        forecasts,
        pd.DataFrame([_observed("C", 1, n=5)]),
        {"A": "A", "B": "A", "C": "A"},
        {"B": "A", "C": "B"},
    )
    assert pairs.empty and "raw_fold_error" in pairs.columns
    summary = summarize(pairs)
    assert summary.pairs == 0 and summary.score("raw").median_fold_error is None


def test_a_move_the_simulation_saw_no_change_in_counts_as_wrong_and_is_counted():
    # 0 -> 3 events observed (a 5x "move"), while both simulated arms flagged nothing on the same prefixes.
    forecasts = pd.DataFrame([_forecast("B", 0, 0, 0, n=200)])
    pairs = backtest_pairs(
        forecasts,
        pd.DataFrame([_observed("C", 3, n=200)]),
        {"A": "A", "B": "A", "C": "A"},
        {"B": "A", "C": "B"},
    )
    [moved] = [d for d in summarize(pairs).direction if d.rule == "moved >= 1.5x" and d.scope == "all chains"]
    assert (moved.qualifying, moved.right, moved.predicted_flat) == (1, 0, 1)
