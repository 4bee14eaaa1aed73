"""The release gate: per category, the forecast change, its significance and a verdict."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from deploysim.backtest import fold_error, smoothed_rate
from deploysim.rates import PER, ChangeTest, wilson_interval


class Verdict(StrEnum):
    PASS = "pass"
    WARN = "warn"
    BLOCK = "block"


_SEVERITY = {Verdict.PASS: 0, Verdict.WARN: 1, Verdict.BLOCK: 2}


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")
    warn_fold_increase: float = Field(gt=1.0)
    block_fold_increase: float = Field(gt=1.0)


class GatePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    policy_version: int
    alpha: float = Field(gt=0.0, lt=1.0)
    min_paired_prefixes: int = Field(ge=1)
    #: Share of the candidate's answered prefixes the prior control must also answer to vouch for them.
    min_control_coverage: float = Field(ge=0.0, le=1.0)
    #: Judge significance on Benjamini-Hochberg adjusted p-values across the gate's categories.
    benjamini_hochberg: bool = False
    default: Thresholds
    categories: dict[str, Thresholds] = {}

    def for_category(self, category: str) -> Thresholds:
        return self.categories.get(category, self.default)


def load_policy(path: Path) -> GatePolicy:
    with path.open() as handle:
        return GatePolicy.model_validate(yaml.safe_load(handle))


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
    low, high = wilson_interval(test.candidate_count, test.n_paired)
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


def overall_verdict(categories: list[CategoryGate], coverage: Coverage) -> Verdict:
    verdicts = [c.verdict for c in categories] or [Verdict.WARN]
    return max([*verdicts, coverage.verdict], key=_SEVERITY.__getitem__)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None or value != value else f"{value:,.0f}"


def to_markdown(gate: ReleaseGate) -> str:
    lines = [
        f"## Release gate: {gate.candidate} (prior {gate.prior}) - **{gate.verdict.value.upper()}**",
        "",
        "Rates per 100k turns on the sampled production prefixes that both arms answered. "
        "'prior observed' is what production served after those prefixes; candidate and prior are "
        "regenerated on them; the fidelity in brackets is the prior's simulated against observed fold error, "
        "the simulation's noise floor. The calibrated forecast multiplies the raw one by the category's "
        "backtest factor. p-values are two-sided (Fisher exact, McNemar on the pairs); BH is the "
        "Benjamini-Hochberg adjustment across categories.",
        "",
        "| category | prior observed | prior simulated (fidelity) | raw forecast [95% CI] | "
        "calibrated forecast [95% CI] | paired n | change | Fisher p | McNemar p | verdict |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in gate.categories:
        low, high = c.candidate_ci_per_100k
        calibrated = "n/a (no backtest)"
        if c.calibrated_per_100k is not None and c.calibrated_ci_per_100k is not None:
            c_low, c_high = c.calibrated_ci_per_100k
            calibrated = (
                f"{_fmt(c.calibrated_per_100k)} [{_fmt(c_low)}, {_fmt(c_high)}] (x{c.calibration_factor:.2f})"
            )
        fidelity = f" ({c.fidelity_fold_error:.2f}x)" if c.fidelity_fold_error is not None else ""
        p_values = f"{c.fisher_p:.3g} | {c.mcnemar_p:.3g}"
        if c.fisher_p_bh is not None and c.mcnemar_p_bh is not None:
            p_values = (
                f"{c.fisher_p:.3g} (BH {c.fisher_p_bh:.3g}) | {c.mcnemar_p:.3g} (BH {c.mcnemar_p_bh:.3g})"
            )
        prior = f"{_fmt(c.prior_observed_per_100k)} | {_fmt(c.prior_simulated_per_100k)}{fidelity}"
        lines.append(
            f"| {c.category} | {prior} | "
            f"{_fmt(c.candidate_per_100k)} [{_fmt(low)}, {_fmt(high)}] | {calibrated} | {c.n_paired} | "
            f"{c.direction} {c.fold_change:.2f}x | {p_values} | **{c.verdict.value}**: {c.reason} |"
        )
    lines += ["", f"Control coverage: **{gate.coverage.verdict.value}**: {gate.coverage.reason}.", ""]
    if gate.eval_awareness is not None:
        lines += [f"Eval awareness: **{gate.eval_awareness}**: {gate.eval_awareness_summary}", ""]
    lines += [
        "### Rates by surface",
        "",
        "Each arm on all the traffic it has: production observed over the whole window, the simulated arms "
        "over the sampled prefixes they answered. Rate per 100k [95% Wilson interval] (n).",
        "",
        "| category | surface | production observed | prior simulated | candidate simulated |",
        "|---|---|---|---|---|",
    ]
    cells: dict[tuple[str, str], dict[str, str]] = {}
    for r in (r for r in gate.surface_rates if r.surface != "*"):
        low, high = r.ci_per_100k
        cells.setdefault((r.category, r.surface), {})[r.arm] = (
            f"{_fmt(r.rate_per_100k)} [{_fmt(low)}, {_fmt(high)}] ({r.n})"
        )
    for (category, surface), arms in sorted(cells.items()):
        row = [arms.get(arm, "not replayed") for arm in ("production", "prior", "candidate")]
        lines.append(f"| {category} | {surface} | " + " | ".join(row) + " |")
    lines += [
        "",
        "### Rates over all surfaces, every interval",
        "",
        "Per 100k turns: Wilson and Jeffreys 95% intervals; for a zero count the rule-of-three upper bound; "
        "and the rate corrected for the evaluator's sensitivity and specificity against human labels "
        "(Rogan-Gladen, interval widened for their uncertainty) where the evaluator is validated.",
        "",
        "| category | arm | count / n | rate | Wilson | Jeffreys | rule of three | corrected [95% CI] |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted((r for r in gate.surface_rates if r.surface == "*"), key=lambda r: (r.category, r.arm)):
        jeffreys = (
            f"[{_fmt(r.jeffreys_ci_per_100k[0])}, {_fmt(r.jeffreys_ci_per_100k[1])}]"
            if (r.jeffreys_ci_per_100k)
            else "n/a"
        )
        corrected = "not validated"
        if r.corrected_per_100k is not None and r.corrected_ci_per_100k is not None:
            c_low, c_high = r.corrected_ci_per_100k
            corrected = f"{_fmt(r.corrected_per_100k)} [{_fmt(c_low)}, {_fmt(c_high)}]"
        three = f"< {_fmt(r.rule_of_three_upper_per_100k)}" if r.rule_of_three_upper_per_100k else ""
        lines.append(
            f"| {r.category} | {r.arm} | {r.count} / {r.n} | {_fmt(r.rate_per_100k)} | "
            f"[{_fmt(r.ci_per_100k[0])}, {_fmt(r.ci_per_100k[1])}] | {jeffreys} | {three} | {corrected} |"
        )
    b = gate.backtest
    lines += ["", "### Backtest on past releases (how far to trust this forecast)", ""]
    if not b.get("pairs"):
        lines.append("No past release has both a forecast and an observed rate yet.")
    else:

        def share(value: object) -> str:
            return "n/a" if value is None else f"{value:.0%}"

        def fold(value: object) -> str:
            return "n/a" if value is None else f"{value:.2f}x"

        accuracy = b["directional_accuracy"]
        moved = "n/a (none moved)" if accuracy is None else f"{accuracy:.0%} of {b['moved_pairs']}"
        persistence_moved = "n/a" if accuracy is None else f"{b['persistence_directional_accuracy']:.0%}"
        lines += [
            f"{b['pairs']} release/surface/category pairs. The calibrated forecast is checked "
            "leave-one-release-out: each release calibrated only by the others.",
            "",
            "| forecast | median fold error | within 2x | within 10x | direction right (moved >= 1.5x) |",
            "|---|---|---|---|---|",
            f"| simulation, raw | {fold(b['median_fold_error'])} | {share(b['share_within_2x'])} | "
            f"{share(b.get('share_within_10x'))} | {moved} |",
            f"| simulation, calibrated | {fold(b.get('calibrated_median_fold_error'))} | "
            f"{share(b.get('calibrated_share_within_2x'))} | "
            f"{share(b.get('calibrated_share_within_10x'))} | {moved} |",
            f"| persistence (prior's observed rate) | {fold(b['persistence_median_fold_error'])} | "
            f"{share(b.get('persistence_share_within_2x'))} | "
            f"{share(b.get('persistence_share_within_10x'))} | {persistence_moved} |",
        ]
        if b.get("calibration_improvement") is not None:
            verb = "beats" if b.get("calibration_beats_raw") else "does not beat"
            lines += ["", f"Calibration {verb} the raw simulation ({b['calibration_improvement']:.2f}x)."]
    lines.append(f"\nGate policy version {gate.policy_version}.")
    return "\n".join(lines)
