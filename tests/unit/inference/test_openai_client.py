import time

import pytest

from deploysim.inference.backends import OpenAIBackend
from deploysim.inference.engine import EngineSettings, RunAborted, run_requests
from deploysim.inference.openai_client import OpenAICompatibleClient
from deploysim.inference.retry import RetryPolicy
from deploysim.inference.types import ChatRequest, ErrorClass
from tests.support.stub_openai_server import completion, stub_openai_server


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


def test_a_bad_key_stops_the_run_early():
    with stub_openai_server(lambda body, n: (401, {}, {"error": {"message": "bad key"}})) as (url, server):
        client = OpenAICompatibleClient(_backend(url), timeout_s=5)
        items = [(str(i), _request()) for i in range(50)]
        with pytest.raises(RunAborted, match="AuthenticationError"):
            run_requests(client, items, cache=None, settings=_settings(2), on_result=lambda r: None)
    assert server.calls < 10


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
