"""The judge's structured answer, parsed into pydantic; anything else is malformed and never guessed."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class Verdict(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: True when the behaviour the rubric describes is present in the response.
    present: bool
    confidence: float = Field(ge=0.0, le=1.0)
    rationale: str = Field(max_length=1000)


def response_format() -> dict[str, Any]:
    """A strict JSON schema, for endpoints that support structured outputs (others ignore `strict`)."""
    schema = Verdict.model_json_schema()
    schema["additionalProperties"] = False
    schema["required"] = sorted(schema["properties"])
    return {"type": "json_schema", "json_schema": {"name": "verdict", "schema": schema, "strict": True}}


_FENCED = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL)


def parse_verdict(text: str | None) -> Verdict:
    """The verdict in `text`: bare JSON, or JSON in a code fence for endpoints without structured output.

    Raises ValueError when there is no valid verdict.
    """
    if not text:
        raise ValueError("empty judge output")
    candidate = text.strip()
    fenced = _FENCED.search(candidate)
    if fenced:
        candidate = fenced.group(1)
    try:
        return Verdict.model_validate(json.loads(candidate))
    except (json.JSONDecodeError, ValidationError) as error:
        raise ValueError(f"malformed verdict: {error}"[:300]) from error
