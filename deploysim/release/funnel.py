"""The backtest's funnel: each past forecast's fold error against the event count it expected, with the
limits Poisson sampling noise alone would stay under. A miss outside the funnel is more than noise."""

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

#: Fold-error tick values for the funnel's log y axis (plain numbers read better than 10^0.3).
_FOLD_TICKS = (1, 1.25, 1.5, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000)


@dataclass(frozen=True, slots=True)
class FunnelPoint:
    """A forecast's fold error (>= 1) against the event count it expected."""

    release: str
    category: str
    expected_count: float
    fold_error: float


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
    return render(lambda: _funnel_figure(points, title))


def _funnel_figure(points: Sequence[FunnelPoint], title: str) -> Figure:
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    usable = [
        p
        for p in points
        if finite(p.expected_count, p.fold_error) and p.expected_count > 0 and p.fold_error > 0
    ]
    skipped = len(points) - len(usable)
    if not usable:
        return no_data(
            title, "no data" if not points else f"no data ({plural(skipped, 'unplottable point')})"
        )

    captions = ["Funnel: the fold error Poisson sampling noise alone would exceed 5% / 0.2% of the time."]
    if skipped:
        captions.append(f"{plural(skipped, 'point')} with a non-positive or non-finite value not shown.")
    fig = new_figure(5.5, len(captions))
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
    for i, (_, p, x, y) in enumerate(flagged[:MAX_LABELS]):
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
    log_ticks(ax.xaxis)
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
    caption(fig, captions)
    return fig
