import pandas as pd
import pytest
from scipy.stats import fisher_exact

from deploysim.stats.rates import change_test, rate_table


def test_rate_table_counts_per_arm_and_surface_and_overall():
    scores = pd.DataFrame(
        {
            "arm": ["candidate"] * 4 + ["prior"] * 4,
            "model_version": ["c"] * 4 + ["p"] * 4,
            "evaluator": "refusal",
            "evaluator_version": "1",
            "category": "refusal",
            "surface": ["api", "api", "chat", "chat"] * 2,
            "label": [True, False, True, True, False, False, False, True],
        }
    )
    table = rate_table(scores).set_index(["arm", "surface"])
    assert table.loc[("candidate", "*"), "count"] == 3
    assert table.loc[("candidate", "*"), "n"] == 4
    assert table.loc[("candidate", "*"), "rate_per_100k"] == 75_000
    assert table.loc[("candidate", "chat"), "rate_per_100k"] == 100_000
    assert table.loc[("prior", "api"), "count"] == 0
    assert table.loc[("prior", "api"), "ci_high_per_100k"] > 0


def test_change_test_matches_scipy_and_uses_the_pairs():
    paired = pd.DataFrame({"candidate": [True] * 12 + [False] * 88, "prior": [True] * 2 + [False] * 98})
    result = change_test(paired, "refusal", alpha=0.1)
    odds, p = fisher_exact([[12, 88], [2, 98]])
    assert result.fisher_p == pytest.approx(p)
    assert result.fisher_odds_ratio == pytest.approx(odds)
    assert (result.candidate_only, result.prior_only) == (10, 0)
    # Exact McNemar on 10 discordant pairs all one way: two-sided binomial p = 2 * 0.5^10.
    assert result.mcnemar_p == pytest.approx(2 * 0.5**10)
    assert result.significant and result.paired_significant


def test_change_test_on_no_pairs_is_not_significant():
    empty = pd.DataFrame({"candidate": pd.Series(dtype=bool), "prior": pd.Series(dtype=bool)})
    result = change_test(empty, "refusal", alpha=0.1)
    assert result.n_paired == 0 and not result.significant
