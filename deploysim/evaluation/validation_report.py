"""The validation table as markdown: held-out folds first (the headline), in-sample rows last and labelled."""

from __future__ import annotations

import math

import pandas as pd

from deploysim.evaluation.validation import HELD_OUT, IN_SAMPLE
from deploysim.reporting.markdown import table


def _share(value: float | None) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


def _interval(row: pd.Series, metric: str) -> str:
    value = row[metric]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.3f} [{row[f'{metric}_low']:.3f}, {row[f'{metric}_high']:.3f}]"


_HEADER = ["category", "version", "data set", "group", "labels", "n", "agreement [95% CI]"]
_HEADER += ["sensitivity [95% CI]", "specificity [95% CI]", "precision [95% CI]"]


def _rows(frame: pd.DataFrame) -> list[list[str]]:
    return [
        [
            row["category"],
            row["evaluator_version"],
            row["dataset"],
            row["subset"],
            "weak" if row["weak_labels"] else "human",
            str(row["n"]),
            *(_interval(row, m) for m in ("agreement", "sensitivity", "specificity", "precision")),
        ]
        for _, row in frame.iterrows()
    ]


def _section(title: str, note: str, frame: pd.DataFrame) -> list[str]:
    if frame.empty:
        return []
    return [f"### {title}", "", note, "", *table(_HEADER, _rows(frame)), ""]


def validation_markdown(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "No labelled data for these evaluators.\n"
    held = frame[frame["scope"] == HELD_OUT]
    pairwise = frame[frame["fold_kind"] == "pairwise"]
    lines = [
        *_section(
            "Held out: leave one model out",
            "Each model's responses on their own; no rule or weight was written or fitted on them.",
            held[held["fold_kind"] == "model"],
        ),
        *_section(
            "Held out: leave one data set out",
            "Each data set on its own, where no part of it was read while writing the evaluator.",
            held[held["fold_kind"] == "source"],
        ),
        *_section(
            "Held out, pooled",
            "All held-out model groups together; the human-label row corrects the rates (Rogan-Gladen).",
            held[held["fold_kind"] == "pooled"],
        ),
        *_section(
            "Pairwise: HH-RLHF preference pairs",
            "Of the pairs an evaluator labels differently, the share where the reply people rejected as more "
            "harmful is the flagged one (agreement column); no absolute label exists.",
            pairwise,
        ),
        *_section(
            "In-sample: written or fitted on this data, not validation",
            "Reported for completeness: these groups were read while the evaluator was written.",
            frame[(frame["scope"] == IN_SAMPLE) & (frame["fold_kind"] != "pairwise")],
        ),
    ]
    return "\n".join(lines)
