import asyncio
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import openai
import pytest

from deploysim.inference.limiter import AdaptiveLimiter, ConcurrencyBounds
from deploysim.inference.openai_client import classify, retry_after_s
from deploysim.inference.retry import RetryPolicy, call_with_retries
from deploysim.inference.types import ErrorClass, ModelCallError


def _status_error(
    status: int, body: dict | None = None, headers: dict | None = None
) -> openai.APIStatusError:
    request = httpx.Request("POST", "http://h/v1/chat/completions")
    response = httpx.Response(status, headers=headers or {}, json=body or {}, request=request)
    client = openai.OpenAI(api_key="x", base_url="http://h/v1")
    return client._make_status_error_from_response(response)


def test_retry_after_in_milliseconds_seconds_or_an_http_date():
    assert retry_after_s(httpx.Headers({"retry-after-ms": "250"})) == 0.25
    assert retry_after_s(httpx.Headers({"retry-after": "3"})) == 3.0
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 28 <= retry_after_s(httpx.Headers({"retry-after": when})) <= 30
    assert retry_after_s(httpx.Headers({"retry-after": "soon"})) is None
    assert retry_after_s(httpx.Headers({})) is None


@pytest.mark.parametrize(
    ("status", "body", "expected", "stops_run", "overloaded"),
    [
        (429, {"error": {"message": "slow down"}}, ErrorClass.RATE_LIMIT, False, True),
        (
            429,
            {"error": {"message": "You exceeded your current quota", "code": "insufficient_quota"}},
            ErrorClass.FATAL,
            True,
            False,
        ),
        (500, {}, ErrorClass.TRANSIENT, False, False),
        (503, {}, ErrorClass.TRANSIENT, False, True),
        (529, {}, ErrorClass.TRANSIENT, False, True),
        (401, {"error": {"message": "bad key"}}, ErrorClass.FATAL, True, False),
        (404, {"error": {"message": "no such model"}}, ErrorClass.FATAL, True, False),
        (400, {"error": {"message": "context length exceeded"}}, ErrorClass.FATAL, False, False),
    ],
)
def test_status_codes_are_classified(status, body, expected, stops_run, overloaded):
    error = classify(_status_error(status, body, {"retry-after": "2"}))
    assert (error.error_class, error.stops_run, error.overloaded) == (expected, stops_run, overloaded)
    if expected != ErrorClass.FATAL:
        assert error.retry_after_s == 2.0


def test_connection_errors_and_malformed_bodies_are_transient():
    request = httpx.Request("POST", "http://h")
    assert classify(openai.APIConnectionError(request=request)).error_class == ErrorClass.TRANSIENT
    assert classify(ValueError("Expecting value: line 1 column 1")).error_class == ErrorClass.TRANSIENT


def _limiter() -> AdaptiveLimiter:
    return AdaptiveLimiter(ConcurrencyBounds(max_concurrency=4))


def _policy(**overrides) -> RetryPolicy:
    return RetryPolicy(**{"backoff_initial_s": 0.001, "jitter_s": 0.001, **overrides})


def test_attempts_are_capped_and_the_last_error_is_raised_with_the_count():
    calls = 0

    async def attempt():
        nonlocal calls
        calls += 1
        raise ModelCallError(ErrorClass.TRANSIENT, f"boom {calls}")

    with pytest.raises(ModelCallError, match="boom 4") as raised:
        asyncio.run(call_with_retries(attempt, _policy(max_attempts=4), _limiter()))
    assert calls == 4 and raised.value.attempts == 4


def test_fatal_errors_are_not_retried():
    calls = 0

    async def attempt():
        nonlocal calls
        calls += 1
        raise ModelCallError(ErrorClass.FATAL, "context length exceeded")

    with pytest.raises(ModelCallError):
        asyncio.run(call_with_retries(attempt, _policy(), _limiter()))
    assert calls == 1


def test_retry_after_is_waited_and_a_wait_beyond_the_budget_ends_the_request():
    stamps: list[float] = []

    async def attempt():
        stamps.append(time.monotonic())
        if len(stamps) == 1:
            raise ModelCallError(ErrorClass.RATE_LIMIT, "429", retry_after_s=0.3)
        if len(stamps) == 2:
            return "ok"
        raise AssertionError("unreachable")

    result, attempts = asyncio.run(call_with_retries(attempt, _policy(), _limiter()))
    assert (result, attempts) == ("ok", 2) and stamps[1] - stamps[0] >= 0.3

    async def far_future():
        raise ModelCallError(ErrorClass.RATE_LIMIT, "429", retry_after_s=3600)

    started = time.monotonic()
    with pytest.raises(ModelCallError) as raised:
        asyncio.run(call_with_retries(far_future, _policy(max_retry_time_s=5), _limiter()))
    assert raised.value.attempts == 1 and time.monotonic() - started < 1


def test_an_attempt_that_hangs_times_out_as_transient():
    async def hang():
        await asyncio.sleep(10)

    started = time.monotonic()
    with pytest.raises(ModelCallError, match="timed out") as raised:
        asyncio.run(call_with_retries(hang, _policy(max_attempts=2, attempt_timeout_s=0.1), _limiter()))
    assert raised.value.attempts == 2 and time.monotonic() - started < 1
