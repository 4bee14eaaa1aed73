"""Behaviour graders. The same code grades production responses and both regenerations.

Each implements the protocol in `deploysim.core.grading`; the registry picks them by name.
"""

from evaluators.registry import EVALUATORS, OFFLINE, load_evaluators

__all__ = ["EVALUATORS", "OFFLINE", "load_evaluators"]
