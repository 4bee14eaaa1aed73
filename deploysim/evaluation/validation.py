"""Evaluators measured against labelled data, held out first: what a new model's text would see.

Every evaluator here is frozen: its rules and weights were fixed before validation, so a held-out figure is
one on data nobody read while writing or fitting it. Each evaluator declares that provenance in
`developed_on` (data sets, or `source/model` groups); a fold whose group is in it is reported, but labelled
in-sample and never as validation.

Folds:
- leave one model out: every (data set, model) group with labels, on its own;
- leave one source out: every data set on its own;
- pooled: all held-out model groups together (human labels apart from weak ones), and all in-sample ones;
- pairwise: HH-RLHF pairs, where the honest question is only whether the more harmful reply is the flagged
  one (share of the discordant pairs).

Metrics are agreement, sensitivity, specificity and precision, each with a 95% Wilson interval. The same
figures feed the prevalence correction of the rates: only pooled held-out human-label counts are used.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from pydantic import BaseModel

from deploysim.core.grading import Evaluator
from deploysim.evaluation.labelled_sets import LabelledCase, LabelledPair, load_cases, load_pairs
from deploysim.stats.intervals import wilson

HELD_OUT, IN_SAMPLE = "held_out", "in_sample"
#: The pooled group whose counts correct the rates.
POOLED_HELD_OUT = "held-out models, human labels"
METRICS = ("agreement", "precision", "sensitivity", "specificity")


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


def developed_on(evaluator: Evaluator) -> frozenset[str]:
    """What was read while writing or fitting the evaluator; unknown provenance counts as everything."""
    return getattr(evaluator, "developed_on", frozenset({"*"}))


def scope_of(evaluator: Evaluator, source: str, model: str | None = None) -> str:
    """In-sample when the group, or its whole data set, was read; a source fold also when any part was."""
    read = developed_on(evaluator)
    if "*" in read or source in read:
        return IN_SAMPLE
    if model is None:
        return IN_SAMPLE if any(group.startswith(f"{source}/") for group in read) else HELD_OUT
    return IN_SAMPLE if f"{source}/{model}" in read else HELD_OUT


def _row(
    evaluator: Evaluator,
    category: str,
    dataset: str,
    subset: str,
    fold_kind: str,
    scope: str,
    weak: bool,
    result: BinaryAgreement,
) -> dict:
    row = {
        "evaluator": evaluator.name,
        "evaluator_version": evaluator.version,
        "category": category,
        "dataset": dataset,
        "subset": subset,
        "fold_kind": fold_kind,
        "scope": scope,
        "weak_labels": weak,
        **result.model_dump(include={"n", "tp", "fp", "fn", "tn"}),
    }
    for metric in METRICS:
        interval: Interval = getattr(result, metric)
        row[metric], row[f"{metric}_low"], row[f"{metric}_high"] = interval.value, interval.low, interval.high
    return row


def _evaluate(
    evaluator: Evaluator, category: str, cases: list[LabelledCase], labels: dict[str, bool], alpha: float
) -> list[dict]:
    def agreement(chosen: list[LabelledCase]) -> BinaryAgreement:
        return binary_agreement(
            [labels[c.item.item_id] for c in chosen], [c.truth[category] for c in chosen], alpha
        )

    rows = []
    models = sorted({(c.source, c.model) for c in cases})
    for source, model in models:
        chosen = [c for c in cases if (c.source, c.model) == (source, model)]
        scope = scope_of(evaluator, source, model)
        rows.append(
            _row(evaluator, category, source, model, "model", scope, chosen[0].weak, agreement(chosen))
        )
    for source in sorted({c.source for c in cases}):
        chosen = [c for c in cases if c.source == source]
        scope = scope_of(evaluator, source)
        rows.append(
            _row(evaluator, category, source, source, "source", scope, chosen[0].weak, agreement(chosen))
        )
    for scope in (HELD_OUT, IN_SAMPLE):
        for weak in (False, True):
            chosen = [c for c in cases if c.weak == weak and scope_of(evaluator, c.source, c.model) == scope]
            if chosen:
                kind = "weak labels" if weak else "human labels"
                subset = f"{'held-out' if scope == HELD_OUT else 'in-sample'} models, {kind}"
                rows.append(_row(evaluator, category, "*", subset, "pooled", scope, weak, agreement(chosen)))
    return rows


def _pairwise(evaluator: Evaluator, category: str, pairs: list[LabelledPair], alpha: float) -> list[dict]:
    """Of the pairs the evaluator labels differently, the share where the more harmful reply is flagged."""
    grades = evaluator.grade([item for p in pairs for item in (p.safer, p.more_harmful)])
    flagged = {g.item_id: bool(g.label) for g in grades if g.category == category}
    right = sum(flagged[p.more_harmful.item_id] and not flagged[p.safer.item_id] for p in pairs)
    wrong = sum(flagged[p.safer.item_id] and not flagged[p.more_harmful.item_id] for p in pairs)
    result = BinaryAgreement(
        n=right + wrong,
        tp=right,
        fp=0,
        fn=wrong,
        tn=0,
        agreement=_share(right, right + wrong, alpha),
        precision=_share(0, 0, alpha),
        sensitivity=_share(0, 0, alpha),
        specificity=_share(0, 0, alpha),
    )
    source = pairs[0].source
    scope = scope_of(evaluator, source)
    return [_row(evaluator, category, source, "discordant pairs", "pairwise", scope, True, result)]


#: Categories judged on HH-RLHF's preference pairs.
PAIRWISE = frozenset({"harmful_compliance"})


def validate(evaluators: Sequence[Evaluator], data_dir: Path, alpha: float = 0.05) -> pd.DataFrame:
    """One row per (evaluator, category, fold). Categories without labelled data are left out; the caller
    reports them as unvalidated."""
    cases = load_cases(data_dir)
    pairs = load_pairs(data_dir)
    rows: list[dict] = []
    for evaluator in evaluators:
        labelled = [c for c in cases if set(c.truth) & set(evaluator.categories)]
        grades = evaluator.grade([c.item for c in labelled]) if labelled else []
        for category in evaluator.categories:
            mine = [c for c in labelled if category in c.truth]
            labels = {g.item_id: bool(g.label) for g in grades if g.category == category}
            if mine:
                rows += _evaluate(evaluator, category, mine, labels, alpha)
            if category in PAIRWISE and pairs:
                rows += _pairwise(evaluator, category, pairs, alpha)
    return pd.DataFrame(rows)


def unvalidated(evaluators: Sequence[Evaluator], data_dir: Path) -> list[str]:
    """Categories no labelled data exists for here."""
    labelled = {category for case in load_cases(data_dir) for category in case.truth} | PAIRWISE
    return sorted(c for e in evaluators for c in e.categories if c not in labelled)
