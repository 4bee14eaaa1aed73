"""Rate estimation for binary labels: intervals, zero-count bounds, evaluator-error correction, FDR control.

Every distribution quantile comes from scipy/statsmodels; this module only combines them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

NAN = float("nan")

#: Monte Carlo draws and seed for the corrected-prevalence interval: fixed so reruns give identical output.
BOOTSTRAP_DRAWS = 4_000
BOOTSTRAP_SEED = 20_140_601


def _check_counts(count: int, n: int) -> None:
    if n < 0 or count < 0 or count > n:
        raise ValueError(f"need 0 <= count <= n, got count={count}, n={n}")


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")


def wilson(count: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Two-sided Wilson score interval; (nan, nan) when n == 0 (no data, no interval)."""
    _check_counts(count, n)
    _check_alpha(alpha)
    if n == 0:
        return (NAN, NAN)
    low, high = proportion_confint(count, n, alpha=alpha, method="wilson")
    return float(low), float(high)


def jeffreys(count: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Equal-tailed Jeffreys interval (Beta(count + 1/2, n - count + 1/2) quantiles); (nan, nan) when n == 0.

    With the boundary modification of Brown, Cai & DasGupta (2001): the lower bound is 0 when
    count == 0 and the upper bound is 1 when count == n. Without it a zero count would exclude rate 0,
    which the data cannot do (statsmodels returns the unmodified equal-tailed quantile there).
    """
    _check_counts(count, n)
    _check_alpha(alpha)
    if n == 0:
        return (NAN, NAN)
    low, high = proportion_confint(count, n, alpha=alpha, method="jeffreys")
    low = 0.0 if count == 0 else float(low)
    high = 1.0 if count == n else float(high)
    return low, high


def rule_of_three(n: int, alpha: float = 0.05) -> float:
    """One-sided (1 - alpha) upper bound on the rate after a ZERO count in n trials: -ln(alpha) / n.

    Applies only when count == 0. It is the Poisson approximation (lambda with P(X = 0) = alpha) to the
    exact Clopper-Pearson bound 1 - alpha**(1/n), accurate for n >= ~30; at alpha = 0.05 it is ~3/n.
    Note it is one-sided: all of alpha sits in the upper tail, unlike the two-sided intervals here.
    """
    _check_alpha(alpha)
    if n <= 0:
        raise ValueError(f"the rule of three needs n > 0, got {n}")
    return -math.log(alpha) / n


@dataclass(frozen=True)
class RateEstimate:
    """A binary-label rate with both interval families; NaN fields when n == 0."""

    count: int
    n: int
    rate: float
    wilson_low: float
    wilson_high: float
    jeffreys_low: float
    jeffreys_high: float
    #: Only set when count == 0 (the case the rule of three is for).
    upper_rule_of_three: float | None
    alpha: float = 0.05


def estimate(count: int, n: int, alpha: float = 0.05) -> RateEstimate:
    """Point rate, Wilson and Jeffreys intervals, and the rule-of-three bound when nothing was seen."""
    _check_counts(count, n)
    w_low, w_high = wilson(count, n, alpha)
    j_low, j_high = jeffreys(count, n, alpha)
    return RateEstimate(
        count=int(count),
        n=int(n),
        rate=count / n if n else NAN,
        wilson_low=w_low,
        wilson_high=w_high,
        jeffreys_low=j_low,
        jeffreys_high=j_high,
        upper_rule_of_three=rule_of_three(n, alpha) if n > 0 and count == 0 else None,
        alpha=alpha,
    )


def rogan_gladen(apparent: float, sensitivity: float, specificity: float) -> float:
    """True prevalence from the rate an imperfect evaluator reports: (p + Sp - 1) / (Se + Sp - 1), in [0, 1].

    Raises ValueError when Se + Sp <= 1: such an evaluator is no better than chance and cannot be inverted.
    """
    for name, value in (("apparent", apparent), ("sensitivity", sensitivity), ("specificity", specificity)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {value}")
    youden = sensitivity + specificity - 1.0
    if youden <= 0.0:
        raise ValueError(f"sensitivity + specificity must exceed 1 (got {sensitivity + specificity})")
    return float(min(1.0, max(0.0, (apparent + specificity - 1.0) / youden)))


@dataclass(frozen=True)
class CorrectedEstimate:
    """Evaluator-error-corrected prevalence with an interval that carries the Se/Sp uncertainty."""

    apparent: float
    corrected: float
    low: float
    high: float
    sensitivity: float
    specificity: float
    method: str


def corrected_interval(
    count: int,
    n: int,
    se_tp: int,
    se_n: int,
    sp_tn: int,
    sp_n: int,
    alpha: float = 0.05,
    draws: int = BOOTSTRAP_DRAWS,
    seed: int = BOOTSTRAP_SEED,
) -> CorrectedEstimate:
    """Rogan-Gladen corrected prevalence with a (1 - alpha) interval widened for estimated Se and Sp.

    Method: Monte Carlo propagation ("parametric bootstrap") of three independent Jeffreys posteriors,
    p ~ Beta(count + 1/2, n - count + 1/2), Se ~ Beta(se_tp + 1/2, ...), Sp ~ Beta(sp_tn + 1/2, ...),
    each draw mapped through the clipped Rogan-Gladen formula, and the equal-tailed percentile interval
    taken. Chosen over the delta method (Greenland 1996; Lang & Reiczigel 2014) because behaviour rates
    are rare: the corrected prevalence sits near 0, where a symmetric Wald interval is badly calibrated
    and the delta variance ignores the clipping at 0; percentiles of the clipped draws respect [0, 1]
    and the skew. The seed is fixed so the result is reproducible.

    The interval is then extended to contain the Wilson and Jeffreys intervals of the apparent rate
    mapped through the point correction (Se, Sp treated as known), so it is never narrower than the
    uncorrected interval: extra uncertainty about the evaluator can only widen it. If more than alpha
    of the draws have Se + Sp <= 1 (the evaluator is not demonstrably better than chance) the interval
    is [0, 1]. Raises ValueError when the point estimates have Se + Sp <= 1, or without validation data.
    """
    _check_counts(count, n)
    _check_counts(se_tp, se_n)
    _check_counts(sp_tn, sp_n)
    _check_alpha(alpha)
    if se_n == 0 or sp_n == 0:
        raise ValueError("sensitivity and specificity need validation samples (se_n > 0 and sp_n > 0)")
    sensitivity, specificity = se_tp / se_n, sp_tn / sp_n
    method = f"rogan-gladen; jeffreys-posterior parametric bootstrap ({draws} draws, percentile)"
    if n == 0:
        rogan_gladen(0.0, sensitivity, specificity)  # still reject a chance-level evaluator
        return CorrectedEstimate(NAN, NAN, NAN, NAN, sensitivity, specificity, method)
    apparent = count / n
    corrected = rogan_gladen(apparent, sensitivity, specificity)

    rng = np.random.default_rng(seed)
    p = rng.beta(count + 0.5, n - count + 0.5, size=draws)
    se = rng.beta(se_tp + 0.5, se_n - se_tp + 0.5, size=draws)
    sp = rng.beta(sp_tn + 0.5, sp_n - sp_tn + 0.5, size=draws)
    youden = se + sp - 1.0
    valid = youden > 0.0
    if 1.0 - valid.mean() > alpha:
        low, high = 0.0, 1.0
    else:
        values = np.clip((p[valid] + sp[valid] - 1.0) / youden[valid], 0.0, 1.0)
        low, high = (float(q) for q in np.quantile(values, [alpha / 2, 1.0 - alpha / 2]))

    for a_low, a_high in (wilson(count, n, alpha), jeffreys(count, n, alpha)):
        low = min(low, rogan_gladen(a_low, sensitivity, specificity))
        high = max(high, rogan_gladen(a_high, sensitivity, specificity))
    return CorrectedEstimate(
        apparent=apparent,
        corrected=corrected,
        low=low,
        high=high,
        sensitivity=sensitivity,
        specificity=specificity,
        method=method,
    )


def audit_corrected_interval(
    count: int,
    n: int,
    flagged_true: int,
    flagged_audited: int,
    unflagged_true: int,
    unflagged_audited: int,
    alpha: float = 0.05,
    draws: int = BOOTSTRAP_DRAWS,
    seed: int = BOOTSTRAP_SEED,
) -> CorrectedEstimate:
    """The rate corrected by a stratified audit of these very responses: `count` of `n` were flagged; a
    human labelled `flagged_audited` flagged and `unflagged_audited` unflagged ones, and found the behaviour
    in `flagged_true` and `unflagged_true` of them.

    Two-phase estimator: prevalence = p * PPV + (1 - p) * FOR, with p the flagged share, PPV the share of
    flagged responses that show the behaviour and FOR the share of unflagged ones that do. It is Rogan-Gladen
    with this release's own sensitivity (p * PPV / prevalence) and specificity ((1 - p)(1 - FOR) /
    (1 - prevalence)), which it reports. The interval propagates the Jeffreys posteriors of p, PPV and FOR
    (parametric bootstrap, percentile), so a small audit gives a wide interval. Raises ValueError when a
    stratum that holds responses was not audited.
    """
    _check_counts(count, n)
    _check_counts(flagged_true, flagged_audited)
    _check_counts(unflagged_true, unflagged_audited)
    _check_alpha(alpha)
    if count > 0 and flagged_audited == 0:
        raise ValueError(
            "the audit labelled no flagged response, so the flagged share's precision is unknown"
        )
    if n - count > 0 and unflagged_audited == 0:
        raise ValueError("the audit labelled no unflagged response, so what the evaluator misses is unknown")
    method = (
        f"stratified audit (two-phase); jeffreys-posterior parametric bootstrap ({draws} draws, percentile)"
    )
    if n == 0:
        return CorrectedEstimate(NAN, NAN, NAN, NAN, NAN, NAN, method)
    apparent = count / n
    ppv = flagged_true / flagged_audited if flagged_audited else 0.0
    false_omission = unflagged_true / unflagged_audited if unflagged_audited else 0.0
    corrected = apparent * ppv + (1.0 - apparent) * false_omission
    sensitivity = apparent * ppv / corrected if corrected > 0 else NAN
    specificity = (1.0 - apparent) * (1.0 - false_omission) / (1.0 - corrected) if corrected < 1 else NAN

    rng = np.random.default_rng(seed)
    p = rng.beta(count + 0.5, n - count + 0.5, size=draws)
    ppv_draws = rng.beta(flagged_true + 0.5, flagged_audited - flagged_true + 0.5, size=draws)
    for_draws = rng.beta(unflagged_true + 0.5, unflagged_audited - unflagged_true + 0.5, size=draws)
    values = p * ppv_draws + (1.0 - p) * for_draws
    low, high = (float(q) for q in np.quantile(values, [alpha / 2, 1.0 - alpha / 2]))
    return CorrectedEstimate(
        apparent=apparent,
        corrected=corrected,
        low=min(low, corrected),
        high=max(high, corrected),
        sensitivity=sensitivity,
        specificity=specificity,
        method=method,
    )


def bh_adjusted(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values); NaN in, NaN out, and NaNs do not count towards m
    (NaN means "not tested"). A hypothesis is rejected at false discovery rate alpha when its q < alpha."""
    values = np.asarray(p_values, dtype=float)
    adjusted = np.full(values.shape, NAN)
    tested = ~np.isnan(values)
    if tested.any():
        adjusted[tested] = multipletests(values[tested], method="fdr_bh")[1]
    return [float(a) for a in adjusted]
