"""The release gate's plots: valid, small, deterministic PNGs, and a funnel limit that behaves."""

from __future__ import annotations

import base64
import io
import math
import sys

import pytest
from PIL import Image

from deploysim.core.arms import Arm
from deploysim.release.calibration_plot import CalibrationPoint, _calibration_figure, calibration_plot
from deploysim.release.funnel import FunnelPoint, funnel_limit, funnel_plot
from deploysim.release.gate import Forecast, ReleaseGate, judge_category, judge_coverage
from deploysim.release.plots import RatePoint, rate_points, rates_plot
from deploysim.release.policy import Verdict, load_policy
from deploysim.reporting.figures import markdown_image
from deploysim.stats.rates import ChangeTest
from orchestration.settings import DATA_DIR

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CATEGORIES = ["refusal", "pii_leakage", "sycophancy", "eval_awareness"]


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    with Image.open(io.BytesIO(png)) as image:
        image.load()  # decodes every pixel, so a truncated or corrupt stream fails here
        return image.size


RATES = [
    RatePoint(category, arm, rate, low, high)
    for i, category in enumerate(CATEGORIES)
    for arm, rate, low, high in [
        ("production", 10.0**i, None, None),
        ("prior", 1.3 * 10.0**i, 0.8 * 10.0**i, 2.0 * 10.0**i),
        ("candidate", 0.0 if i == 0 else 2.0 * 10.0**i, 0.0, 3.5 * 10.0**i),
    ]
] + [RatePoint("refusal", "canary", 5.0, 2.0, 9.0)]

# Zeros in all three value kinds: the calibration plot must clip them to a floor, not fail on the log axis.
CALIBRATION = [
    CalibrationPoint("v1", "refusal", 120.0, 150.0, 140.0),
    CalibrationPoint("v1", "pii_leakage", 4.0, 0.0, 1.0),
    CalibrationPoint("v2", "refusal", 0.0, 3.0),
    CalibrationPoint("v2", "sycophancy", 900.0, 400.0, 0.0),
]

FUNNEL = [
    FunnelPoint("v1", "refusal", 2.0, 2.5),
    FunnelPoint("v1", "pii_leakage", 40.0, 1.2),
    FunnelPoint("v2", "refusal", 800.0, 1.6),  # far beyond sampling noise at this count
    FunnelPoint("v2", "sycophancy", 5000.0, 1.01),
]


@pytest.fixture(scope="module")
def rendered() -> dict[str, bytes]:
    """Each plot rendered once and shared, because rendering dominates this file's run time."""
    return {
        "rates": rates_plot(RATES, "Event rates by arm"),
        "calibration": calibration_plot(CALIBRATION, "Forecast against observed"),
        "funnel": funnel_plot(FUNNEL, "Fold error against expected count"),
    }


@pytest.mark.parametrize("name", ["rates", "calibration", "funnel"])
def test_each_plot_is_a_small_decodable_png(rendered: dict[str, bytes], name: str) -> None:
    width, height = png_size(rendered[name])
    assert 600 <= width <= 1200 and 200 <= height <= 1200  # about 8 inches wide at 100 dpi
    assert len(rendered[name]) < 150_000


def test_same_input_gives_same_bytes(rendered: dict[str, bytes]) -> None:
    assert rates_plot(RATES, "Event rates by arm") == rendered["rates"]
    assert calibration_plot(CALIBRATION, "Forecast against observed") == rendered["calibration"]
    assert funnel_plot(FUNNEL, "Fold error against expected count") == rendered["funnel"]


@pytest.mark.parametrize("plot", [rates_plot, calibration_plot, funnel_plot])
def test_empty_input_gives_a_no_data_png(plot) -> None:
    png = plot([], "Nothing to show")
    png_size(png)
    assert png == plot([], "Nothing to show")


def test_unplottable_points_give_a_png_not_an_error() -> None:
    png_size(rates_plot([RatePoint("refusal", "candidate", math.nan, None, None)], "NaN only"))
    png_size(calibration_plot([CalibrationPoint("v1", "refusal", math.inf, 1.0)], "Inf only"))
    png_size(funnel_plot([FunnelPoint("v1", "refusal", 0.0, 2.0), FunnelPoint("v1", "x", 5, -1)], "Bad"))


def test_calibration_clips_zeros_to_a_floor_and_says_so() -> None:
    figure = _calibration_figure(CALIBRATION, "Forecast against observed")
    caption = " ".join(text.get_text() for text in figure.texts)
    # Three values are zero; the smallest positive one is 1.0, so the floor is 0.5.
    assert "3 values ≤ 0" in caption and "0.5 per 100k" in caption
    png_size(calibration_plot([CalibrationPoint("v1", "refusal", 0.0, 0.0)], "All zero"))


def test_funnel_limit_shrinks_towards_one_as_the_expected_count_grows() -> None:
    assert funnel_limit(10, 0.95) > 1.9
    assert funnel_limit(1_000, 0.95) < 1.1
    assert funnel_limit(10, 0.95) > funnel_limit(1_000, 0.95) + 0.9
    decades = [funnel_limit(10.0**k, 0.95) for k in range(7)]
    assert decades == sorted(decades, reverse=True) and len(set(decades)) == len(decades)
    assert 1.0 < funnel_limit(1e6, 0.95) < 1.005
    # Wider coverage, wider funnel.
    assert funnel_limit(100, 0.998) > funnel_limit(100, 0.95)


def test_funnel_limit_matches_the_continuous_poisson_bounds() -> None:
    from scipy.stats import gamma

    # E = 10: the count's 95% range is Gamma(10).ppf(0.025) to Gamma(11).ppf(0.975), half-count smoothed.
    low, high = gamma.ppf(0.025, 10), gamma.ppf(0.975, 11)
    assert funnel_limit(10, 0.95) == pytest.approx(max(10.5 / (low + 0.5), (high + 0.5) / 10.5))
    # The funnel is smooth: no sawtooth between neighbouring expected counts.
    curve = [funnel_limit(e, 0.95) for e in (5.0, 5.1, 5.2, 5.3, 5.4)]
    assert curve == sorted(curve, reverse=True)


def test_funnel_limit_edge_cases() -> None:
    assert funnel_limit(0.0, 0.95) == math.inf
    assert funnel_limit(math.nan, 0.95) == math.inf
    with pytest.raises(ValueError):
        funnel_limit(10, 1.0)


def test_markdown_image_round_trips_the_bytes() -> None:
    png = b"\x89PNG\r\n\x1a\n not really an image \x00\xff"
    markdown = markdown_image(png, "Rates [candidate]\nvs prior")
    prefix = "![Rates \\[candidate\\] vs prior](data:image/png;base64,"
    assert markdown.startswith(prefix) and markdown.endswith(")")
    assert base64.b64decode(markdown[len(prefix) : -1], validate=True) == png


def test_no_global_pyplot_figures_are_left_behind(rendered: dict[str, bytes]) -> None:
    pyplot = sys.modules.get("matplotlib.pyplot")
    assert pyplot is None or pyplot.get_fignums() == []


def test_a_category_without_pairs_plots_only_what_is_defined() -> None:
    # A prior whose archive missed every prefix: no pairs, so no simulated rates, only the observed one.
    policy = load_policy(DATA_DIR / "gate_policy.yaml")
    unpaired = ChangeTest("refusal", 0, 0, 0, float("nan"), float("nan"), 0, 0, float("nan"), 0.1)
    observed = Forecast(rate_per_100k=1_200.0, ci_per_100k=(800.0, 1_700.0))
    category = judge_category(unpaired, policy.default, policy, prior_observed=observed)
    gate = ReleaseGate(
        candidate="c", prior="p", policy_version=1, verdict=Verdict.WARN, categories=[category],
        coverage=judge_coverage(0, 0, 0, [], policy), surface_rates=[],
    )  # fmt: skip
    points = rate_points(gate)
    assert [(p.arm, p.rate_per_100k) for p in points] == [(Arm.PRODUCTION, 1_200.0)]
