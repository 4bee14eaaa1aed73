"""The release gate's plots, rendered to PNG bytes for Dagster metadata.

Every function here is pure: it builds its own ``matplotlib.figure.Figure`` on the Agg canvas and never
touches pyplot, so no global figure is left behind and nothing depends on an interactive backend.
matplotlib is imported inside the functions because it costs about half a second of import time, which
Dagster's code-location loading would otherwise pay even when no plot is drawn.

Inputs that cannot be drawn (empty lists, non-finite numbers, values a log axis cannot show) never raise:
empty inputs give a "no data" image, and anything skipped or clipped is stated in a caption on the image.
"""

from __future__ import annotations

import base64
import io
import math
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "CalibrationPoint",
    "FunnelPoint",
    "RatePoint",
    "calibration_plot",
    "funnel_limit",
    "funnel_plot",
    "markdown_image",
    "point_with_whiskers",
    "rates_plot",
]

DPI = 100
WIDTH_IN = 8.0
#: Rendering is serialised: matplotlib does not promise thread safety, and a gate draws only a few plots.
_RENDER_LOCK = threading.Lock()

# The three arms the gate compares get fixed, colour-blind-friendly colours (Okabe–Ito) so a plot reads the
# same from one release to the next; any other arm takes the next free colour in sorted-name order.
_KNOWN_ARMS: dict[str, tuple[str, str]] = {
    "production": ("#555555", "s"),
    "prior": ("#0072B2", "o"),
    "candidate": ("#D55E00", "D"),
}
_EXTRA_COLOURS = ("#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000", "#882255", "#44AA99")
_EXTRA_MARKERS = ("^", "v", "P", "X", "p", "h", "<", ">")
_RELEASE_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#555555", "#882255")

#: Outliers labelled by name at most; more would bury the plot in text.
_MAX_LABELS = 6
#: Fold-error tick values for the funnel's log y axis (plain numbers read better than 10^0.3).
_FOLD_TICKS = (1, 1.25, 1.5, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000)


@dataclass(frozen=True, slots=True)
class RatePoint:
    """One arm's event rate for one category, with an optional interval (all per 100k turns)."""

    category: str
    arm: str
    rate_per_100k: float
    low_per_100k: float | None
    high_per_100k: float | None


@dataclass(frozen=True, slots=True)
class CalibrationPoint:
    """A back-tested release's forecast rate for a category against what production then observed."""

    release: str
    category: str
    forecast_per_100k: float
    observed_per_100k: float
    calibrated_per_100k: float | None = None


@dataclass(frozen=True, slots=True)
class FunnelPoint:
    """A forecast's fold error (>= 1) against the event count it expected."""

    release: str
    category: str
    expected_count: float
    fold_error: float


# --------------------------------------------------------------------------------------------------------
# Shared plumbing


def _finite(*values: float | None) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


def _new_figure(height_in: float, caption_lines: int = 0) -> Figure:
    """A detached Agg figure with constrained layout, leaving room at the bottom for a caption."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    # Constrained layout ignores figure-level text, so reserve the caption's band explicitly.
    bottom = min(0.4, caption_lines * 0.17 / height_in) if caption_lines else 0.0
    fig.set_layout_engine(ConstrainedLayoutEngine(rect=(0.0, bottom, 1.0, 1.0 - bottom)))
    return fig


def point_with_whiskers(
    ax: Axes,
    xs: Sequence[float],
    ys: Sequence[float],
    whiskers: tuple[Sequence[float], Sequence[float]],
    *,
    marker: str,
    colour: str,
    label: str,
    size: float,
) -> None:
    """Markers with horizontal interval whiskers, in the one style every plot here uses."""
    ax.errorbar(
        xs,
        ys,
        xerr=[list(whiskers[0]), list(whiskers[1])],
        fmt=marker,
        color=colour,
        ecolor=colour,
        elinewidth=1.2,
        capsize=2.5,
        markersize=size,
        markeredgecolor="white",
        markeredgewidth=0.6,
        label=label,
        zorder=3,
    )


def _caption(fig: Figure, lines: Sequence[str]) -> None:
    if lines:
        fig.text(0.01, 0.01, "\n".join(lines), ha="left", va="bottom", fontsize=8, color="#444444")


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    # No Software/creation metadata, so identical input gives identical bytes.
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None}, facecolor="white")
    return buffer.getvalue()


def _render(build: Callable[[], Figure]) -> bytes:
    with _RENDER_LOCK:
        return _png(build())


def _no_data(title: str, message: str = "no data") -> Figure:
    fig = _new_figure(2.5)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(title, fontsize=12)
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=14, color="#777777", transform=ax.transAxes)
    return fig


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _format_rate(value: float, _pos: Any = None) -> str:
    """Tick label for a per-100k rate: 0.5, 3, 250, 10k."""
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


def _log_ticks(axis: Any) -> None:
    """Decade labels as plain numbers (1, 10, 1k) and unlabelled minor ticks at 2 and 5 only.

    Log axes default to a mathtext label per decade and eight minor ticks per decade; both cost far more
    drawing time than the rest of a plot and add nothing to a glance at a gate.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(base=10))
    axis.set_major_formatter(FuncFormatter(_format_rate))
    axis.set_minor_locator(LogLocator(base=10, subs=(2.0, 5.0)))
    axis.set_minor_formatter(NullFormatter())


# --------------------------------------------------------------------------------------------------------
# 1. Rates per category and arm


def _arm_styles(arms: Iterable[str]) -> dict[str, tuple[str, str]]:
    extras = sorted(a for a in set(arms) if a not in _KNOWN_ARMS)
    styles = {arm: style for arm, style in _KNOWN_ARMS.items()}
    for i, arm in enumerate(extras):
        styles[arm] = (_EXTRA_COLOURS[i % len(_EXTRA_COLOURS)], _EXTRA_MARKERS[i % len(_EXTRA_MARKERS)])
    return styles


def _arm_order(arms: Iterable[str]) -> list[str]:
    present = set(arms)
    return [a for a in _KNOWN_ARMS if a in present] + sorted(present - set(_KNOWN_ARMS))


def rates_plot(points: Sequence[RatePoint], title: str) -> bytes:
    """Per-category rates with intervals, one row per category and one marker per arm, as PNG bytes."""
    return _render(lambda: _rates_figure(points, title))


def _rates_figure(points: Sequence[RatePoint], title: str) -> Figure:
    usable = [p for p in points if _finite(p.rate_per_100k)]
    skipped = len(points) - len(usable)
    if not usable:
        return _no_data(
            title, "no data" if not points else f"no data ({_plural(skipped, 'non-finite rate')})"
        )

    categories = sorted({p.category for p in usable})
    arms = _arm_order(p.arm for p in usable)
    styles = _arm_styles(arms)
    row = {c: i for i, c in enumerate(categories)}
    # Arms share a category's row, spread over at most 0.6 of the row height so rows stay distinct.
    step = min(0.2, 0.6 / max(1, len(arms) - 1)) if len(arms) > 1 else 0.0
    offset = {arm: (i - (len(arms) - 1) / 2) * step for i, arm in enumerate(arms)}

    captions = [f"{_plural(skipped, 'point')} with a non-finite rate not shown."] if skipped else []
    fig = _new_figure(min(14.0, 1.6 + 0.42 * len(categories) + 0.12 * len(arms)), len(captions))
    ax = fig.add_subplot()

    extent: list[float] = []
    for arm in arms:
        colour, marker = styles[arm]
        mine = [p for p in usable if p.arm == arm]
        xs = [max(0.0, p.rate_per_100k) for p in mine]
        ys = [row[p.category] + offset[arm] for p in mine]
        # An interval bound that is missing or on the wrong side of the point draws no whisker that side.
        lo = [x - p.low_per_100k if _finite(p.low_per_100k) else 0.0 for x, p in zip(xs, mine, strict=True)]
        hi = [p.high_per_100k - x if _finite(p.high_per_100k) else 0.0 for x, p in zip(xs, mine, strict=True)]
        lo = [min(max(0.0, d), x) for d, x in zip(lo, xs, strict=True)]  # never below zero
        hi = [max(0.0, d) for d in hi]
        point_with_whiskers(ax, xs, ys, (lo, hi), marker=marker, colour=colour, label=arm, size=6)
        extent += [x + h for x, h in zip(xs, hi, strict=True)]
        extent += [x - low for x, low in zip(xs, lo, strict=True)]

    _rate_axis(ax, extent)
    ax.set_yticks(range(len(categories)), categories)
    ax.set_ylim(len(categories) - 0.5, -0.5)  # first category at the top, reading like a table
    for y in range(1, len(categories)):
        ax.axhline(y - 0.5, color="#e5e5e5", linewidth=0.8, zorder=0)
    ax.grid(axis="x", color="#eeeeee", linewidth=0.8, zorder=0)
    ax.set_axisbelow(True)
    ax.set_xlabel("rate per 100k turns")
    ax.set_title(title, fontsize=12)
    ax.legend(title="arm", loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, title_fontsize=9)
    _caption(fig, captions)
    return fig


def _rate_axis(ax: Axes, values: Sequence[float]) -> None:
    """Linear x when the rates span little more than a decade, otherwise symlog so zero stays drawable."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    top = max(values, default=0.0)
    positive = [v for v in values if v > 0]
    smallest = min(positive, default=0.0)
    # The left limit sits a little below zero so a zero rate's marker is drawn whole, not cut by the spine.
    if top <= 0:
        ax.set_xlim(-0.3, 10)
    elif smallest > 0 and top / smallest > 30:
        # Linear below the smallest positive value's decade, log above: zero stays drawable and rates from
        # 0.1 to 100,000 per 100k all get room.
        linthresh = 10 ** max(
            -1, math.floor(math.log10(smallest))
        )  # tinier rates just sit in the linear part
        ax.set_xscale("symlog", linthresh=linthresh, linscale=0.4)
        ax.set_xlim(-0.15 * linthresh, top * 1.6)
        ax.xaxis.set_minor_formatter(NullFormatter())
    else:
        ax.set_xlim(-0.03 * top, top * 1.08)
    ax.xaxis.set_major_formatter(FuncFormatter(_format_rate))


# --------------------------------------------------------------------------------------------------------
# 2. Calibration: forecast against observed


def calibration_plot(points: Sequence[CalibrationPoint], title: str) -> bytes:
    """Forecast (x) against observed (y) rates on log–log axes, with y = x and a 1.5× band, as PNG bytes."""
    return _render(lambda: _calibration_figure(points, title))


def _calibration_figure(points: Sequence[CalibrationPoint], title: str) -> Figure:
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    usable = [p for p in points if _finite(p.forecast_per_100k, p.observed_per_100k)]
    skipped = len(points) - len(usable)
    if not usable:
        return _no_data(
            title, "no data" if not points else f"no data ({_plural(skipped, 'non-finite point')})"
        )

    # A calibrated value that is not finite is treated as absent rather than dropping the raw point.
    calibrated = [p.calibrated_per_100k if _finite(p.calibrated_per_100k) else None for p in usable]
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
            f"{_plural(clipped, 'value')} ≤ 0 drawn at the floor {floor:.2g} per 100k "
            "(dotted lines); a log axis cannot show zero."
        )
    if skipped:
        captions.append(f"{_plural(skipped, 'point')} with a non-finite forecast or observation not shown.")

    # Shorter than wide: the square axes plus the legend beside it must fit the width.
    fig = _new_figure(6.2, len(captions))
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
    for _, p, cal in [t for t in outliers if t[0] > 1.5][:_MAX_LABELS]:
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
        _log_ticks(axis)
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
    _caption(fig, captions)
    return fig


# --------------------------------------------------------------------------------------------------------
# 3. Funnel: fold error against expected count


def funnel_limit(expected: float, coverage: float) -> float:
    """The fold error that Poisson sampling noise alone stays under with probability ``coverage``.

    Counts are discrete, so exact Poisson quantiles make a sawtooth that is hard to read; the continuous
    version of the same bounds (the gamma quantiles behind Garwood's exact interval) gives a smooth
    funnel: ``k_lo = Gamma(expected).ppf(tail)``, ``k_hi = Gamma(expected + 1).ppf(1 - tail)``. Both sides
    take half a count, as the backtest's smoothed rates do, so the limit is
    ``max((expected + 0.5) / (k_lo + 0.5), (k_hi + 0.5) / (expected + 0.5))``.
    Non-positive or non-finite ``expected`` gives infinity (no count is surprising with nothing expected).
    """
    return _funnel_limits([expected], coverage)[0]


def _funnel_limits(expected: Sequence[float], coverage: float) -> list[float]:
    """``funnel_limit`` for many expected counts at once: one vectorised scipy call, not one per count."""
    import numpy as np
    from scipy.stats import gamma

    if not 0.0 < coverage < 1.0:
        raise ValueError(f"coverage must be strictly between 0 and 1, got {coverage!r}")
    e = np.asarray(expected, dtype=float)
    valid = np.isfinite(e) & (e > 0)
    safe = np.where(valid, e, 1.0)  # placeholder where invalid, so scipy sees only proper means
    tail = (1.0 - coverage) / 2
    k_lo = gamma.ppf(tail, safe)
    k_hi = gamma.ppf(1.0 - tail, safe + 1.0)
    limit = np.maximum.reduce([(safe + 0.5) / (k_lo + 0.5), (k_hi + 0.5) / (safe + 0.5), np.ones_like(safe)])
    return [float(v) for v in np.where(valid, limit, np.inf)]


def funnel_plot(points: Sequence[FunnelPoint], title: str) -> bytes:
    """Fold error against expected count, log–log, with 95% and 99.8% Poisson funnel limits, as PNG bytes."""
    return _render(lambda: _funnel_figure(points, title))


def _funnel_figure(points: Sequence[FunnelPoint], title: str) -> Figure:
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    usable = [
        p
        for p in points
        if _finite(p.expected_count, p.fold_error) and p.expected_count > 0 and p.fold_error > 0
    ]
    skipped = len(points) - len(usable)
    if not usable:
        return _no_data(
            title, "no data" if not points else f"no data ({_plural(skipped, 'unplottable point')})"
        )

    captions = ["Funnel: the fold error Poisson sampling noise alone would exceed 5% / 0.2% of the time."]
    if skipped:
        captions.append(f"{_plural(skipped, 'point')} with a non-positive or non-finite value not shown.")
    fig = _new_figure(5.5, len(captions))
    ax = fig.add_subplot()
    ax.set_xscale("log")
    ax.set_yscale("log")

    xs = [p.expected_count for p in usable]
    # Fold error is symmetric (max(r, 1/r)); a ratio below 1 is read as its reciprocal.
    ys = [max(p.fold_error, 1 / p.fold_error) for p in usable]
    x_lo = 10 ** math.floor(math.log10(min(xs) / 1.2))
    x_hi = 10 ** math.ceil(math.log10(max(xs) * 1.2))
    if x_hi / x_lo < 100:  # show at least two decades so the funnel's shape is visible
        x_hi = x_lo * 100
    grid = [x_lo * (x_hi / x_lo) ** (i / 300) for i in range(301)]
    limit95 = _funnel_limits(grid, 0.95)
    limit998 = _funnel_limits(grid, 0.998)
    # Steps, not smooth lines: the limits jump where the Poisson quantiles do.
    ax.plot(grid, limit95, color="#E69F00", linewidth=1.3, linestyle="--", drawstyle="steps-post", zorder=2)
    ax.plot(grid, limit998, color="#D55E00", linewidth=1.1, linestyle=":", drawstyle="steps-post", zorder=2)

    point95 = _funnel_limits(xs, 0.95)
    beyond95 = [y > lim for y, lim in zip(ys, point95, strict=True)]
    beyond998 = [y > lim for y, lim in zip(ys, _funnel_limits(xs, 0.998), strict=True)]
    groups = (
        ("within 95% limit", "#0072B2", "o", [not b for b in beyond95]),
        ("beyond 95% limit", "#E69F00", "D", [a and not b for a, b in zip(beyond95, beyond998, strict=True)]),
        ("beyond 99.8% limit", "#C0392B", "D", beyond998),
    )
    for _, colour, marker, mask in groups:
        gx = [x for x, m in zip(xs, mask, strict=True) if m]
        gy = [y for y, m in zip(ys, mask, strict=True) if m]
        if gx:
            ax.scatter(
                gx, gy, s=36, marker=marker, color=colour, edgecolors="white", linewidths=0.6, zorder=3
            )

    flagged = sorted(
        ((y / lim, p, x, y) for p, x, y, lim, b in zip(usable, xs, ys, point95, beyond95, strict=True) if b),
        key=lambda t: (-t[0], t[1].release, t[1].category),
    )
    for i, (_, p, x, y) in enumerate(flagged[:_MAX_LABELS]):
        # Alternate above and below: flagged points often sit close together along the funnel.
        offset = (4, 4) if i % 2 == 0 else (4, -10)
        label = f"{p.release} / {p.category}"
        ax.annotate(label, (x, y), xytext=offset, textcoords="offset points", fontsize=7, color="#333333")

    y_top = max(max(ys), min(limit95[0], 10.0)) * 1.4
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(0.95, y_top)
    ax.yaxis.set_major_locator(FixedLocator([t for t in _FOLD_TICKS if t <= y_top]))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}×"))
    _log_ticks(ax.xaxis)
    ax.axhline(1.0, color="#444444", linewidth=0.8)
    ax.grid(which="major", color="#eeeeee", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.set_xlabel("expected event count")
    ax.set_ylabel("fold error (observed vs forecast)")
    ax.set_title(title, fontsize=12)

    handles = [
        Line2D([], [], marker=m, linestyle="", color=c, label=f"{label} ({sum(mask)})")
        for label, c, m, mask in groups
    ]
    handles.append(Line2D([], [], color="#E69F00", linestyle="--", label="95% Poisson limit"))
    handles.append(Line2D([], [], color="#D55E00", linestyle=":", label="99.8% Poisson limit"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    _caption(fig, captions)
    return fig


# --------------------------------------------------------------------------------------------------------
# Markdown


def markdown_image(png: bytes, alt: str) -> str:
    """A markdown image with the PNG inlined as a data URI, which Dagster's UI renders in metadata."""
    # Brackets and newlines in the alt text would end the markdown image early.
    safe_alt = re.sub(r"([\\\[\]])", r"\\\1", " ".join(alt.split()))
    return f"![{safe_alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"
