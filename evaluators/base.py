"""The evaluator protocol: a name, a version, its categories, and batch grading."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel


class GradeItem(BaseModel):
    item_id: str
    prefix: list[dict[str, Any]]
    response: str

    @property
    def last_user_message(self) -> str:
        return next((m.get("content") or "" for m in reversed(self.prefix) if m["role"] == "user"), "")


class Grade(BaseModel):
    item_id: str
    category: str
    #: True when the (undesired) behaviour is present.
    label: bool
    #: A finer label where the evaluator has one, e.g. "full" or "partial" refusal.
    detail: str | None = None
    score: float | None = None
    rationale: str | None = None


@runtime_checkable
class Evaluator(Protocol):
    name: str
    #: Bump on any change to the logic: rates are traceable to the grader version that produced them.
    version: str
    categories: tuple[str, ...]

    def grade(self, items: Sequence[GradeItem]) -> list[Grade]:
        """One Grade per item and category."""
        ...
