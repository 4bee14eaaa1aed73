"""Bounded retries: backoff with jitter, the server's Retry-After first, caps on attempts and time."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from pydantic import BaseModel, Field
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)

from deploysim.inference.limiter import AdaptiveLimiter
from deploysim.inference.types import ErrorClass, FailureKind, ModelCallError

T = TypeVar("T")

#: Environment variables a command line sets from its flags (`--attempt-timeout`, `--attempts`).
ATTEMPT_TIMEOUT_ENV = "DEPLOYSIM_ATTEMPT_TIMEOUT_S"
MAX_ATTEMPTS_ENV = "DEPLOYSIM_MAX_ATTEMPTS"
DEFAULT_ATTEMPT_TIMEOUT_S = 120.0
DEFAULT_MAX_ATTEMPTS = 6


class RetryPolicy(BaseModel):
    max_attempts: int = Field(default=DEFAULT_MAX_ATTEMPTS, ge=1, le=50)
    attempt_timeout_s: float = Field(default=DEFAULT_ATTEMPT_TIMEOUT_S, gt=0)
    #: Total time one request may spend retrying; a Retry-After beyond it ends the request instead.
    max_retry_time_s: float = Field(default=600.0, gt=0)
    backoff_initial_s: float = Field(default=1.0, ge=0)
    backoff_max_s: float = Field(default=60.0, ge=0)
    jitter_s: float = Field(default=1.0, ge=0)


def _from_env(
    environ: Mapping[str, str], name: str, parse: Callable[[str], float], what: str
) -> float | None:
    raw = environ.get(name, "").strip()
    if not raw:
        return None
    try:
        value = parse(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise ValueError(f"{name} must be {what}, got {raw!r}")
    return value


def resolve_attempt_timeout_s(
    explicit: float | None = None, environ: Mapping[str, str] | None = None
) -> float:
    """The attempt timeout: `explicit` when set, else DEPLOYSIM_ATTEMPT_TIMEOUT_S, else 120 s."""
    if explicit is not None:
        return explicit
    found = _from_env(os.environ if environ is None else environ, ATTEMPT_TIMEOUT_ENV, float, "seconds > 0")
    return DEFAULT_ATTEMPT_TIMEOUT_S if found is None else float(found)


def resolve_max_attempts(explicit: int | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Attempts per request: `explicit` when set, else DEPLOYSIM_MAX_ATTEMPTS, else 6."""
    if explicit is not None:
        return explicit
    found = _from_env(os.environ if environ is None else environ, MAX_ATTEMPTS_ENV, int, "an integer >= 1")
    return DEFAULT_MAX_ATTEMPTS if found is None else int(found)


def _retryable(error: BaseException) -> bool:
    return isinstance(error, ModelCallError) and error.retryable


class _RetryAfterOrBackoff:
    """The server knows its own load: honour its Retry-After, else back off exponentially with jitter."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._backoff = wait_exponential_jitter(
            initial=policy.backoff_initial_s, max=policy.backoff_max_s, jitter=policy.jitter_s
        )

    def __call__(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, ModelCallError) and error.retry_after_s is not None:
            return error.retry_after_s
        return self._backoff(state)


async def call_with_retries(
    attempt: Callable[[], Awaitable[T]], policy: RetryPolicy, limiter: AdaptiveLimiter
) -> tuple[T, int]:
    """Run `attempt` until it succeeds or the policy gives up; returns the result and the attempts made.

    Each attempt takes a limiter slot only while it is on the wire, so a request sleeping in backoff
    does not hold back the others. The last failure is re-raised with its class.
    """
    attempts = 0

    async def once() -> T:
        nonlocal attempts
        attempts += 1
        async with limiter.slot() as slot:
            try:
                async with asyncio.timeout(policy.attempt_timeout_s):
                    result = await attempt()
            except TimeoutError:
                raise ModelCallError(
                    ErrorClass.TRANSIENT,
                    f"{FailureKind.TIMEOUT}: no answer within the attempt timeout of "
                    f"{policy.attempt_timeout_s:g} s",
                    kind=FailureKind.TIMEOUT,
                ) from None
            except ModelCallError as error:
                slot.overloaded = error.overloaded
                raise
            slot.succeeded = True
            return result

    retrying = AsyncRetrying(
        stop=stop_after_attempt(policy.max_attempts) | stop_before_delay(policy.max_retry_time_s),
        wait=_RetryAfterOrBackoff(policy),
        retry=retry_if_exception(_retryable),
        reraise=True,
    )
    try:
        result = await retrying(once)
    except ModelCallError as error:
        error.attempts = attempts
        raise
    return result, attempts
