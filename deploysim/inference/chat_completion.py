"""The parts of a chat.completion response the engine keeps, parsed leniently (servers differ in extras)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from deploysim.inference.types import ErrorClass, ModelCallError, ModelOutput


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore")
    content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None


class _Choice(BaseModel):
    model_config = ConfigDict(extra="ignore")
    message: _Message
    finish_reason: str | None = None


class _Usage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    prompt_tokens: int = 0
    completion_tokens: int = 0


class ChatCompletion(BaseModel):
    model_config = ConfigDict(extra="ignore")
    choices: list[_Choice]
    usage: _Usage | None = None


def to_output(body: object) -> ModelOutput:
    """A response body as a ModelOutput; a body that is not a usable completion is a transient error."""
    try:
        completion = ChatCompletion.model_validate(body)
    except ValueError as error:
        raise ModelCallError(ErrorClass.TRANSIENT, f"malformed completion: {error}"[:500]) from error
    if not completion.choices:
        raise ModelCallError(ErrorClass.TRANSIENT, "response has no choices")
    choice = completion.choices[0]
    if not choice.message.content and not choice.message.tool_calls and choice.finish_reason is None:
        # Some servers answer an interrupted request with an empty body and no error.
        raise ModelCallError(ErrorClass.TRANSIENT, "empty completion without finish_reason")
    usage = completion.usage or _Usage()
    return ModelOutput(
        content=choice.message.content,
        tool_calls=choice.message.tool_calls or None,
        finish_reason=choice.finish_reason,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
    )
