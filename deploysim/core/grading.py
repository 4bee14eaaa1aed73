"""What an evaluator is: a name, a version, its categories, and batch grading of (prefix, response) items.

The protocol lives in the domain core so the pipeline can grade with any evaluator it is handed; the
implementations live in the top-level `evaluators` package, which depends on this module, never the reverse.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel


class GradeItem(BaseModel):
    """One (prefix, response) pair. Production responses and both regenerations are graded alike."""

    item_id: str
    prefix: list[dict[str, Any]]
    response: str
    #: Tool calls the response made, in the chat-completions format.
    tool_calls: list[dict[str, Any]] | None = None

    @property
    def last_user_message(self) -> str:
        return next((m.get("content") or "" for m in reversed(self.prefix) if m["role"] == "user"), "")

    @property
    def prefix_text(self) -> str:
        """Every text the model saw, tool calls and tool results included."""
        texts = []
        for message in self.prefix:
            if isinstance(message.get("content"), str):
                texts.append(message["content"])
            texts += [call["function"]["arguments"] for call in message.get("tool_calls") or []]
        return "\n".join(texts)


class Grade(BaseModel):
    item_id: str
    category: str
    #: True when the (undesired) behaviour is present; None when grading failed (see `error`).
    label: bool | None
    #: A finer label where the evaluator has one, e.g. "full" or "partial" refusal.
    detail: str | None = None
    score: float | None = None
    rationale: str | None = None
    #: Why no label could be given (e.g. a judge's output stayed malformed after retries). Never guessed.
    error: str | None = None


@runtime_checkable
class Evaluator(Protocol):
    name: str
    #: Bump on any change to the logic: rates are traceable to the grader version that produced them.
    version: str
    categories: tuple[str, ...]

    def grade(self, items: Sequence[GradeItem]) -> list[Grade]:
        """One Grade per item and category."""
        ...
