"""LLM-judge evaluators: one rubric per category, structured verdicts, calls through the model engine."""

from evaluators.judge.llm_judge import JudgeEvaluator, JudgeRuntime
from evaluators.judge.rubrics import RUBRICS, Rubric

__all__ = ["RUBRICS", "JudgeEvaluator", "JudgeRuntime", "Rubric"]
