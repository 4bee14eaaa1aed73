"""Rate intervals, rule of three, Rogan-Gladen correction and BH, against scipy/statsmodels and simulation.

Coverage of the nominal 95% two-sided intervals, 2,000 binomial draws per cell (seed 20240601), with the
exact coverage (sum of scipy binom.pmf over counts whose interval covers p) beside it:

    n     p      n*p   Wilson sim / exact   Jeffreys sim / exact
    200   0.001  0.2   98.3 / 98.3  (over)  98.3 / 98.3  (over)
    200   0.01   2     95.8 / 94.8          98.6 / 98.4  (over)
    200   0.05   10    96.6 / 96.7          94.8 / 95.0
    200   0.2    40    96.4 / 95.8          95.2 / 94.8
    200   0.5    100   94.2 / 94.4          94.2 / 94.4
    1000  0.001  1     91.0 / 92.0  (under) 97.4 / 98.1  (over)
    1000  0.01   10    96.4 / 96.4          94.2 / 94.5
    1000  0.05   50    95.0 / 95.0          95.0 / 95.0
    1000  0.2    200   95.0 / 94.7          95.3 / 95.2
    1000  0.5    500   94.5 / 94.6          94.5 / 94.6

Outside +-2 pp, and why (a property of the method at that n*p, not simulation noise): with n*p <= 2 only
a few small counts are likely, so coverage is a handful of pmf terms. Both intervals over-cover there
(conservative), and Wilson under-covers at n*p = 1: its lower bound for a count of 3 of 1,000 is already
0.00102 > p, so every count >= 3 (8% of draws) misses; the known Wilson dip near 0 (Brown, Cai & DasGupta
2001). Those cells are asserted against their exact value.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import beta, binom, chi2, norm
from statsmodels.stats.multitest import multipletests

from deploysim.stats.intervals import (
    audit_corrected_interval,
    bh_adjusted,
    corrected_interval,
    estimate,
    jeffreys,
    rogan_gladen,
    rule_of_three,
    wilson,
)

SEED = 20240601
Z = norm.ppf(0.975)


# --- known values ---------------------------------------------------------------------------------------


def test_wilson_zero_of_ten_is_hand_computable() -> None:
    # With x = 0 the Wilson bounds collapse to 0 and z^2 / (n + z^2).
    assert wilson(0, 10) == pytest.approx((0.0, Z**2 / (10 + Z**2)), abs=1e-12)
    assert wilson(0, 10)[1] == pytest.approx(0.27753, abs=1e-5)


def test_wilson_interior_matches_closed_form() -> None:
    x, n = 7, 40
    centre = (x + Z**2 / 2) / (n + Z**2)
    half = Z / (n + Z**2) * math.sqrt(x * (n - x) / n + Z**2 / 4)
    assert wilson(x, n) == pytest.approx((centre - half, centre + half), rel=1e-9)


def test_jeffreys_is_the_beta_posterior_quantile() -> None:
    assert jeffreys(5, 10) == pytest.approx((beta.ppf(0.025, 5.5, 5.5), beta.ppf(0.975, 5.5, 5.5)), rel=1e-9)
    assert jeffreys(3, 50, alpha=0.1) == pytest.approx(
        (beta.ppf(0.05, 3.5, 47.5), beta.ppf(0.95, 3.5, 47.5)), rel=1e-9
    )


def test_jeffreys_boundary_modification() -> None:
    # Brown, Cai & DasGupta: lower bound 0 at count 0, upper bound 1 at count n; the other side unchanged.
    assert jeffreys(0, 20) == pytest.approx((0.0, beta.ppf(0.975, 0.5, 20.5)), rel=1e-9)
    assert jeffreys(20, 20) == pytest.approx((beta.ppf(0.025, 20.5, 0.5), 1.0), rel=1e-9)


def test_rule_of_three() -> None:
    assert rule_of_three(300) == pytest.approx(0.009986, abs=1e-6)
    assert rule_of_three(300) == pytest.approx(3 / 300, rel=0.002)
    # It is the Poisson bound: lambda with P(X = 0) = alpha, lambda = chi2.ppf(1 - alpha, 2) / 2.
    assert rule_of_three(1000, alpha=0.01) * 1000 == pytest.approx(chi2.ppf(0.99, 2) / 2, rel=1e-12)
    # ...and close to the exact one-sided Clopper-Pearson bound for a zero count when n is large.
    assert rule_of_three(500) == pytest.approx(beta.ppf(0.95, 1, 500), rel=0.01)
    with pytest.raises(ValueError):
        rule_of_three(0)


def test_estimate_fields_and_rule_of_three_only_for_zero() -> None:
    est = estimate(4, 200)
    assert est.rate == 0.02
    assert (est.wilson_low, est.wilson_high) == wilson(4, 200)
    assert (est.jeffreys_low, est.jeffreys_high) == jeffreys(4, 200)
    assert est.upper_rule_of_three is None
    zero = estimate(0, 300)
    assert zero.rate == 0.0 and zero.upper_rule_of_three == pytest.approx(rule_of_three(300))


def test_estimate_with_no_data_is_nan_not_an_error() -> None:
    est = estimate(0, 0)
    assert est.n == 0 and est.upper_rule_of_three is None
    for value in (est.rate, est.wilson_low, est.wilson_high, est.jeffreys_low, est.jeffreys_high):
        assert math.isnan(value)


def test_bad_counts_raise() -> None:
    with pytest.raises(ValueError):
        estimate(5, 4)
    with pytest.raises(ValueError):
        wilson(-1, 4)


def test_rogan_gladen_known_example_and_clipping() -> None:
    assert rogan_gladen(0.2, 0.9, 0.95) == pytest.approx((0.2 + 0.95 - 1) / 0.85, rel=1e-12)
    assert rogan_gladen(0.2, 0.9, 0.95) == pytest.approx(0.1764706, abs=1e-7)
    assert rogan_gladen(0.01, 0.9, 0.95) == 0.0  # fewer positives than the false-positive rate alone
    assert rogan_gladen(0.99, 0.9, 0.95) == 1.0
    assert rogan_gladen(0.3, 1.0, 1.0) == pytest.approx(0.3)  # a perfect evaluator changes nothing


@pytest.mark.parametrize(("se", "sp"), [(0.5, 0.5), (0.4, 0.6), (0.3, 0.5)])
def test_rogan_gladen_rejects_chance_level_evaluators(se: float, sp: float) -> None:
    with pytest.raises(ValueError):
        rogan_gladen(0.2, se, sp)


def test_benjamini_hochberg_hand_worked() -> None:
    # m = 8, alpha = 0.05: thresholds k * 0.05 / 8. Sorted p: 0.001 <= 0.00625, 0.008 <= 0.0125, then
    # 0.039 > 0.01875, ... 0.205 > 0.05; the largest passing rank is 2, so exactly the two smallest go.
    p = [0.039, 0.001, 0.205, 0.041, 0.008, 0.06, 0.042, 0.074]
    assert [q < 0.05 for q in bh_adjusted(p)] == [False, True, False, False, True, False, False, False]
    # Adjusted: min over j >= i of p_(j) * m / j, e.g. 0.042 * 8 / 5 = 0.0672 carries down to ranks 3-4.
    expected = [0.0672, 0.008, 0.205, 0.0672, 0.032, 0.08, 0.0672, 8 * 0.074 / 7]
    assert bh_adjusted(p) == pytest.approx(expected, rel=1e-9)
    assert bh_adjusted(p) == pytest.approx(multipletests(p, method="fdr_bh")[1].tolist(), rel=1e-12)


def test_benjamini_hochberg_leaves_out_nan() -> None:
    p = [0.039, 0.001, float("nan"), 0.205, 0.041, 0.008, 0.06, 0.042, 0.074]
    adjusted = bh_adjusted(p)
    reject = [q < 0.05 for q in adjusted]  # NaN compares False: never rejected
    assert reject == [False, True, False, False, False, True, False, False, False]
    assert math.isnan(adjusted[2])
    # NaN does not count towards m: same as the 8-test example above.
    assert adjusted[5] == pytest.approx(0.032)
    assert math.isnan(bh_adjusted([float("nan")])[0])
    assert bh_adjusted([]) == []


# --- coverage by simulation -----------------------------------------------------------------------------

WITHIN_2PP = [
    (0.01, 200, "wilson"),
    (0.05, 200, "wilson"),
    (0.05, 200, "jeffreys"),
    (0.2, 200, "wilson"),
    (0.2, 200, "jeffreys"),
    (0.5, 200, "wilson"),
    (0.5, 200, "jeffreys"),
    (0.01, 1000, "wilson"),
    (0.01, 1000, "jeffreys"),
    (0.05, 1000, "wilson"),
    (0.05, 1000, "jeffreys"),
    (0.2, 1000, "wilson"),
    (0.2, 1000, "jeffreys"),
    (0.5, 1000, "wilson"),
    (0.5, 1000, "jeffreys"),
]
# n*p <= 2: coverage is a few pmf terms; these deviate from 95% by method, in the direction given.
OUTSIDE = [
    (0.001, 200, "wilson", "over"),
    (0.001, 200, "jeffreys", "over"),
    (0.01, 200, "jeffreys", "over"),
    (0.001, 1000, "wilson", "under"),
    (0.001, 1000, "jeffreys", "over"),
]
INTERVALS = {"wilson": wilson, "jeffreys": jeffreys}


def _coverage(p: float, n: int, method: str) -> tuple[float, float]:
    """(simulated, exact) coverage of the nominal 95% interval."""
    interval = INTERVALS[method]
    covers = np.array([low <= p <= high for low, high in (interval(k, n) for k in range(n + 1))])
    exact = float((binom.pmf(np.arange(n + 1), n, p) * covers).sum())
    draws = np.random.default_rng([SEED, n, round(p * 1e6)]).binomial(n, p, size=2000)
    return float(covers[draws].mean()), exact


@pytest.mark.parametrize(("p", "n", "method"), WITHIN_2PP)
def test_coverage_within_two_points_of_nominal(p: float, n: int, method: str) -> None:
    simulated, exact = _coverage(p, n, method)
    assert abs(simulated - 0.95) <= 0.02, (simulated, exact)
    assert abs(exact - 0.95) <= 0.02


@pytest.mark.parametrize(("p", "n", "method", "direction"), OUTSIDE)
def test_coverage_deviations_at_tiny_counts_are_known(p: float, n: int, method: str, direction: str) -> None:
    simulated, exact = _coverage(p, n, method)
    assert abs(simulated - exact) <= 0.015  # the simulation agrees with the exact value...
    if direction == "over":  # ...which is conservative here
        assert exact > 0.97
    else:  # ...or, for Wilson at n*p = 1, below nominal (the known dip), but not catastrophically
        assert 0.90 < exact < 0.93


# --- corrected prevalence -------------------------------------------------------------------------------


def test_corrected_interval_point_and_fields() -> None:
    result = corrected_interval(200, 1000, 180, 200, 190, 200)
    assert result.apparent == 0.2
    assert result.sensitivity == 0.9 and result.specificity == 0.95
    assert result.corrected == pytest.approx(rogan_gladen(0.2, 0.9, 0.95))
    assert result.low < result.corrected < result.high
    assert "bootstrap" in result.method
    assert corrected_interval(200, 1000, 180, 200, 190, 200) == result  # fixed seed: reproducible


@pytest.mark.parametrize(
    ("count", "n", "se_tp", "se_n", "sp_tn", "sp_n"),
    [
        (200, 1000, 180, 200, 190, 200),
        (0, 500, 45, 50, 95, 100),
        (3, 40, 9, 10, 19, 20),
        (60, 1000, 90, 100, 99, 100),
    ],
)
def test_corrected_interval_never_narrower_than_mapped_uncorrected(
    count: int, n: int, se_tp: int, se_n: int, sp_tn: int, sp_n: int
) -> None:
    result = corrected_interval(count, n, se_tp, se_n, sp_tn, sp_n)
    se, sp = se_tp / se_n, sp_tn / sp_n
    for low, high in (wilson(count, n), jeffreys(count, n)):
        assert result.low <= rogan_gladen(low, se, sp)
        assert result.high >= rogan_gladen(high, se, sp)
    assert 0.0 <= result.low <= result.corrected <= result.high <= 1.0


def test_corrected_interval_narrows_as_validation_grows() -> None:
    small = corrected_interval(200, 1000, 45, 50, 95, 100)
    large = corrected_interval(200, 1000, 90_000, 100_000, 95_000, 100_000)
    assert large.high - large.low < small.high - small.low
    # With Se, Sp essentially known, it is the mapped Jeffreys interval (up to Monte Carlo error).
    mapped = [rogan_gladen(bound, 0.9, 0.95) for bound in jeffreys(200, 1000)]
    assert (large.low, large.high) == pytest.approx(mapped, abs=0.004)


def test_corrected_interval_edge_cases() -> None:
    empty = corrected_interval(0, 0, 90, 100, 95, 100)
    assert math.isnan(empty.corrected) and math.isnan(empty.low)
    with pytest.raises(ValueError):
        corrected_interval(10, 100, 50, 100, 50, 100)  # Se + Sp = 1
    with pytest.raises(ValueError):
        corrected_interval(10, 100, 0, 0, 95, 100)  # no validation positives
    # A barely-better-than-chance evaluator on tiny validation samples: no information, [0, 1].
    vague = corrected_interval(10, 100, 3, 5, 3, 5)
    assert (vague.low, vague.high) == (0.0, 1.0)


def test_corrected_interval_covers_true_prevalence() -> None:
    # True prevalence 0.1, Se 0.9, Sp 0.95, 200 validation positives and negatives, 1,000 graded responses.
    # Threshold 0.92: 300 draws give a Monte Carlo SE of ~1.3 pp at 95%, so 0.92 is ~2.4 SE below nominal.
    # The naive interval (Se, Sp treated as known) is shown to under-cover, so the widening is needed.
    prevalence, se, sp, n, n_val = 0.1, 0.9, 0.95, 1000, 200
    apparent = se * prevalence + (1 - sp) * (1 - prevalence)
    rng = np.random.default_rng(SEED)
    covered = naive_covered = 0
    draws = 300
    for _ in range(draws):
        count = int(rng.binomial(n, apparent))
        tp, tn = int(rng.binomial(n_val, se)), int(rng.binomial(n_val, sp))
        result = corrected_interval(count, n, tp, n_val, tn, n_val)
        covered += result.low <= prevalence <= result.high
        low, high = (rogan_gladen(bound, tp / n_val, tn / n_val) for bound in jeffreys(count, n))
        naive_covered += low <= prevalence <= high
    assert covered / draws >= 0.92, covered / draws
    assert naive_covered / draws < 0.85, naive_covered / draws


# --- the audit's two-phase correction --------------------------------------------------------------------


def test_audit_correction_is_rogan_gladen_with_this_releases_own_error_rates() -> None:
    # 30 of 1,000 flagged; the audit finds 18 of 25 flagged real and 1 of 25 unflagged missed.
    result = audit_corrected_interval(30, 1000, 18, 25, 1, 25)
    ppv, false_omission, p = 18 / 25, 1 / 25, 0.03
    assert result.corrected == pytest.approx(p * ppv + (1 - p) * false_omission)
    assert rogan_gladen(p, result.sensitivity, result.specificity) == pytest.approx(result.corrected)
    assert result.low < result.corrected < result.high


def test_a_bigger_audit_narrows_the_corrected_interval() -> None:
    small = audit_corrected_interval(30, 1000, 4, 5, 0, 5)
    large = audit_corrected_interval(30, 1000, 80, 100, 2, 100)
    assert large.high - large.low < small.high - small.low


def test_an_unaudited_stratum_cannot_be_corrected() -> None:
    with pytest.raises(ValueError, match="no flagged"):
        audit_corrected_interval(30, 1000, 0, 0, 1, 25)
    with pytest.raises(ValueError, match="no unflagged"):
        audit_corrected_interval(30, 1000, 5, 10, 0, 0)
    # Nothing flagged: only the unflagged stratum needs labels.
    assert audit_corrected_interval(0, 1000, 0, 0, 2, 50).corrected == pytest.approx(2 / 50)


def test_audit_interval_covers_the_true_rate_in_simulation() -> None:
    rng = np.random.default_rng(7)
    n, prevalence, sensitivity, specificity = 2000, 0.05, 0.7, 0.97
    covered = 0
    for _ in range(200):
        truth = rng.random(n) < prevalence
        flags = np.where(truth, rng.random(n) < sensitivity, rng.random(n) > specificity)
        flagged, unflagged = np.flatnonzero(flags), np.flatnonzero(~flags)
        audit_f = rng.choice(flagged, 25, replace=False)
        audit_u = rng.choice(unflagged, 25, replace=False)
        result = audit_corrected_interval(
            int(flags.sum()), n, int(truth[audit_f].sum()), 25, int(truth[audit_u].sum()), 25, draws=1000
        )
        covered += result.low <= truth.mean() <= result.high
    assert covered / 200 >= 0.9
