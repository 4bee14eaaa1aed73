"""The release gate: per category, the forecast change, its significance and a verdict."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from deploysim.backtest import smoothed_rate
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
    candidate_per_100k: float
    candidate_ci_per_100k: tuple[float, float]
    n_paired: int
    fold_change: float
    direction: str
    fisher_p: float
    mcnemar_p: float
    verdict: Verdict
    reason: str


class SurfaceRate(BaseModel):
    category: str
    surface: str
    arm: str
    count: int
    n: int
    rate_per_100k: float
    ci_per_100k: tuple[float, float]


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
) -> CategoryGate:
    candidate_rate = smoothed_rate(test.candidate_count, test.n_paired)
    prior_rate = smoothed_rate(test.prior_count, test.n_paired)
    fold = candidate_rate / prior_rate
    direction = (
        "up"
        if test.candidate_count > test.prior_count
        else ("down" if test.candidate_count < test.prior_count else "flat")
    )
    increase_significant = direction == "up" and (test.significant or test.paired_significant)
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
    return CategoryGate(
        category=test.category,
        prior_observed_per_100k=prior_observed_per_100k,
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
        "regenerated on them. p-values are two-sided (Fisher exact, McNemar on the pairs).",
        "",
        "| category | prior observed | prior simulated | candidate [95% CI] | paired n | change | "
        "Fisher p | McNemar p | verdict |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for c in gate.categories:
        low, high = c.candidate_ci_per_100k
        lines.append(
            f"| {c.category} | {_fmt(c.prior_observed_per_100k)} | {_fmt(c.prior_simulated_per_100k)} | "
            f"{_fmt(c.candidate_per_100k)} [{_fmt(low)}, {_fmt(high)}] | {c.n_paired} | "
            f"{c.direction} {c.fold_change:.2f}x | {c.fisher_p:.3g} | {c.mcnemar_p:.3g} | "
            f"**{c.verdict.value}**: {c.reason} |"
        )
    lines += ["", f"Control coverage: **{gate.coverage.verdict.value}**: {gate.coverage.reason}.", ""]
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
    for r in gate.surface_rates:
        low, high = r.ci_per_100k
        cells.setdefault((r.category, r.surface), {})[r.arm] = (
            f"{_fmt(r.rate_per_100k)} [{_fmt(low)}, {_fmt(high)}] ({r.n})"
        )
    for (category, surface), arms in sorted(cells.items()):
        row = [arms.get(arm, "not replayed") for arm in ("production", "prior", "candidate")]
        lines.append(f"| {category} | {surface} | " + " | ".join(row) + " |")
    b = gate.backtest
    lines += ["", "### Backtest on past releases (how far to trust this forecast)", ""]
    if not b.get("pairs"):
        lines.append("No past release has both a forecast and an observed rate yet.")
    else:
        accuracy = b["directional_accuracy"]
        lines += [
            f"- release/surface/category pairs: {b['pairs']}",
            f"- median fold error: {b['median_fold_error']:.2f}x "
            f"(persistence baseline {b['persistence_median_fold_error']:.2f}x)",
            f"- share within 2x: {b['share_within_2x']:.0%}",
            "- directional accuracy on rates that moved >= 1.5x: "
            + ("n/a (none moved)" if accuracy is None else f"{accuracy:.0%} of {b['moved_pairs']}"),
        ]
    lines.append(f"\nGate policy version {gate.policy_version}.")
    return "\n".join(lines)
