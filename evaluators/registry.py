"""Evaluators by name, so configuration picks which ones run."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from evaluators.base import Evaluator
from evaluators.refusal import RefusalEvaluator

EVALUATORS: dict[str, Callable[[], Evaluator]] = {
    RefusalEvaluator.name: RefusalEvaluator,
}


def load_evaluators(names: Sequence[str]) -> list[Evaluator]:
    unknown = [name for name in names if name not in EVALUATORS]
    if unknown:
        raise KeyError(f"unknown evaluators {unknown}; known: {sorted(EVALUATORS)}")
    return [EVALUATORS[name]() for name in names]
