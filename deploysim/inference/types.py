"""Requests, outputs and classified errors shared by every model client."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class CallResult:
    item_id: str
    output: ModelOutput | None
    error_class: str | None = None
    error_message: str | None = None
    latency_ms: float | None = None
    cached: bool = False
    attempts: int = 0


class ErrorClass(StrEnum):
    RATE_LIMIT = "rate_limit"
    TRANSIENT = "transient"
    FATAL = "fatal"
    ARCHIVE_MISS = "archive_miss"
    #: Never sent: an earlier answer of the same endpoint stopped the run.
    NOT_ATTEMPTED = "not_attempted"


class FailureKind(StrEnum):
    """What went wrong, finer than the retry class; every recorded error message starts with it."""

    CONNECTION_REFUSED = "connection refused"
    DNS_FAILURE = "DNS failure"
    CONNECTION_ERROR = "connection error"
    TIMEOUT = "timeout"
    AUTH = "auth rejected"
    UNKNOWN_MODEL = "unknown model"
    NOT_FOUND = "not found"
    QUOTA = "quota exhausted"
    RATE_LIMITED = "rate limited"
    SERVER_ERROR = "server error"
    BAD_REQUEST = "bad request"
    MALFORMED_RESPONSE = "malformed response"
    NOT_ATTEMPTED = "not attempted"
    OTHER = "error"


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
        kind: FailureKind | None = None,
        rejection: str | None = None,
    ) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.message = message
        self.kind = kind
        #: Auth, quota or unknown-model errors: every further call would fail the same way.
        self.stops_run = stops_run
        #: For a run-stopping error, what the endpoint refused and what to check, completing
        #: "the endpoint for <version> ...", e.g. "rejected the key (401): check OPENAI_API_KEY".
        self.rejection = rejection
        #: The server's own Retry-After, which overrides the computed backoff.
        self.retry_after_s = retry_after_s
        #: 429 or an overload status: the endpoint asks for fewer requests in flight.
        self.overloaded = overloaded or error_class == ErrorClass.RATE_LIMIT
        #: How many attempts were made before giving up; set by the retry loop.
        self.attempts = 1

    @property
    def retryable(self) -> bool:
        return self.error_class in (ErrorClass.RATE_LIMIT, ErrorClass.TRANSIENT)


class EndpointRejected(RuntimeError):
    """An endpoint refused in a way every further call would repeat: a bad or forbidden key, an unknown
    model, an exhausted quota. Raised once the run's results are recorded (the calls not made as
    "not attempted: ..."); `message` is one line for a person, with no secret in it."""

    def __init__(self, message: str, *, endpoint: str, kind: FailureKind | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: The endpoint's address (base URL without credentials, and model).
        self.endpoint = endpoint
        self.kind = kind

    def __reduce__(self) -> tuple[object, ...]:  # pickles across processes with its keywords
        return (_rebuild_rejection, (self.message, self.endpoint, self.kind))


def _rebuild_rejection(message: str, endpoint: str, kind: FailureKind | None) -> EndpointRejected:
    return EndpointRejected(message, endpoint=endpoint, kind=kind)


def rejection_message(error: object) -> str | None:
    """The one-line message of an EndpointRejected anywhere in an error's chain, else None.

    `error` is an exception, or a serialized report of one with `cls_name`, `message`, `cause` and
    `context` (as an orchestrator stores a failed step), so a command line can print the line alone.
    """
    stack, seen = [error], set()
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, EndpointRejected):
            return current.message
        if getattr(current, "cls_name", None) == EndpointRejected.__name__:
            text = str(getattr(current, "message", "")).strip()
            return text.split(f"{EndpointRejected.__name__}: ", 1)[-1]
        for link in ("__context__", "__cause__", "context", "cause"):
            stack.append(getattr(current, link, None))
    return None
