"""The release gate as a markdown report: one sentence with the verdict and why, then the evidence."""

from __future__ import annotations

from deploysim.core.arms import Arm
from deploysim.release.examples import examples_markdown
from deploysim.release.gate import CategoryGate, Forecast, ReleaseGate, SurfaceRate
from deploysim.release.policy import Verdict
from deploysim.reporting.markdown import table
from deploysim.stats.backtest import FORECAST_TITLES, FORECASTS, MIN_MOVES, BacktestSummary, ForecastScore

_INTRO = (
    "Per category: the prior's observed production rate over the window; the prior and the candidate "
    "simulated on the prefixes both answered, with the prior's fidelity (simulated against what production "
    "served after the same prefixes); the candidate's production rate forecast four ways; and the change "
    "test, Fisher exact and McNemar on the pairs, with Benjamini-Hochberg across categories. A warning or "
    "a block needs a significant change that is also large enough to matter (the policy's fold and "
    "absolute thresholds). Rates are per 100k turns."
)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None or value != value else f"{value:,.0f}"


def _interval(value: float | None, bounds: tuple[float, float] | None) -> str:
    if bounds is None:
        return _fmt(value)
    return f"{_fmt(value)} [{_fmt(bounds[0])}, {_fmt(bounds[1])}]"


def _forecast(forecast: Forecast | None) -> str:
    return "n/a" if forecast is None else _interval(forecast.rate_per_100k, forecast.ci_per_100k)


def headline(gate: ReleaseGate) -> str:
    """One sentence: the verdict and why."""
    who = f"{gate.candidate} against its prior {gate.prior}"
    if gate.coverage.verdict == Verdict.ERROR:  # nothing else can be judged on missing answers
        return f"**ERROR** for {who}: {gate.coverage.reason}."
    reasons = [f"{c.category}: {c.reason}" for c in gate.categories if c.verdict != Verdict.PASS]
    if gate.coverage.verdict != Verdict.PASS:
        reasons.append(gate.coverage.reason)
    if not gate.categories:
        reasons.append("no category could be compared")
    if not reasons:
        moved = [c.category for c in gate.categories if c.significant]
        note = f" ({', '.join(moved)} changed significantly, within the policy)" if moved else ""
        return f"**PASS** for {who}: no behaviour rose significantly and by enough to matter{note}."
    return f"**{gate.verdict.value.upper()}** for {who}: " + "; ".join(reasons) + "."


def _category_row(c: CategoryGate) -> list[str]:
    fidelity = c.fidelity_note or (
        "n/a" if c.fidelity_fold_error is None else f"{c.fidelity_fold_error:.2f}x"
    )
    fisher, mcnemar = f"{c.fisher_p:.3g}", f"{c.mcnemar_p:.3g}"
    if c.fisher_p_bh is not None and c.mcnemar_p_bh is not None:
        fisher += f" (BH {c.fisher_p_bh:.3g})"
        mcnemar += f" (BH {c.mcnemar_p_bh:.3g})"
    calibrated = _forecast(c.forecasts.get("calibrated"))
    if c.calibration_factor is not None:
        calibrated += f" (x{c.calibration_factor:.2f})"
    return [
        c.category,
        _fmt(c.prior_observed_per_100k),
        _fmt(c.prior_simulated_per_100k),
        fidelity,
        _forecast(c.forecasts.get("raw")),
        _forecast(c.forecasts.get("ratio")),
        calibrated,
        str(c.n_paired),
        f"{c.direction} {c.fold_change:.2f}x ({c.change_per_100k:+,.0f})",
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


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _number(value: float | None, fmt: str) -> str:
    return "n/a" if value is None else format(value, fmt)


def _score_rows(scores: list[ForecastScore], chain: str | None = None) -> list[list[str]]:
    return [
        [
            *([chain] if chain is not None else []),
            FORECAST_TITLES[s.forecast],
            _number(s.median_fold_error, ".2f") + "x" * (s.median_fold_error is not None),
            _share(s.within_2x),
            _share(s.within_10x),
            _number(s.median_regret, ".2f"),
            _number(s.total_regret, ",.1f"),
        ]
        for s in scores
    ]


def backtest_lines(b: BacktestSummary) -> list[str]:
    if not b.pairs:
        return ["No past release has both a forecast and an observed rate yet."]
    header = [
        "forecast",
        "median fold error",
        "within 2x",
        "within 10x",
        "median NLL regret",
        "total NLL regret",
    ]
    direction = [
        [
            d.scope,
            d.rule,
            str(d.qualifying),
            f"{d.accuracy:.0%} [{d.low:.0%}, {d.high:.0%}] ({d.right} of {d.qualifying})"
            if d.enough and d.accuracy is not None
            else f"not enough moves ({d.qualifying} < {MIN_MOVES})",
            str(d.predicted_flat),
        ]
        for d in b.direction
    ]
    lines = [
        f"{b.pairs} release/surface/category pairs from {len(b.releases)} releases in {len(b.chains)} chains "
        f"({', '.join(b.chains)}); each chain is calibrated on its own releases, leave one release out.",
        "",
        *table(header, _score_rows(b.forecasts)),
        "",
        *table(["chain", *header], [row for chain, s in b.by_chain.items() for row in _score_rows(s, chain)]),
        "",
        "Direction right, with a 95% Wilson interval: on observed moves of at least 1.5x, and on moves "
        "that are significant themselves (Fisher on the two observed production counts, alpha 0.1). A pair "
        "where the simulation predicted no change (equal paired counts) counts as wrong.",
        "",
        *table(["scope", "moves", "qualifying pairs", "direction right", "no change predicted"], direction),
    ]
    winners = best_by_metric(b.forecasts)
    if winners:
        lines += ["", "Best forecast by metric: " + "; ".join(f"{m}: {w}" for m, w in winners.items()) + "."]
    return lines


#: Backtest metrics, and whether a higher value is better.
_METRICS = {
    "median fold error": ("median_fold_error", False),
    "within 2x": ("within_2x", True),
    "median NLL regret": ("median_regret", False),
    "total NLL regret": ("total_regret", False),
}


def best_by_metric(scores: list[ForecastScore]) -> dict[str, str]:
    """Which forecast wins each metric (ties named together), over the pooled backtest."""
    winners = {}
    for name, (field, higher) in _METRICS.items():
        values = {s.forecast: getattr(s, field) for s in scores if getattr(s, field) is not None}
        if values:
            best = (max if higher else min)(values.values())
            tied = [f for f, v in values.items() if abs(v - best) <= 1e-9 * max(1.0, abs(best))]
            winners[name] = " and ".join(FORECAST_TITLES[f] for f in tied)
    return winners


def to_markdown(gate: ReleaseGate) -> str:
    forecasts = ", ".join(FORECAST_TITLES[name] for name in FORECASTS)
    lines = [
        headline(gate),
        "",
        f"## Release gate: {gate.candidate} (prior {gate.prior}) - {gate.verdict.value.upper()}",
        "",
        _INTRO,
        f" Forecasts: {forecasts}; the ratio's interval is a paired bootstrap.",
        "",
        *table(
            [
                "category",
                "prior observed",
                "prior simulated",
                "fidelity",
                "raw forecast [95% CI]",
                "ratio forecast [95% CI]",
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
    if gate.examples:
        lines += [
            "### What changed, shown",
            "",
            "Paired examples of each category that moved: the same de-identified prefix answered by the "
            "prior and by the candidate, label flips first. `deploysim examples` lists them all.",
            "",
            examples_markdown(gate.examples),
            "",
        ]
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
        "and the rate corrected for the evaluator's errors (this release's audit, or Rogan-Gladen from its "
        "held-out validation) where there is one.",
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
        *backtest_lines(gate.backtest),
        f"\nGate policy version {gate.policy_version}.",
    ]
    return "\n".join(lines)
