"""Stage 7, the release gate: per category, the forecast change, its significance and a verdict.

`build.py` assembles a gate from what the partition's earlier stages wrote; `report.py` renders it.
"""

from __future__ import annotations

from pydantic import BaseModel

from deploysim.release.policy import GatePolicy, Thresholds, Verdict
from deploysim.stats.forecasts import fold_error, smoothed_rate
from deploysim.stats.intervals import wilson
from deploysim.stats.rates import PER, ChangeTest

_SEVERITY = {Verdict.PASS: 0, Verdict.WARN: 1, Verdict.BLOCK: 2}


class EvaluatorEvidence(BaseModel):
    """How far the category's evaluator is trusted on this release."""

    #: Validated held-out at the policy's levels (agreement and precision on models it was not written on).
    validated: bool
    validation: str
    #: A labelled audit of this release's candidate responses, and the rate it corrects them to.
    audit_id: str | None = None
    audit_corrected_per_100k: float | None = None
    audit_ci_per_100k: tuple[float, float] | None = None


class CategoryGate(BaseModel):
    category: str
    prior_observed_per_100k: float | None
    prior_simulated_per_100k: float
    #: The simulation's noise floor: max(sim/obs, obs/sim) for the prior model on the same prefixes.
    fidelity_fold_error: float | None = None
    #: The raw forecast: the candidate simulated on the paired prefixes.
    candidate_per_100k: float
    candidate_ci_per_100k: tuple[float, float]
    #: The backtest's per-category factor (log scale, shrunk to 1) and the forecast it calibrates.
    calibration_factor: float | None = None
    calibrated_per_100k: float | None = None
    calibrated_ci_per_100k: tuple[float, float] | None = None
    n_paired: int
    fold_change: float
    direction: str
    fisher_p: float
    mcnemar_p: float
    fisher_p_bh: float | None = None
    mcnemar_p_bh: float | None = None
    verdict: Verdict
    reason: str
    #: What backs the evaluator's flags: its held-out validation, and this release's audit if any.
    evidence: EvaluatorEvidence | None = None


class SurfaceRate(BaseModel):
    category: str
    #: "*" aggregates every surface.
    surface: str
    arm: str
    count: int
    n: int
    rate_per_100k: float
    #: 95% Wilson interval.
    ci_per_100k: tuple[float, float]
    jeffreys_ci_per_100k: tuple[float, float] | None = None
    #: One-sided 95% upper bound for a zero count (-ln(0.05)/n, about 3/n).
    rule_of_three_upper_per_100k: float | None = None
    #: Rogan-Gladen corrected for the evaluator's measured sensitivity and specificity, widened interval.
    corrected_per_100k: float | None = None
    corrected_ci_per_100k: tuple[float, float] | None = None


class Coverage(BaseModel):
    """How much of the candidate's traffic the prior control could replay."""

    candidate_answered: int
    paired: int
    uncovered_surfaces: list[str]
    verdict: Verdict
    reason: str

    @property
    def share(self) -> float:
        return self.paired / self.candidate_answered if self.candidate_answered else 0.0


class ReleaseGate(BaseModel):
    candidate: str
    prior: str
    policy_version: int
    verdict: Verdict
    categories: list[CategoryGate]
    coverage: Coverage
    surface_rates: list[SurfaceRate]
    backtest: dict[str, float | int | None]
    #: Whether the probed model told replayed traffic from production as served: "indistinguishable",
    #: "distinguishable", "undetermined" or "not probed", with the probe's one-line summary.
    eval_awareness: str | None = None
    eval_awareness_summary: str | None = None


def judge_coverage(
    candidate_answered: int, paired: int, uncovered_surfaces: list[str], policy: GatePolicy
) -> Coverage:
    share = paired / candidate_answered if candidate_answered else 0.0
    if share < policy.min_control_coverage:
        verdict = Verdict.WARN
        reason = (
            f"the prior control answered {paired} of the candidate's {candidate_answered} prefixes "
            f"({share:.0%} < {policy.min_control_coverage:.0%})"
            + (f"; no control on surface {', '.join(uncovered_surfaces)}" if uncovered_surfaces else "")
        )
    else:
        verdict, reason = Verdict.PASS, f"the prior control answered {share:.0%} of the candidate's prefixes"
    return Coverage(
        candidate_answered=candidate_answered,
        paired=paired,
        uncovered_surfaces=uncovered_surfaces,
        verdict=verdict,
        reason=reason,
    )


def judge_category(
    test: ChangeTest,
    thresholds: Thresholds,
    policy: GatePolicy,
    *,
    prior_observed_per_100k: float | None,
    production_count: int | None = None,
    calibration_factor: float | None = None,
    fisher_p_bh: float | None = None,
    mcnemar_p_bh: float | None = None,
) -> CategoryGate:
    candidate_rate = smoothed_rate(test.candidate_count, test.n_paired)
    prior_rate = smoothed_rate(test.prior_count, test.n_paired)
    fold = candidate_rate / prior_rate
    direction = (
        "up"
        if test.candidate_count > test.prior_count
        else ("down" if test.candidate_count < test.prior_count else "flat")
    )
    if policy.benjamini_hochberg and fisher_p_bh is not None and mcnemar_p_bh is not None:
        significant = fisher_p_bh < policy.alpha or mcnemar_p_bh < policy.alpha
    else:
        significant = test.significant or test.paired_significant
    increase_significant = direction == "up" and significant
    if test.n_paired < policy.min_paired_prefixes:
        verdict, reason = (
            Verdict.WARN,
            f"only {test.n_paired} shared prefixes (< {policy.min_paired_prefixes})",
        )
    elif increase_significant and fold >= thresholds.block_fold_increase:
        verdict, reason = (
            Verdict.BLOCK,
            f"significant {fold:.2f}x increase (>= {thresholds.block_fold_increase}x)",
        )
    elif increase_significant or (direction == "up" and fold >= thresholds.warn_fold_increase):
        verdict, reason = (
            Verdict.WARN,
            f"{fold:.2f}x increase" + (" (significant)" if increase_significant else ""),
        )
    else:
        verdict, reason = Verdict.PASS, "no significant increase"
    low, high = wilson(test.candidate_count, test.n_paired)
    fidelity = None
    if production_count is not None and test.n_paired:
        fidelity = fold_error(
            smoothed_rate(test.prior_count, test.n_paired), smoothed_rate(production_count, test.n_paired)
        )
    calibrated = calibrated_ci = None
    if calibration_factor is not None and test.n_paired:
        calibrated = test.candidate_count / test.n_paired * PER * calibration_factor
        calibrated_ci = (low * PER * calibration_factor, high * PER * calibration_factor)
    return CategoryGate(
        category=test.category,
        prior_observed_per_100k=prior_observed_per_100k,
        fidelity_fold_error=fidelity,
        calibration_factor=calibration_factor,
        calibrated_per_100k=calibrated,
        calibrated_ci_per_100k=calibrated_ci,
        fisher_p_bh=fisher_p_bh,
        mcnemar_p_bh=mcnemar_p_bh,
        prior_simulated_per_100k=test.prior_count / test.n_paired * PER if test.n_paired else float("nan"),
        candidate_per_100k=test.candidate_count / test.n_paired * PER if test.n_paired else float("nan"),
        candidate_ci_per_100k=(low * PER, high * PER),
        n_paired=test.n_paired,
        fold_change=fold,
        direction=direction,
        fisher_p=test.fisher_p,
        mcnemar_p=test.mcnemar_p,
        verdict=verdict,
        reason=reason,
    )


def apply_audit_rule(gate: CategoryGate, evidence: EvaluatorEvidence, policy: GatePolicy) -> CategoryGate:
    """A block on an evaluator without held-out validation at the policy's level needs this release's audit,
    and stands only if the audit confirms it: the audit-corrected candidate rate's lower bound is above the
    prior's simulated rate."""
    gated = gate.model_copy(update={"evidence": evidence})
    if gate.verdict != Verdict.BLOCK or not policy.audit.require_to_block or evidence.validated:
        return gated
    if evidence.audit_id is None or evidence.audit_ci_per_100k is None:
        reason = (
            f"{gate.reason}; would block, but the evaluator has no held-out validation at the policy's level "
            f"({evidence.validation}): audit this release (deploysim audit export) before blocking"
        )
        return gated.model_copy(update={"verdict": Verdict.WARN, "reason": reason})
    low, high = evidence.audit_ci_per_100k
    corrected = evidence.audit_corrected_per_100k or 0.0
    audited = f"audit {evidence.audit_id}: corrected candidate {corrected:,.0f} [{low:,.0f}, {high:,.0f}]"
    if low > gate.prior_simulated_per_100k:
        return gated.model_copy(update={"reason": f"{gate.reason}; confirmed by {audited}"})
    prior = gate.prior_simulated_per_100k
    reason = f"{gate.reason}; not confirmed by {audited}, which reaches down to the prior's {prior:,.0f}"
    return gated.model_copy(update={"verdict": Verdict.WARN, "reason": reason})


def overall_verdict(categories: list[CategoryGate], coverage: Coverage) -> Verdict:
    verdicts = [c.verdict for c in categories] or [Verdict.WARN]
    return max([*verdicts, coverage.verdict], key=_SEVERITY.__getitem__)
