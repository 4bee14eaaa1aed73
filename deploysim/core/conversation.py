"""The data contract for one production conversation, in OpenAI chat format."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

Role = Literal["system", "user", "assistant", "tool"]
NonEmpty = Annotated[str, StringConstraints(min_length=1, max_length=256, strip_whitespace=True)]

# One letter per message: s=system, u=user, a=assistant reply, c=assistant tool call, t=tool result.
# A served conversation is optional system messages, then exchanges of user message(s), optional
# tool-call rounds and one assistant reply. It always ends on the reply that production served,
# because that reply is what the simulation cuts off and regenerates.
ROLE_ORDER_PATTERN = r"^s*(?:u+(?:ct+)*a)+$"
_ROLE_ORDER = re.compile(ROLE_ORDER_PATTERN)
#: Longer texts are quarantined: a runaway paste or a binary blob, not a turn worth replaying.
MAX_TEXT_CHARS = 100_000


@dataclass(frozen=True)
class ContractLimits:
    """Bounds a conversation must meet to enter the pipeline, beyond its shape.

    They are checked where rows come in (ingestion, `deploysim score`), not in the models themselves, so
    text that grows under de-identification (placeholders are longer than what they replace) never breaks
    a later stage that rebuilds the model.
    """

    min_year: int = 2000
    max_year: int = 2100
    max_text_chars: int = MAX_TEXT_CHARS
    #: The full de-identification tier handles about 14 KB/s: a 10 MB paste would stall a sample for
    #: minutes.
    max_conversation_chars: int = 200_000

    def __post_init__(self) -> None:
        if self.min_year > self.max_year or self.max_text_chars < 1 or self.max_conversation_chars < 1:
            raise ValueError(f"inconsistent contract limits: {self}")


class FunctionCall(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: NonEmpty
    arguments: str = Field(description="JSON-encoded arguments, exactly as the model emitted them.")


class ToolCall(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: NonEmpty
    type: Literal["function"] = "function"
    function: FunctionCall


class Message(BaseModel):
    """One chat message. Unknown OpenAI fields (``refusal``, ``annotations``...) are ignored."""

    model_config = ConfigDict(extra="ignore")
    role: Role
    content: str | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None

    @model_validator(mode="after")
    def _shape_matches_role(self) -> Message:
        has_text = bool(self.content and self.content.strip())
        if self.role in ("system", "user") and not has_text:
            raise ValueError(f"{self.role} message has empty content")
        if self.role == "assistant" and not has_text and not self.tool_calls:
            raise ValueError("assistant message has neither content nor tool_calls")
        if self.role != "assistant" and self.tool_calls:
            raise ValueError(f"{self.role} message carries tool_calls")
        if self.role == "tool" and not self.tool_call_id:
            raise ValueError("tool message has no tool_call_id")
        return self

    @property
    def texts(self) -> list[str]:
        """What de-identification reads and a model sees: the content, then tool-call arguments."""
        return [self.content or "", *(call.function.arguments for call in self.tool_calls or [])]

    @property
    def order_code(self) -> str:
        if self.role == "assistant":
            return "c" if self.tool_calls else "a"
        return {"system": "s", "user": "u", "tool": "t"}[self.role]


def role_sequence(messages: list[Message]) -> str:
    return "".join(m.order_code for m in messages)


class Conversation(BaseModel):
    """One served conversation from the production log."""

    model_config = ConfigDict(extra="ignore")
    conversation_id: NonEmpty
    model_version: NonEmpty = Field(description="The production model version that served the final turn.")
    started_at: datetime
    surface: NonEmpty = Field(description="Product surface the traffic came from, e.g. 'chat' or 'api'.")
    locale: NonEmpty = "en"
    consent_model_improvement: bool = Field(
        description="Whether the user allowed use of this conversation for model improvement."
    )
    messages: list[Message] = Field(min_length=2)
    tools: list[dict[str, Any]] | None = Field(
        default=None, description="Tool schemas declared to the model, in OpenAI `tools` format."
    )

    @field_validator("started_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        # Logs without an offset are taken as UTC so windows compare consistently.
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    @model_validator(mode="after")
    def _valid_dialogue(self) -> Conversation:
        sequence = role_sequence(self.messages)
        if not _ROLE_ORDER.match(sequence):
            raise ValueError(
                f"invalid role order {sequence!r}: expected system*, then (user+, tool rounds, assistant)+, "
                "ending on an assistant reply"
            )
        open_calls: set[str] = set()
        for message in self.messages:
            if message.tool_calls:
                open_calls = {call.id for call in message.tool_calls}
            elif message.role == "tool" and message.tool_call_id not in open_calls:
                raise ValueError(f"tool message answers unknown tool_call_id {message.tool_call_id!r}")
        return self


def messages_payload(messages: list[Message]) -> list[dict[str, Any]]:
    """Messages as the OpenAI API takes them: unset fields left out."""
    return [m.model_dump(exclude_none=True) for m in messages]


def contract_problem(conversation: Conversation, limits: ContractLimits) -> str | None:
    """Why a well-formed conversation still cannot enter the pipeline, or None.

    Each check stands for a failure seen downstream: a year the store cannot give back as a datetime in
    every time zone, a text too long to replay, a conversation too long to de-identify in reasonable time,
    and text that cannot be stored as UTF-8 JSON (a lone surrogate from an escaped `\\ud800`).
    """
    try:
        year = conversation.started_at.astimezone(UTC).year
    except OverflowError:  # e.g. year 1 with a positive offset: before year 1 in UTC
        year = conversation.started_at.year
    if not limits.min_year <= year <= limits.max_year:
        return f"started_at: year {year} is outside the accepted {limits.min_year}..{limits.max_year}"
    total = 0
    for index, message in enumerate(conversation.messages):
        for text in message.texts:
            if len(text) > limits.max_text_chars:
                return (
                    f"messages.{index}: a text of {len(text):,} characters exceeds the "
                    f"{limits.max_text_chars:,} limit"
                )
            total += len(text)
    if total > limits.max_conversation_chars:
        return f"too large for de-identification ({total:,} characters > {limits.max_conversation_chars:,})"
    return storage_problem(conversation)


def storage_problem(conversation: Conversation) -> str | None:
    """Whether the conversation survives being written as UTF-8 and standard JSON, and read back."""
    for name in ("conversation_id", "model_version", "surface", "locale"):
        if (problem := unicode_problem(getattr(conversation, name))) is not None:
            return f"{name}: {problem}"
    for index, message in enumerate(conversation.messages):
        try:
            dumped = json.dumps(message.model_dump(exclude_none=True), ensure_ascii=False, allow_nan=False)
        except ValueError as error:
            return f"messages.{index}: not valid JSON ({error})"
        if (problem := unicode_problem(dumped)) is not None:
            return f"messages.{index}: {problem}"
    if conversation.tools is not None:
        try:
            dumped = json.dumps(conversation.tools, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError, RecursionError) as error:
            return f"tools: not valid JSON ({type(error).__name__}: {error})"[:200]
        if (problem := unicode_problem(dumped)) is not None:
            return f"tools: {problem}"
    return None


def unicode_problem(text: str) -> str | None:
    """Why `text` cannot be written as UTF-8 (a lone surrogate), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return f"not valid Unicode (lone surrogate U+{ord(text[error.start]):04X})"
    return None
