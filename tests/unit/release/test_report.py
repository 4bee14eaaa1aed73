"""The backtest section of the gate's report: forecasts side by side, per chain, and who wins what."""

from deploysim.release.report import backtest_lines, best_by_metric
from deploysim.stats.backtest import BacktestSummary, DirectionScore, ForecastScore


def _score(forecast: str, fold: float, within_2x: float, regret: float, total: float) -> ForecastScore:
    return ForecastScore(
        forecast=forecast,
        pairs=12,
        median_fold_error=fold,
        within_2x=within_2x,
        within_10x=1.0,
        median_regret=regret,
        total_regret=total,
    )


SCORES = [
    _score("raw", 1.8, 0.6, 1.2, 40.0),
    _score("ratio", 1.3, 0.8, 0.4, 12.0),
    _score("calibrated", 1.4, 0.8, 0.7, 20.0),
    _score("persistence", 1.25, 0.7, 0.5, 15.0),
]


def test_each_metric_names_its_winner_and_ties_share_it():
    winners = best_by_metric(SCORES)
    assert winners["median fold error"] == "persistence (prior's observed rate)"
    assert winners["total NLL regret"].startswith("ratio")
    assert winners["within 2x"].startswith("ratio") and "and simulation, calibrated" in winners["within 2x"]
    assert best_by_metric([]) == {}


def test_backtest_section_shows_pooled_and_per_chain_scores_and_too_few_moves():
    summary = BacktestSummary(
        pairs=24,
        chains=["claude-1", "gpt-4-0314"],
        releases=["claude-2", "gpt-4-0613"],
        forecasts=SCORES,
        by_chain={"claude-1": SCORES[:2], "gpt-4-0314": SCORES[2:]},
        direction=[
            DirectionScore(scope="all chains", rule="moved >= 1.5x", qualifying=14, right=11,
                           predicted_flat=2, accuracy=11 / 14, low=0.52, high=0.92),
            DirectionScore(scope="claude-1", rule="significant move", qualifying=3, right=3, accuracy=1.0,
                           low=0.44, high=1.0),
        ],
    )  # fmt: skip
    text = "\n".join(backtest_lines(summary))
    assert "24 release/surface/category pairs from 2 releases in 2 chains (claude-1, gpt-4-0314)" in text
    assert "| simulation, raw | 1.80x | 60% | 100% | 1.20 | 40.0 |" in text
    assert "| claude-1 | ratio: prior observed x candidate / prior simulated | 1.30x |" in text
    assert "| all chains | moved >= 1.5x | 14 | 79% [52%, 92%] (11 of 14) | 2 |" in text
    # Three significant moves are too few for a percentage, however right they were.
    assert "| claude-1 | significant move | 3 | not enough moves (3 < 10) | 0 |" in text
    assert "Best forecast by metric: median fold error: persistence" in text
    assert backtest_lines(BacktestSummary()) == [
        "No past release has both a forecast and an observed rate yet."
    ]
