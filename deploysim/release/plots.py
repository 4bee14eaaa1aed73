"""The release gate's plots: rates with intervals here; the backtest's calibration scatter and fold-error
funnel in their own modules; `gate_plots` draws all three for one gate."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from deploysim.core.arms import Arm
from deploysim.release.calibration_plot import CalibrationPoint, calibration_plot
from deploysim.release.funnel import FunnelPoint, funnel_plot
from deploysim.release.gate import Forecast, ReleaseGate
from deploysim.reporting.figures import (
    caption,
    finite,
    format_rate,
    new_figure,
    no_data,
    plural,
    point_with_whiskers,
    render,
)
from deploysim.stats.intervals import wilson
from deploysim.stats.rates import PER

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# The three arms the gate compares get fixed, colour-blind-friendly colours (Okabe–Ito) so a plot reads the
# same from one release to the next; any other arm takes the next free colour in sorted-name order.
_KNOWN_ARMS: dict[str, tuple[str, str]] = {
    Arm.PRODUCTION: ("#555555", "s"),
    Arm.PRIOR: ("#0072B2", "o"),
    Arm.CANDIDATE: ("#D55E00", "D"),
}
_EXTRA_COLOURS = ("#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000", "#882255", "#44AA99")
_EXTRA_MARKERS = ("^", "v", "P", "X", "p", "h", "<", ">")


@dataclass(frozen=True, slots=True)
class RatePoint:
    """One arm's event rate for one category, with an optional interval (all per 100k turns)."""

    category: str
    arm: str
    rate_per_100k: float
    low_per_100k: float | None
    high_per_100k: float | None


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
    return render(lambda: _rates_figure(points, title))


def _rates_figure(points: Sequence[RatePoint], title: str) -> Figure:
    usable = [p for p in points if finite(p.rate_per_100k)]
    skipped = len(points) - len(usable)
    if not usable:
        return no_data(title, "no data" if not points else f"no data ({plural(skipped, 'non-finite rate')})")

    categories = sorted({p.category for p in usable})
    arms = _arm_order(p.arm for p in usable)
    styles = _arm_styles(arms)
    row = {c: i for i, c in enumerate(categories)}
    # Arms share a category's row, spread over at most 0.6 of the row height so rows stay distinct.
    step = min(0.2, 0.6 / max(1, len(arms) - 1)) if len(arms) > 1 else 0.0
    offset = {arm: (i - (len(arms) - 1) / 2) * step for i, arm in enumerate(arms)}

    captions = [f"{plural(skipped, 'point')} with a non-finite rate not shown."] if skipped else []
    fig = new_figure(min(14.0, 1.6 + 0.42 * len(categories) + 0.12 * len(arms)), len(captions))
    ax = fig.add_subplot()

    extent: list[float] = []
    for arm in arms:
        colour, marker = styles[arm]
        mine = [p for p in usable if p.arm == arm]
        xs = [max(0.0, p.rate_per_100k) for p in mine]
        ys = [row[p.category] + offset[arm] for p in mine]
        # An interval bound that is missing or on the wrong side of the point draws no whisker that side.
        lo = [x - p.low_per_100k if finite(p.low_per_100k) else 0.0 for x, p in zip(xs, mine, strict=True)]
        hi = [p.high_per_100k - x if finite(p.high_per_100k) else 0.0 for x, p in zip(xs, mine, strict=True)]
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
    caption(fig, captions)
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
    ax.xaxis.set_major_formatter(FuncFormatter(format_rate))


def _point(category: str, label: str, forecast: Forecast | None) -> RatePoint | None:
    if forecast is None or forecast.rate_per_100k != forecast.rate_per_100k:
        return None
    low, high = forecast.ci_per_100k or (None, None)
    return RatePoint(category, label, forecast.rate_per_100k, low, high)


def rate_points(gate: ReleaseGate) -> list[RatePoint]:
    """Per category: the prior observed and simulated; the candidate's raw, ratio and calibrated forecasts."""
    points: list[RatePoint] = []
    for c in gate.categories:
        prior = None
        if c.n_paired:  # without pairs the prior's simulated rate is undefined (NaN)
            low, high = wilson(round(c.prior_simulated_per_100k / PER * c.n_paired), c.n_paired)
            prior = Forecast(rate_per_100k=c.prior_simulated_per_100k, ci_per_100k=(low * PER, high * PER))
        candidates = [
            (Arm.PRODUCTION, c.forecasts.get("persistence")),
            (Arm.PRIOR, prior),
            (Arm.CANDIDATE, c.forecasts.get("raw")),
            ("candidate, ratio forecast", c.forecasts.get("ratio")),
            ("candidate, calibrated", c.forecasts.get("calibrated")),
        ]
        points += [p for label, forecast in candidates if (p := _point(c.category, label, forecast))]
    return points


def gate_plots(gate: ReleaseGate, backtest: pd.DataFrame) -> dict[str, bytes]:
    """PNG bytes by name: rates with intervals, backtest calibration on log-log axes, and a funnel of
    fold error against expected count (how much of each past miss sampling noise explains)."""
    calibration = [
        CalibrationPoint(
            release=row.release,
            category=f"{row.category} ({row.surface})",
            forecast_per_100k=row.raw_per_100k,
            observed_per_100k=row.observed_per_100k,
            calibrated_per_100k=row.calibrated_per_100k,
        )
        for row in backtest.itertuples(index=False)
    ]
    funnel = [
        FunnelPoint(
            release=row.release,
            category=f"{row.category} ({row.surface})",
            expected_count=row.raw_per_100k / PER * row.observed_n,
            fold_error=row.raw_fold_error,
        )
        for row in backtest.itertuples(index=False)
    ]
    who = f"{gate.candidate} vs prior {gate.prior}"
    return {
        "rates": rates_plot(rate_points(gate), f"Rates per 100k turns: {who}"),
        "calibration": calibration_plot(calibration, f"Backtest: forecast vs observed ({gate.candidate})"),
        "funnel": funnel_plot(funnel, f"Backtest: fold error vs expected count ({gate.candidate})"),
    }
