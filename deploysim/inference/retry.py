"""Bounded retries: backoff with jitter, the server's Retry-After first, caps on attempts and time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
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
from deploysim.inference.types import ErrorClass, ModelCallError

T = TypeVar("T")


class RetryPolicy(BaseModel):
    max_attempts: int = Field(default=6, ge=1, le=50)
    attempt_timeout_s: float = Field(default=120.0, gt=0)
    #: Total time one request may spend retrying; a Retry-After beyond it ends the request instead.
    max_retry_time_s: float = Field(default=600.0, gt=0)
    backoff_initial_s: float = Field(default=1.0, ge=0)
    backoff_max_s: float = Field(default=60.0, ge=0)
    jitter_s: float = Field(default=1.0, ge=0)


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
            except TimeoutError as error:
                raise ModelCallError(
                    ErrorClass.TRANSIENT, f"attempt timed out after {policy.attempt_timeout_s:g} s"
                ) from error
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
