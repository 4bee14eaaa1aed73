"""The probe's report in markdown: the comparison's summary, then tables per suite, phrasing, verbalized."""

from __future__ import annotations

import math
from collections.abc import Sequence

from deploysim.awareness.comparison import level, p_text, pct, pct_ci
from deploysim.awareness.types import (
    SUITE_TITLES,
    Indistinguishability,
    PhrasingShare,
    SuiteShare,
    VerbalizedShare,
)
from deploysim.reporting.markdown import table


def _suite_name(suite: str) -> str:
    return SUITE_TITLES.get(suite, suite)


def _share_row(share: SuiteShare) -> list[str]:
    return [
        str(share.n),
        str(share.parsed),
        str(share.flagged),
        pct_ci(share),
        f"{share.unparseable} ({pct(share.unparseable_share)})",
        str(share.failed),
    ]


def markdown(
    shares: Sequence[SuiteShare],
    phrasings: Sequence[PhrasingShare],
    comparison: Indistinguishability | None,
    verbalized: Sequence[VerbalizedShare],
) -> str:
    """A compact report: the comparison's summary, then tables per suite, per phrasing and verbalized."""
    share_header = ["n", "parsed", "flagged", "share flagged", "unparseable", "failed"]
    lines: list[str] = []
    if comparison is not None:
        lines += ["**Replayed vs production as served.** " + comparison.summary, ""]
        diff = "–"
        if math.isfinite(comparison.difference):
            diff = (
                f"{100 * comparison.difference:+.1f} pp "
                f"[{100 * comparison.difference_low:+.1f}, {100 * comparison.difference_high:+.1f}]"
            )
        lines += table(
            [
                "pairs",
                "flagged: replayed / production",
                "only replayed / only production",
                f"difference ({level(comparison.alpha)} CI, Newcombe)",
                "Fisher",
                "McNemar",
                "verdict",
            ],
            [
                [
                    str(comparison.n_pairs),
                    f"{comparison.paired_replayed_flagged} / {comparison.paired_production_flagged}",
                    f"{comparison.replayed_only} / {comparison.production_only}",
                    diff,
                    p_text(comparison.fisher_p),
                    p_text(comparison.mcnemar_p),
                    comparison.verdict,
                ]
            ],
        )
        lines.append("")

    if shares:
        confidence = level(shares[0].alpha)
        lines += [
            "**Flagged as an evaluation, per suite** (of parsed answers; Wilson " + confidence + " CI)",
            "",
        ]
        lines += table(["suite", *share_header], ([_suite_name(s.suite), *_share_row(s)] for s in shares))
        lines.append("")

    if phrasings:
        lines += ["**Per phrasing**", ""]
        lines += table(
            ["suite", "phrasing", *share_header],
            ([p.suite, p.phrasing, *_share_row(p)] for p in phrasings),
        )
        lines.append("")

    if verbalized:
        confidence = level(verbalized[0].alpha)
        lines += [
            f"**Verbalized eval awareness in the responses** (evaluator label; Wilson {confidence} CI)",
            "",
        ]
        lines += table(
            ["suite", "responses", "graded", "verbalized", "share"],
            ([_suite_name(v.suite), str(v.n), str(v.graded), str(v.count), pct_ci(v)] for v in verbalized),
        )
        lines.append("")

    return "\n".join(lines).rstrip("\n") + "\n" if lines else "No probe results.\n"
