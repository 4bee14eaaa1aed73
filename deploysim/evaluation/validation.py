"""Evaluators measured against human labels: agreement, precision, sensitivity, specificity, intervals.

The same figures feed the prevalence correction of the statistics stage: an evaluator's sensitivity and
specificity turn an observed rate into an estimate of the true one.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pydantic import BaseModel

from deploysim.core.grading import Evaluator, GradeItem
from deploysim.stats.intervals import wilson

#: presidio-research span types that count as the personal data `pii_leakage` looks for.
PRESIDIO_LEAK_TYPES = frozenset(
    {"EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS"}
)


class Interval(BaseModel):
    value: float | None
    low: float | None
    high: float | None


class BinaryAgreement(BaseModel):
    n: int
    tp: int
    fp: int
    fn: int
    tn: int
    agreement: Interval
    precision: Interval
    #: Sensitivity (recall): the share of human-positive cases the evaluator flags.
    sensitivity: Interval
    #: The share of human-negative cases the evaluator leaves unflagged.
    specificity: Interval


def _share(successes: int, total: int, alpha: float) -> Interval:
    if total == 0:
        return Interval(value=None, low=None, high=None)
    low, high = wilson(successes, total, alpha)
    return Interval(value=successes / total, low=low, high=high)


def binary_agreement(
    predicted: Sequence[bool], truth: Sequence[bool], alpha: float = 0.05
) -> BinaryAgreement:
    if len(predicted) != len(truth):
        raise ValueError("predictions and labels differ in length")
    tp = sum(p and t for p, t in zip(predicted, truth, strict=True))
    fp = sum(p and not t for p, t in zip(predicted, truth, strict=True))
    fn = sum(t and not p for p, t in zip(predicted, truth, strict=True))
    tn = len(truth) - tp - fp - fn
    return BinaryAgreement(
        n=len(truth),
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        agreement=_share(tp + tn, len(truth), alpha),
        precision=_share(tp, tp + fp, alpha),
        sensitivity=_share(tp, tp + fn, alpha),
        specificity=_share(tn, tn + fp, alpha),
    )


@dataclass(frozen=True)
class LabelledCase:
    item: GradeItem
    #: Which slice of the data set the case belongs to, e.g. the model that wrote the completion.
    subset: str
    #: The human label per category.
    truth: dict[str, bool]


def _read(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def xstest_cases(path: Path) -> list[LabelledCase]:
    """XSTest completions: refusal from `final_label`; over-refusal and harmful compliance combine it with
    whether the prompt is one of the 200 unsafe contrasts."""
    cases = []
    for row in _read(path):
        refused = row["final_label"] != "1_full_compliance"
        unsafe = row["prompt_label"] == "unsafe"
        cases.append(
            LabelledCase(
                item=GradeItem(
                    item_id=row["id"],
                    prefix=[{"role": "user", "content": row["prompt"]}],
                    response=row["completion"],
                ),
                subset=row["model"],
                truth={
                    "refusal": refused,
                    "over_refusal": refused and not unsafe,
                    "harmful_compliance": unsafe and not refused,
                },
            )
        )
    return cases


def presidio_cases(path: Path) -> list[LabelledCase]:
    """Synthetic texts with PII spans, graded as responses to an empty prefix: any PII is new PII."""
    return [
        LabelledCase(
            item=GradeItem(item_id=row["id"], prefix=[], response=row["text"]),
            subset="presidio_research",
            truth={"pii_leakage": any(span["entity_type"] in PRESIDIO_LEAK_TYPES for span in row["spans"])},
        )
        for row in _read(path)
    ]


#: Which labelled set validates each category.
DATASETS = {
    "refusal": "xstest",
    "over_refusal": "xstest",
    "harmful_compliance": "xstest",
    "pii_leakage": "presidio_research",
}


def load_cases(data_dir: Path) -> dict[str, list[LabelledCase]]:
    return {
        "xstest": xstest_cases(data_dir / "xstest_completions.jsonl.gz"),
        "presidio_research": presidio_cases(data_dir / "presidio_research_dev.jsonl.gz"),
    }


def validate(evaluators: Sequence[Evaluator], data_dir: Path, alpha: float = 0.05) -> pd.DataFrame:
    """One row per (evaluator, category, data set, subset), plus an "all" subset per data set.

    Categories without public human labels are left out; the caller reports them as unvalidated.
    """
    cases = load_cases(data_dir)
    rows = []
    for evaluator in evaluators:
        wanted = [c for c in evaluator.categories if c in DATASETS]
        for dataset in sorted({DATASETS[c] for c in wanted}):
            labelled = cases[dataset]
            grades = evaluator.grade([case.item for case in labelled])
            by_item = {(g.item_id, g.category): g.label for g in grades}
            for category in (c for c in wanted if DATASETS[c] == dataset):
                subsets = sorted({case.subset for case in labelled})
                for subset in [*subsets, "all"] if len(subsets) > 1 else subsets:
                    chosen = [case for case in labelled if subset in ("all", case.subset)]
                    predicted = [bool(by_item[(case.item.item_id, category)]) for case in chosen]
                    truth = [case.truth[category] for case in chosen]
                    result = binary_agreement(predicted, truth, alpha)
                    row = {
                        "evaluator": evaluator.name,
                        "evaluator_version": evaluator.version,
                        "category": category,
                        "dataset": dataset,
                        "subset": subset,
                        **result.model_dump(include={"n", "tp", "fp", "fn", "tn"}),
                    }
                    for metric in ("agreement", "precision", "sensitivity", "specificity"):
                        interval: Interval = getattr(result, metric)
                        row[metric] = interval.value
                        row[f"{metric}_low"] = interval.low
                        row[f"{metric}_high"] = interval.high
                    rows.append(row)
    return pd.DataFrame(rows)


def unvalidated(evaluators: Sequence[Evaluator]) -> list[str]:
    """Categories no public human labels exist for here."""
    return sorted(c for e in evaluators for c in e.categories if c not in DATASETS)
