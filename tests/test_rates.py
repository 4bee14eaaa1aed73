import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest, fisher_exact

from deploysim.rates import change_test, rate_table, wilson_interval


def test_wilson_interval_matches_the_closed_form():
    # Wilson (1927): centre (x + z^2/2) / (n + z^2), half-width z/(n + z^2) * sqrt(x(n-x)/n + z^2/4).
    x, n, z = 7, 40, 1.959963984540054
    centre = (x + z**2 / 2) / (n + z**2)
    half = z / (n + z**2) * np.sqrt(x * (n - x) / n + z**2 / 4)
    assert wilson_interval(x, n) == pytest.approx((centre - half, centre + half), rel=1e-9)
    assert wilson_interval(x, n) == pytest.approx(binomtest(x, n).proportion_ci(method="wilson"), rel=1e-9)


def test_wilson_interval_for_zero_and_empty():
    low, high = wilson_interval(0, 100)
    assert low == 0.0 and 0.03 < high < 0.04
    assert all(np.isnan(wilson_interval(0, 0)))


def test_wilson_coverage_is_close_to_nominal():
    rng = np.random.default_rng(0)
    for p, n in [(0.02, 400), (0.1, 200), (0.3, 100)]:
        draws = rng.binomial(n, p, size=2000)
        covered = np.mean([low <= p <= high for low, high in (wilson_interval(int(k), n) for k in draws)])
        assert abs(covered - 0.95) < 0.02, (p, n, covered)


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
    result = change_test(empty, "refusal")
    assert result.n_paired == 0 and not result.significant
