"""The release gate as a markdown report: verdict first, then the evidence table by table."""

from __future__ import annotations

from deploysim.core.arms import Arm
from deploysim.release.gate import CategoryGate, ReleaseGate, SurfaceRate
from deploysim.reporting.markdown import table

_INTRO = (
    "Rates per 100k turns on the sampled production prefixes that both arms answered. "
    "'prior observed' is what production served after those prefixes; candidate and prior are "
    "regenerated on them; the fidelity in brackets is the prior's simulated against observed fold error, "
    "the simulation's noise floor. The calibrated forecast multiplies the raw one by the category's "
    "backtest factor. p-values are two-sided (Fisher exact, McNemar on the pairs); BH is the "
    "Benjamini-Hochberg adjustment across categories."
)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None or value != value else f"{value:,.0f}"


def _interval(value: float | None, bounds: tuple[float, float] | None) -> str:
    if bounds is None:
        return _fmt(value)
    return f"{_fmt(value)} [{_fmt(bounds[0])}, {_fmt(bounds[1])}]"


def _category_row(c: CategoryGate) -> list[str]:
    calibrated = "n/a (no backtest)"
    if c.calibrated_per_100k is not None and c.calibrated_ci_per_100k is not None:
        calibrated = (
            f"{_interval(c.calibrated_per_100k, c.calibrated_ci_per_100k)} (x{c.calibration_factor:.2f})"
        )
    fidelity = f" ({c.fidelity_fold_error:.2f}x)" if c.fidelity_fold_error is not None else ""
    fisher, mcnemar = f"{c.fisher_p:.3g}", f"{c.mcnemar_p:.3g}"
    if c.fisher_p_bh is not None and c.mcnemar_p_bh is not None:
        fisher += f" (BH {c.fisher_p_bh:.3g})"
        mcnemar += f" (BH {c.mcnemar_p_bh:.3g})"
    return [
        c.category,
        _fmt(c.prior_observed_per_100k),
        f"{_fmt(c.prior_simulated_per_100k)}{fidelity}",
        _interval(c.candidate_per_100k, c.candidate_ci_per_100k),
        calibrated,
        str(c.n_paired),
        f"{c.direction} {c.fold_change:.2f}x",
        fisher,
        mcnemar,
        f"**{c.verdict.value}**: {c.reason}",
    ]


def _evidence_rows(categories: list[CategoryGate]) -> list[list[str]]:
    rows = []
    for c in categories:
        e = c.evidence
        if e is None:
            continue
        audit = "none"
        if e.audit_id is not None:
            corrected = _interval(e.audit_corrected_per_100k, e.audit_ci_per_100k)
            audit = f"{e.audit_id}: corrected candidate {corrected}"
        rows.append([c.category, ("validated: " if e.validated else "not validated: ") + e.validation, audit])
    return rows


def _surface_rows(rates: list[SurfaceRate]) -> list[list[str]]:
    cells: dict[tuple[str, str], dict[str, str]] = {}
    for r in (r for r in rates if r.surface != "*"):
        cells.setdefault((r.category, r.surface), {})[r.arm] = (
            f"{_interval(r.rate_per_100k, r.ci_per_100k)} ({r.n})"
        )
    return [
        [
            category,
            surface,
            *(arms.get(arm, "not replayed") for arm in (Arm.PRODUCTION, Arm.PRIOR, Arm.CANDIDATE)),
        ]
        for (category, surface), arms in sorted(cells.items())
    ]


def _interval_row(r: SurfaceRate) -> list[str]:
    jeffreys = "n/a"
    if r.jeffreys_ci_per_100k:
        jeffreys = f"[{_fmt(r.jeffreys_ci_per_100k[0])}, {_fmt(r.jeffreys_ci_per_100k[1])}]"
    corrected = "not validated"
    if r.corrected_per_100k is not None and r.corrected_ci_per_100k is not None:
        corrected = _interval(r.corrected_per_100k, r.corrected_ci_per_100k)
    three = f"< {_fmt(r.rule_of_three_upper_per_100k)}" if r.rule_of_three_upper_per_100k else ""
    wilson = f"[{_fmt(r.ci_per_100k[0])}, {_fmt(r.ci_per_100k[1])}]"
    return [
        r.category,
        r.arm,
        f"{r.count} / {r.n}",
        _fmt(r.rate_per_100k),
        wilson,
        jeffreys,
        three,
        corrected,
    ]


def _share(value: object) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _fold(value: object) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _backtest_lines(b: dict[str, float | int | None]) -> list[str]:
    if not b.get("pairs"):
        return ["No past release has both a forecast and an observed rate yet."]
    accuracy = b["directional_accuracy"]
    moved = "n/a (none moved)" if accuracy is None else f"{accuracy:.0%} of {b['moved_pairs']}"
    persistence_moved = "n/a" if accuracy is None else f"{b['persistence_directional_accuracy']:.0%}"
    rows = [
        ["simulation, raw", _fold(b["median_fold_error"]), _share(b["share_within_2x"]),
         _share(b.get("share_within_10x")), moved],
        ["simulation, calibrated", _fold(b.get("calibrated_median_fold_error")),
         _share(b.get("calibrated_share_within_2x")), _share(b.get("calibrated_share_within_10x")), moved],
        ["persistence (prior's observed rate)", _fold(b["persistence_median_fold_error"]),
         _share(b.get("persistence_share_within_2x")), _share(b.get("persistence_share_within_10x")),
         persistence_moved],
    ]  # fmt: skip
    lines = [
        f"{b['pairs']} release/surface/category pairs. The calibrated forecast is checked "
        "leave-one-release-out: each release calibrated only by the others.",
        "",
        *table(
            ["forecast", "median fold error", "within 2x", "within 10x", "direction right (moved >= 1.5x)"],
            rows,
        ),
    ]
    if b.get("calibration_improvement") is not None:
        verb = "beats" if b.get("calibration_beats_raw") else "does not beat"
        lines += ["", f"Calibration {verb} the raw simulation ({b['calibration_improvement']:.2f}x)."]
    return lines


def to_markdown(gate: ReleaseGate) -> str:
    lines = [
        f"## Release gate: {gate.candidate} (prior {gate.prior}) - **{gate.verdict.value.upper()}**",
        "",
        _INTRO,
        "",
        *table(
            [
                "category",
                "prior observed",
                "prior simulated (fidelity)",
                "raw forecast [95% CI]",
                "calibrated forecast [95% CI]",
                "paired n",
                "change",
                "Fisher p",
                "McNemar p",
                "verdict",
            ],
            (_category_row(c) for c in gate.categories),
        ),
        "",
        f"Control coverage: **{gate.coverage.verdict.value}**: {gate.coverage.reason}.",
        "",
    ]
    if gate.eval_awareness is not None:
        lines += [f"Eval awareness: **{gate.eval_awareness}**: {gate.eval_awareness_summary}", ""]
    evidence = _evidence_rows(gate.categories)
    if evidence:
        lines += [
            "### How far the graders are trusted",
            "",
            "Each category's evaluator against human labels on models it was not written on (pooled held-out "
            "figures), and this release's own labelled audit, which corrects the candidate's rate. A block "
            "from an evaluator below the policy's held-out level needs the audit to confirm it.",
            "",
            *table(["category", "held-out validation", "audit of this release"], evidence),
            "",
        ]
    lines += [
        "### Rates by surface",
        "",
        "Each arm on all the traffic it has: production observed over the whole window, the simulated arms "
        "over the sampled prefixes they answered. Rate per 100k [95% Wilson interval] (n).",
        "",
        *table(
            ["category", "surface", "production observed", "prior simulated", "candidate simulated"],
            _surface_rows(gate.surface_rates),
        ),
        "",
        "### Rates over all surfaces, every interval",
        "",
        "Per 100k turns: Wilson and Jeffreys 95% intervals; for a zero count the rule-of-three upper bound; "
        "and the rate corrected for the evaluator's sensitivity and specificity against human labels "
        "(Rogan-Gladen, interval widened for their uncertainty) where the evaluator is validated.",
        "",
        *table(
            [
                "category",
                "arm",
                "count / n",
                "rate",
                "Wilson",
                "Jeffreys",
                "rule of three",
                "corrected [95% CI]",
            ],
            (
                _interval_row(r)
                for r in sorted(
                    (r for r in gate.surface_rates if r.surface == "*"), key=lambda r: (r.category, r.arm)
                )
            ),
        ),
        "",
        "### Backtest on past releases (how far to trust this forecast)",
        "",
        *_backtest_lines(gate.backtest),
        f"\nGate policy version {gate.policy_version}.",
    ]
    return "\n".join(lines)
