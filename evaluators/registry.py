"""Evaluators by name, so configuration picks which ones run."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from deploysim.core.grading import Evaluator
from evaluators.claims_real_world_experience import ClaimsRealWorldExperienceEvaluator
from evaluators.harmful_compliance import HarmfulComplianceEvaluator
from evaluators.judge import RUBRICS, JudgeEvaluator, JudgeRuntime
from evaluators.over_refusal import OverRefusalEvaluator
from evaluators.pii_leakage import PiiLeakageEvaluator
from evaluators.promising_background_work import PromisingBackgroundWorkEvaluator
from evaluators.refusal import RefusalEvaluator
from evaluators.verbalized_eval_awareness import VerbalizedEvalAwarenessEvaluator

Factory = Callable[[JudgeRuntime | None], Evaluator]

#: Offline evaluators: rules and small local models, no network.
OFFLINE: dict[str, Factory] = {
    cls.name: (lambda judge, cls=cls: cls())
    for cls in (
        RefusalEvaluator,
        OverRefusalEvaluator,
        HarmfulComplianceEvaluator,
        PiiLeakageEvaluator,
        VerbalizedEvalAwarenessEvaluator,
        PromisingBackgroundWorkEvaluator,
        ClaimsRealWorldExperienceEvaluator,
    )
}
#: LLM judges, one per rubric: they need a judge endpoint.
JUDGES: dict[str, Factory] = {
    f"judge_{category}": (lambda judge, rubric=rubric: JudgeEvaluator(rubric, judge))
    for category, rubric in RUBRICS.items()
}
EVALUATORS: dict[str, Factory] = {**OFFLINE, **JUDGES}


def load_evaluators(names: Sequence[str], judge: JudgeRuntime | None = None) -> list[Evaluator]:
    unknown = [name for name in names if name not in EVALUATORS]
    if unknown:
        raise KeyError(f"unknown evaluators {unknown}; known: {sorted(EVALUATORS)}")
    return [EVALUATORS[name](judge) for name in names]


def versions_fingerprint() -> str:
    """Every evaluator's name and version: the scoring asset's code version follows any bump."""
    import hashlib

    evaluators = [factory(None) for factory in EVALUATORS.values()]
    text = ",".join(sorted(f"{e.name}={e.version}" for e in evaluators))
    return hashlib.sha256(text.encode()).hexdigest()[:10]
