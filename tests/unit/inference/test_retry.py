import asyncio
import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import openai
import pytest

from deploysim.inference.limiter import AdaptiveLimiter, ConcurrencyBounds
from deploysim.inference.openai_client import classify, retry_after_s
from deploysim.inference.retry import (
    RetryPolicy,
    call_with_retries,
    resolve_attempt_timeout_s,
    resolve_max_attempts,
)
from deploysim.inference.types import ErrorClass, FailureKind, ModelCallError


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
    ("status", "body", "expected", "kind", "stops_run", "overloaded"),
    [
        (
            429,
            {"error": {"message": "slow down"}},
            ErrorClass.RATE_LIMIT,
            FailureKind.RATE_LIMITED,
            False,
            True,
        ),
        (
            429,
            {"error": {"message": "You exceeded your current quota", "code": "insufficient_quota"}},
            ErrorClass.FATAL,
            FailureKind.QUOTA,
            True,
            False,
        ),
        (500, {}, ErrorClass.TRANSIENT, FailureKind.SERVER_ERROR, False, False),
        (503, {}, ErrorClass.TRANSIENT, FailureKind.SERVER_ERROR, False, True),
        (529, {}, ErrorClass.TRANSIENT, FailureKind.SERVER_ERROR, False, True),
        (408, {}, ErrorClass.TRANSIENT, FailureKind.TIMEOUT, False, False),
        (401, {"error": {"message": "bad key"}}, ErrorClass.FATAL, FailureKind.AUTH, True, False),
        (403, {"error": {"message": "project forbidden"}}, ErrorClass.FATAL, FailureKind.AUTH, True, False),
        (
            404,
            {"error": {"message": "no such model"}},
            ErrorClass.FATAL,
            FailureKind.UNKNOWN_MODEL,
            True,
            False,
        ),
        (404, {"error": {"message": "Not Found"}}, ErrorClass.FATAL, FailureKind.NOT_FOUND, True, False),
        (
            400,
            {"error": {"message": "context length exceeded"}},
            ErrorClass.FATAL,
            FailureKind.BAD_REQUEST,
            False,
            False,
        ),
    ],
)
def test_status_codes_are_classified(status, body, expected, kind, stops_run, overloaded):
    error = classify(_status_error(status, body, {"retry-after": "2"}), api_key_env="MY_KEY", model="m")
    assert (error.error_class, error.kind, error.stops_run, error.overloaded) == (
        expected,
        kind,
        stops_run,
        overloaded,
    )
    assert error.message.startswith(f"{kind}: ")
    if expected != ErrorClass.FATAL:
        assert error.retry_after_s == 2.0
    if kind == FailureKind.AUTH:
        assert error.rejection == f"rejected the key ({status}): check MY_KEY"
    if kind == FailureKind.UNKNOWN_MODEL:
        assert error.rejection == "does not know model 'm' (404): check the model name in the registry"


def _wrapped(outer: type[openai.APIConnectionError], *causes: BaseException) -> openai.APIConnectionError:
    """An SDK connection error over a chain of causes, as the transports raise them."""
    request = httpx.Request("POST", "http://h/v1/chat/completions")
    error = outer(request=request)
    link: BaseException = error
    for cause in causes:
        link.__cause__ = cause
        link = cause
    return error


def test_refused_and_unresolvable_hosts_are_named_even_inside_a_timeout():
    refused = ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 9)")
    cases = [
        (
            _wrapped(openai.APIConnectionError, httpx.ConnectError("x"), refused),
            FailureKind.CONNECTION_REFUSED,
        ),
        # The aiohttp transport reports a refused connection as a connect timeout.
        (
            _wrapped(openai.APITimeoutError, httpx.ConnectTimeout("x"), refused),
            FailureKind.CONNECTION_REFUSED,
        ),
        (
            _wrapped(
                openai.APIConnectionError, httpx.ConnectError("x"), socket.gaierror(-2, "Name not known")
            ),
            FailureKind.DNS_FAILURE,
        ),
        (_wrapped(openai.APITimeoutError, httpx.ReadTimeout("slow")), FailureKind.TIMEOUT),
        (
            _wrapped(openai.APIConnectionError, httpx.RemoteProtocolError("dropped")),
            FailureKind.CONNECTION_ERROR,
        ),
    ]
    for error, kind in cases:
        classified = classify(error)
        assert (classified.kind, classified.error_class) == (kind, ErrorClass.TRANSIENT), error
        assert classified.message.startswith(f"{kind}: ")
    assert "Connect call failed ('127.0.0.1', 9)" in classify(cases[1][0]).message


def test_a_key_in_an_error_body_never_reaches_the_message():
    key = "sk-" + "canary" + "55aa66bb77cc88dd"
    body = {"error": {"message": f"invalid request; headers were {{'Authorization': 'Bearer {key}'}}"}}
    error = classify(_status_error(500, body), secrets=[key])
    assert key not in error.message and "[REDACTED]" in error.message


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
    with pytest.raises(
        ModelCallError, match=r"^timeout: no answer within the attempt timeout of 0\.1 s"
    ) as raised:
        asyncio.run(call_with_retries(hang, _policy(max_attempts=2, attempt_timeout_s=0.1), _limiter()))
    assert raised.value.attempts == 2 and time.monotonic() - started < 1


def test_attempt_timeout_and_count_come_from_the_environment_unless_set():
    env = {"DEPLOYSIM_ATTEMPT_TIMEOUT_S": "7.5", "DEPLOYSIM_MAX_ATTEMPTS": "2"}
    assert (resolve_attempt_timeout_s(None, env), resolve_max_attempts(None, env)) == (7.5, 2)
    assert (resolve_attempt_timeout_s(30.0, env), resolve_max_attempts(4, env)) == (30.0, 4)
    assert (resolve_attempt_timeout_s(None, {}), resolve_max_attempts(None, {})) == (120.0, 6)
    with pytest.raises(ValueError, match="DEPLOYSIM_ATTEMPT_TIMEOUT_S must be seconds > 0, got 'soon'"):
        resolve_attempt_timeout_s(None, {"DEPLOYSIM_ATTEMPT_TIMEOUT_S": "soon"})
    with pytest.raises(ValueError, match="DEPLOYSIM_MAX_ATTEMPTS must be an integer >= 1, got '0'"):
        resolve_max_attempts(None, {"DEPLOYSIM_MAX_ATTEMPTS": "0"})


def test_the_gateway_builds_endpoints_with_the_environment_settings(monkeypatch):
    from deploysim.inference.backends import FakeBackend
    from orchestration.resources import ModelGatewayResource

    monkeypatch.delenv("DEPLOYSIM_ATTEMPT_TIMEOUT_S", raising=False)
    monkeypatch.delenv("DEPLOYSIM_MAX_ATTEMPTS", raising=False)
    retry = ModelGatewayResource().endpoint("v", FakeBackend()).settings.retry
    assert (retry.attempt_timeout_s, retry.max_attempts) == (120.0, 6)
    monkeypatch.setenv("DEPLOYSIM_ATTEMPT_TIMEOUT_S", "15")
    monkeypatch.setenv("DEPLOYSIM_MAX_ATTEMPTS", "2")
    retry = ModelGatewayResource().endpoint("v", FakeBackend()).settings.retry
    assert (retry.attempt_timeout_s, retry.max_attempts) == (15.0, 2)
    retry = ModelGatewayResource(max_attempts=3).endpoint("v", FakeBackend()).settings.retry
    assert (retry.attempt_timeout_s, retry.max_attempts) == (15.0, 3)
