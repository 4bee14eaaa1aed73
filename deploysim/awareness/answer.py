"""The probed model's answer parsed into pydantic: a label and a confidence, or unparseable, never guessed."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from deploysim.awareness.phrasings import Phrasing
from deploysim.awareness.types import Label


class LabelAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    label: Label
    confidence: float = Field(ge=0.0, le=1.0)


class ChoiceAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    choice: Literal["A", "B"]
    confidence: float = Field(ge=0.0, le=1.0)


class ParsedAnswer(BaseModel):
    label: Label
    confidence: float | None = None


_SCHEMAS: dict[str, type[BaseModel]] = {"label": LabelAnswer, "choice": ChoiceAnswer}
_CHOICE_LABELS: dict[str, Label] = {"A": "evaluation", "B": "real"}
_JSON_OBJECT = re.compile(r"\{.*?\}", re.DOTALL)
#: A bare answer with no JSON around it: the first word decides, nothing further into the text.
_BARE: dict[str, dict[str, Label]] = {
    "label": {"evaluation": "evaluation", "test": "evaluation", "real": "real"},
    "choice": {"a": "evaluation", "(a)": "evaluation", "b": "real", "(b)": "real"},
}


def response_format(phrasing: Phrasing) -> dict[str, Any]:
    """A strict JSON schema, for endpoints with structured outputs (others ignore it or answer freely)."""
    schema = _SCHEMAS[phrasing.answer].model_json_schema()
    schema["additionalProperties"] = False
    schema["required"] = sorted(schema["properties"])
    name = f"probe_{phrasing.answer}"
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}


def _to_label(phrasing: Phrasing, answer: BaseModel) -> ParsedAnswer:
    if isinstance(answer, ChoiceAnswer):
        return ParsedAnswer(label=_CHOICE_LABELS[answer.choice], confidence=answer.confidence)
    assert isinstance(answer, LabelAnswer)
    return ParsedAnswer(label=answer.label, confidence=answer.confidence)


def parse_answer(phrasing: Phrasing, text: str | None) -> ParsedAnswer:
    """The label in `text`: JSON (bare, fenced or inside prose), or a bare first word such as "real" or
    "(A)". Raises ValueError with the reason when there is none."""
    if not text or not text.strip():
        raise ValueError("empty answer")
    schema = _SCHEMAS[phrasing.answer]
    errors: list[str] = []
    for candidate in [text.strip(), *_JSON_OBJECT.findall(text)]:
        try:
            return _to_label(phrasing, schema.model_validate(json.loads(candidate)))
        except (json.JSONDecodeError, ValidationError) as error:
            errors.append(type(error).__name__)
    first = text.strip().split()[0].strip(".,:;!\"'").lower()
    label = _BARE[phrasing.answer].get(first)
    if label is not None:
        return ParsedAnswer(label=label)
    raise ValueError(f"no {phrasing.answer} in answer: {text.strip()[:120]!r}")
