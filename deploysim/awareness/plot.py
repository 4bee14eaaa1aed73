"""The eval-awareness probe's plot: per suite, the share flagged as an evaluation and the share of responses
that say so unprompted, rendered to PNG bytes for Dagster metadata.

It follows ``deploysim.reporting.figures``: a detached Agg figure, matplotlib imported lazily, and inputs
that cannot be drawn never raise: nothing to draw gives a "no data" image, and anything skipped is stated
in a caption.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

from deploysim.awareness.types import SUITE_TITLES, SuiteShare, VerbalizedShare
from deploysim.reporting.figures import caption, new_figure, no_data, plural, point_with_whiskers, render

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["awareness_plot"]

# Okabe–Ito, as in the gate's plots.
_FLAGGED = ("#D55E00", "o")
_VERBALIZED = ("#0072B2", "D")


def awareness_plot(shares: Sequence[SuiteShare], verbalized: Sequence[VerbalizedShare], title: str) -> bytes:
    """Per suite, % flagged as an evaluation and % verbalizing it, with Wilson intervals, as PNG bytes."""
    return render(lambda: _awareness_figure(shares, verbalized, title))


def _finite(value: float) -> bool:
    return value is not None and math.isfinite(value)


def _drawable(share: SuiteShare | VerbalizedShare) -> bool:
    denominator = share.parsed if isinstance(share, SuiteShare) else share.graded
    return denominator > 0 and _finite(share.share)


def _awareness_figure(
    shares: Sequence[SuiteShare], verbalized: Sequence[VerbalizedShare], title: str
) -> Figure:
    flagged = [s for s in shares if _drawable(s)]
    spoken = [v for v in verbalized if _drawable(v)]
    skipped = sum(1 for s in shares if s.parsed > 0 and not _finite(s.share))
    skipped += sum(1 for v in verbalized if v.graded > 0 and not _finite(v.share))
    if not flagged and not spoken:
        return no_data(title, _no_data_message(shares, skipped))

    # Rows follow the shares' order; suites only the verbalized labels know about go last.
    suites = list(dict.fromkeys([s.suite for s in shares] + [v.suite for v in verbalized]))
    row = {suite: i for i, suite in enumerate(suites)}
    captions = []
    if skipped:
        captions.append(f"{plural(skipped, 'share')} with parsed answers but a non-finite value not shown.")
    if not flagged and _none_parsed(shares):
        captions.append(f"Flagged shares not shown: {_unparsed(shares)}.")
    captions.append("Shares of parsed answers (unparseable and failed ones excluded); whiskers: Wilson CI.")

    fig = new_figure(min(12.0, 2.2 + 0.62 * len(suites)), len(captions))
    ax = fig.add_subplot()
    # Both series share a suite's row, nudged apart so their whiskers do not overlap.
    nudge = 0.13 if flagged and spoken else 0.0
    _series(ax, flagged, [row[s.suite] - nudge for s in flagged], _FLAGGED, "flagged as an evaluation")
    _series(ax, spoken, [row[v.suite] + nudge for v in spoken], _VERBALIZED, "verbalizes eval awareness")

    # Counts beside each row, outside the axes, so a share resting on few answers is visible at a glance.
    by_suite = {s.suite: s for s in shares}
    graded = {v.suite: v.graded for v in verbalized}
    for suite, y in row.items():
        ax.annotate(
            _counts(by_suite.get(suite), graded.get(suite)),
            (1.0, y),
            xycoords=("axes fraction", "data"),
            xytext=(6, 0),
            textcoords="offset points",
            ha="left",
            va="center",
            fontsize=8,
            color="#444444",
            annotation_clip=False,
        )

    from matplotlib.ticker import FuncFormatter, MultipleLocator

    ax.set_xlim(-1.5, 101.5)  # a little past 0 and 100 so markers there are drawn whole
    ax.xaxis.set_major_locator(MultipleLocator(20))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}%"))
    labels = [textwrap.fill(SUITE_TITLES.get(suite, suite), 30) for suite in suites]
    ax.set_yticks(range(len(suites)), labels, fontsize=9)
    ax.set_ylim(len(suites) - 0.5, -0.5)  # first suite at the top, like the table
    for y in range(1, len(suites)):
        ax.axhline(y - 0.5, color="#e5e5e5", linewidth=0.8, zorder=0)
    ax.grid(axis="x", color="#eeeeee", linewidth=0.8, zorder=0)
    ax.set_axisbelow(True)
    ax.set_xlabel("share of answers")
    ax.set_title(title, fontsize=12)
    fig.legend(loc="outside upper center", ncol=2, fontsize=9, frameon=False)
    caption(fig, captions)
    return fig


def _series(
    ax: Axes,
    points: Sequence[SuiteShare] | Sequence[VerbalizedShare],
    ys: Sequence[float],
    style: tuple[str, str],
    label: str,
) -> None:
    if not points:
        return
    colour, marker = style
    xs = [100 * min(1.0, max(0.0, p.share)) for p in points]
    # A bound that is missing or on the wrong side of the point draws no whisker on that side.
    lo = [
        max(0.0, x - 100 * p.wilson_low) if _finite(p.wilson_low) else 0.0
        for x, p in zip(xs, points, strict=True)
    ]
    hi = [
        max(0.0, 100 * p.wilson_high - x) if _finite(p.wilson_high) else 0.0
        for x, p in zip(xs, points, strict=True)
    ]
    lo = [min(d, x) for d, x in zip(lo, xs, strict=True)]
    hi = [min(d, 100.0 - x) for d, x in zip(hi, xs, strict=True)]
    point_with_whiskers(ax, xs, ys, (lo, hi), marker=marker, colour=colour, label=label, size=7)


def _counts(share: SuiteShare | None, graded: int | None) -> str:
    parts = []
    if share is not None:
        parts.append(f"{share.parsed} parsed")
        parts.append(f"{share.unparseable} unparseable")
        if share.failed:
            parts.append(f"{share.failed} failed")
    if graded is not None:
        parts.append(f"{graded} graded")
    return "\n".join([" · ".join(parts[:2]), " · ".join(parts[2:])]).strip()


def _none_parsed(shares: Sequence[SuiteShare]) -> bool:
    return sum(s.n for s in shares) > 0 and all(s.parsed == 0 for s in shares)


def _unparsed(shares: Sequence[SuiteShare]) -> str:
    total = sum(s.n for s in shares)
    unparseable = sum(s.unparseable for s in shares)
    failed = sum(s.failed for s in shares)
    return f"none of {plural(total, 'answer')} parsed ({unparseable} unparseable, {failed} failed)"


def _no_data_message(shares: Sequence[SuiteShare], skipped: int) -> str:
    if _none_parsed(shares):
        return f"no data: {_unparsed(shares)}"
    return f"no data ({plural(skipped, 'non-finite share')})" if skipped else "no data"
