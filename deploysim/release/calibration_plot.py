"""The backtest's calibration scatter: each past release's forecast against what production then observed,
on log-log axes with y = x and a 1.5x band, the calibrated forecast drawn beside the raw one."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from deploysim.reporting.figures import (
    MAX_LABELS,
    caption,
    finite,
    log_ticks,
    new_figure,
    no_data,
    plural,
    render,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_RELEASE_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#555555", "#882255")


@dataclass(frozen=True, slots=True)
class CalibrationPoint:
    """A back-tested release's forecast rate for a category against what production then observed."""

    release: str
    category: str
    forecast_per_100k: float
    observed_per_100k: float
    calibrated_per_100k: float | None = None


def calibration_plot(points: Sequence[CalibrationPoint], title: str) -> bytes:
    """Forecast (x) against observed (y) rates on log–log axes, with y = x and a 1.5× band, as PNG bytes."""
    return render(lambda: _calibration_figure(points, title))


def _calibration_figure(points: Sequence[CalibrationPoint], title: str) -> Figure:
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    usable = [p for p in points if finite(p.forecast_per_100k, p.observed_per_100k)]
    skipped = len(points) - len(usable)
    if not usable:
        return no_data(title, "no data" if not points else f"no data ({plural(skipped, 'non-finite point')})")

    # A calibrated value that is not finite is treated as absent rather than dropping the raw point.
    calibrated = [p.calibrated_per_100k if finite(p.calibrated_per_100k) else None for p in usable]
    values = [p.forecast_per_100k for p in usable] + [p.observed_per_100k for p in usable]
    values += [c for c in calibrated if c is not None]
    positive = [v for v in values if v > 0]
    # Log axes cannot show zero: draw non-positive values at a floor below every real value.
    floor = min(positive) / 2 if positive else 1.0
    clipped = sum(1 for v in values if v <= 0)

    def clip(v: float) -> float:
        return v if v > 0 else floor

    captions = []
    if clipped:
        captions.append(
            f"{plural(clipped, 'value')} ≤ 0 drawn at the floor {floor:.2g} per 100k "
            "(dotted lines); a log axis cannot show zero."
        )
    if skipped:
        captions.append(f"{plural(skipped, 'point')} with a non-finite forecast or observation not shown.")

    # Shorter than wide: the square axes plus the legend beside it must fit the width.
    fig = new_figure(6.2, len(captions))
    ax = fig.add_subplot()
    ax.set_xscale("log")
    ax.set_yscale("log")

    shown = [clip(v) for v in values]
    low, high = min(shown) / 1.8, max(shown) * 1.8
    if high / low < 20:  # a too-narrow span gives log axes without a single labelled decade
        mid = math.sqrt(low * high)
        low, high = mid / math.sqrt(20), mid * math.sqrt(20)
    grid = [low * (high / low) ** (i / 100) for i in range(101)]
    ax.fill_between(grid, [g / 1.5 for g in grid], [g * 1.5 for g in grid], color="#cccccc", alpha=0.45, lw=0)
    ax.plot(grid, grid, color="#444444", linewidth=1.0, linestyle="--", zorder=1)
    if clipped:
        ax.axvline(floor, color="#999999", linestyle=":", linewidth=0.9, zorder=1)
        ax.axhline(floor, color="#999999", linestyle=":", linewidth=0.9, zorder=1)

    releases = sorted({p.release for p in usable})
    colour = {r: _RELEASE_COLOURS[i % len(_RELEASE_COLOURS)] for i, r in enumerate(releases)}
    # One artist per release and kind, not per point: drawing cost grows with artists, not with points.
    for release in releases:
        mine = [(p, cal) for p, cal in zip(usable, calibrated, strict=True) if p.release == release]
        c = colour[release]
        raw = [(clip(p.forecast_per_100k), clip(p.observed_per_100k)) for p, _ in mine]
        ax.scatter(
            *zip(*raw, strict=True), s=34, marker="o", color=c, edgecolors="white", linewidths=0.6, zorder=3
        )
        # The calibrated forecast moves a point horizontally: same observation, corrected forecast.
        moved = [(clip(cal), y, x) for (p, cal), (x, y) in zip(mine, raw, strict=True) if cal is not None]
        if moved:
            links = [[(x, y), (xc, y)] for xc, y, x in moved]
            ax.add_collection(LineCollection(links, colors=c, linewidths=0.7, alpha=0.7, zorder=2))
            ax.scatter(
                [m[0] for m in moved],
                [m[1] for m in moved],
                s=38,
                marker="x",
                color=c,
                linewidths=1.4,
                zorder=3,
            )

    # Name the worst-calibrated points outside the band (by the best forecast available for each).
    def fold(p: CalibrationPoint, cal: float | None) -> float:
        f, o = clip(cal if cal is not None else p.forecast_per_100k), clip(p.observed_per_100k)
        return max(f / o, o / f)

    outliers = sorted(
        ((fold(p, cal), p, cal) for p, cal in zip(usable, calibrated, strict=True)),
        key=lambda t: (-t[0], t[1].release, t[1].category),
    )
    for _, p, cal in [t for t in outliers if t[0] > 1.5][:MAX_LABELS]:
        x = clip(cal if cal is not None else p.forecast_per_100k)
        ax.annotate(
            p.category,
            (x, clip(p.observed_per_100k)),
            xytext=(4, 4),
            textcoords="offset points",
            fontsize=7,
            color="#333333",
        )

    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    ax.set_box_aspect(1)  # square, so the y = x line sits at 45 degrees
    for axis in (ax.xaxis, ax.yaxis):
        log_ticks(axis)
    ax.grid(which="major", color="#eeeeee", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.set_xlabel("forecast rate per 100k turns")
    ax.set_ylabel("observed rate per 100k turns")
    ax.set_title(title, fontsize=12)

    handles = [Line2D([], [], marker="o", linestyle="", color=colour[r], label=r) for r in releases[:12]]
    if len(releases) > 12:
        handles.append(Line2D([], [], linestyle="", label=f"… {len(releases) - 12} more releases"))
    handles.append(Line2D([], [], marker="o", linestyle="", color="#777777", label="raw forecast"))
    if any(c is not None for c in calibrated):
        handles.append(Line2D([], [], marker="x", linestyle="", color="#777777", label="calibrated forecast"))
    handles.append(Line2D([], [], color="#444444", linestyle="--", label="observed = forecast"))
    handles.append(Patch(color="#cccccc", alpha=0.45, label="within 1.5×"))
    # Outside the axes: the corners are where the badly calibrated points land.
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8)
    caption(fig, captions)
    return fig
