"""Requests, outputs and classified errors shared by every model client."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from deploysim.core.hashing import prefix_hash
from deploysim.inference.backends import SamplingParams


class ChatRequest(BaseModel):
    """One prefix to complete: exactly what is sent to the model."""

    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None = None
    sampling: SamplingParams = SamplingParams()
    #: Structured output, e.g. {"type": "json_schema", "json_schema": {...}} for a judge's verdict.
    response_format: dict[str, Any] | None = None

    @property
    def prefix_hash(self) -> str:
        return prefix_hash(self.messages, self.tools)


class ModelOutput(BaseModel):
    content: str | None
    tool_calls: list[dict[str, Any]] | None = None
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


class ErrorClass(StrEnum):
    RATE_LIMIT = "rate_limit"
    TRANSIENT = "transient"
    FATAL = "fatal"
    ARCHIVE_MISS = "archive_miss"


class ModelCallError(Exception):
    """One failed attempt, classified. Rate limits and transient errors are retried; fatal ones are not."""

    def __init__(
        self,
        error_class: ErrorClass,
        message: str,
        *,
        stops_run: bool = False,
        retry_after_s: float | None = None,
        overloaded: bool = False,
    ) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.message = message
        #: Auth, quota or unknown-model errors: every further call would fail the same way.
        self.stops_run = stops_run
        #: The server's own Retry-After, which overrides the computed backoff.
        self.retry_after_s = retry_after_s
        #: 429 or an overload status: the endpoint asks for fewer requests in flight.
        self.overloaded = overloaded or error_class == ErrorClass.RATE_LIMIT
        #: How many attempts were made before giving up; set by the retry loop.
        self.attempts = 1

    @property
    def retryable(self) -> bool:
        return self.error_class in (ErrorClass.RATE_LIMIT, ErrorClass.TRANSIENT)
