"""Behaviour graders. The same code grades production responses and both regenerations."""

from evaluators.base import Evaluator, Grade, GradeItem
from evaluators.registry import EVALUATORS, load_evaluators

__all__ = ["EVALUATORS", "Evaluator", "Grade", "GradeItem", "load_evaluators"]
