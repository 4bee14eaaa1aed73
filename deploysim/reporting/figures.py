"""Shared plumbing for every figure: PNG bytes for Dagster metadata, drawn in one style.

Every figure is built on its own ``matplotlib.figure.Figure`` on the Agg canvas and never touches pyplot,
so no global figure is left behind and nothing depends on an interactive backend. matplotlib is imported
inside the functions because it costs about half a second of import time, which Dagster's code-location
loading would otherwise pay even when no plot is drawn.

Inputs that cannot be drawn never raise: empty inputs give a "no data" image, and anything skipped or
clipped is stated in a caption on the image.
"""

from __future__ import annotations

import base64
import io
import math
import re
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 100
WIDTH_IN = 8.0
#: Rendering is serialised: matplotlib does not promise thread safety, and a report draws only a few plots.
_RENDER_LOCK = threading.Lock()
#: Outliers labelled by name at most; more would bury the plot in text.
MAX_LABELS = 6


def finite(*values: float | None) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


def new_figure(height_in: float, caption_lines: int = 0) -> Figure:
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


def caption(fig: Figure, lines: Sequence[str]) -> None:
    if lines:
        fig.text(0.01, 0.01, "\n".join(lines), ha="left", va="bottom", fontsize=8, color="#444444")


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    # No Software/creation metadata, so identical input gives identical bytes.
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None}, facecolor="white")
    return buffer.getvalue()


def render(build: Callable[[], Figure]) -> bytes:
    with _RENDER_LOCK:
        return _png(build())


def no_data(title: str, message: str = "no data") -> Figure:
    fig = new_figure(2.5)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(title, fontsize=12)
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=14, color="#777777", transform=ax.transAxes)
    return fig


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def format_rate(value: float, _pos: Any = None) -> str:
    """Tick label for a per-100k rate: 0.5, 3, 250, 10k."""
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


def log_ticks(axis: Any) -> None:
    """Decade labels as plain numbers (1, 10, 1k) and unlabelled minor ticks at 2 and 5 only.

    Log axes default to a mathtext label per decade and eight minor ticks per decade; both cost far more
    drawing time than the rest of a plot and add nothing to a glance at a gate.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(base=10))
    axis.set_major_formatter(FuncFormatter(format_rate))
    axis.set_minor_locator(LogLocator(base=10, subs=(2.0, 5.0)))
    axis.set_minor_formatter(NullFormatter())


def markdown_image(png: bytes, alt: str) -> str:
    """A markdown image with the PNG inlined as a data URI, which Dagster's UI renders in metadata."""
    # Brackets and newlines in the alt text would end the markdown image early.
    safe_alt = re.sub(r"([\\\[\]])", r"\\\1", " ".join(alt.split()))
    return f"![{safe_alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"
