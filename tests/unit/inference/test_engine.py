import asyncio
import time

import duckdb
import pytest

from deploysim.inference.backends import FakeBackend
from deploysim.inference.cache import ResponseCache
from deploysim.inference.engine import EngineSettings, run_requests
from deploysim.inference.fake_client import FakeClient
from deploysim.inference.progress import first_progress_after_s
from deploysim.inference.retry import RetryPolicy
from deploysim.inference.types import (
    ChatRequest,
    EndpointRejected,
    ErrorClass,
    FailureKind,
    ModelCallError,
    rejection_message,
)
from tests.support.engine import fake_client, fixed_settings


def _fixed(concurrency: int) -> EngineSettings:
    retry = RetryPolicy(max_attempts=3, backoff_initial_s=0.01, jitter_s=0.01)
    return fixed_settings(concurrency, retry=retry)


def _items(n: int, word: str = "question"):
    return [(f"c{i}", ChatRequest(messages=[{"role": "user", "content": f"{word} {i}"}])) for i in range(n)]


def test_concurrency_is_bounded_and_every_item_gets_one_result():
    client = fake_client(delay_s=0.01)
    results = []
    usage = run_requests(client, _items(40), cache=None, settings=_fixed(3), on_result=results.append)
    assert client.max_in_flight == 3
    assert sorted(r.item_id for r in results) == sorted(f"c{i}" for i in range(40))
    assert usage.calls == 40 and usage.prompt_tokens == 280 and usage.completion_tokens == 120
    assert usage.cost_usd == pytest.approx((280 * 1.0 + 120 * 2.0) / 1e6)
    assert usage.as_metadata()["openai.total_tokens"] == 400


def test_a_rerun_repeats_no_completed_call():
    con = duckdb.connect()
    cache = ResponseCache(con)
    first = fake_client(fail_on="question 3")
    results = []
    run_requests(first, _items(10), cache=cache, settings=_fixed(2), on_result=results.append)
    assert first.calls == 9 + 3  # the failing prefix is tried three times, then recorded
    failed = [r for r in results if r.output is None]
    assert [(r.item_id, r.error_class) for r in failed] == [("c3", ErrorClass.TRANSIENT.value)]

    again = fake_client()
    rerun = []
    usage = run_requests(again, _items(10), cache=cache, settings=_fixed(2), on_result=rerun.append)
    # Only the call that failed is made again; the nine completed ones come from the cache.
    assert again.calls == 1
    assert usage.cached == 9 and usage.calls == 1
    assert all(r.output is not None for r in rerun)


def test_cache_key_covers_sampling_parameters():
    con = duckdb.connect()
    cache = ResponseCache(con)
    run_requests(fake_client(), _items(2), cache=cache, settings=_fixed(2), on_result=lambda r: None)
    hotter = [
        (i, r.model_copy(update={"sampling": r.sampling.model_copy(update={"temperature": 0.7})}))
        for i, r in _items(2)
    ]
    client = fake_client()
    run_requests(client, hotter, cache=cache, settings=_fixed(2), on_result=lambda r: None)
    assert client.calls == 2


class _BadKey(FakeClient):
    async def generate(self, request):
        self.calls += 1
        await asyncio.sleep(0.01)
        raise ModelCallError(
            ErrorClass.FATAL,
            "auth rejected: AuthenticationError: invalid api key",
            stops_run=True,
            kind=FailureKind.AUTH,
            rejection="rejected the key (401): check MY_KEY",
        )


def test_fatal_error_stops_the_run_and_every_item_is_recorded_first():
    client = _BadKey(FakeBackend())
    results = []
    with pytest.raises(EndpointRejected) as raised:
        run_requests(client, _items(200), cache=None, settings=_fixed(1), on_result=results.append, name="v9")
    assert client.calls == 1
    assert raised.value.message == "the endpoint for v9 rejected the key (401): check MY_KEY"
    assert raised.value.endpoint == "fake:fake" and raised.value.__cause__ is None
    assert sorted(r.item_id for r in results) == sorted(f"c{i}" for i in range(200))
    assert results[0].error_message == "auth rejected: AuthenticationError: invalid api key"
    assert {r.error_message for r in results[1:]} == {f"not attempted: {raised.value.message}"}


def test_after_a_rejection_cached_answers_are_still_served():
    con = duckdb.connect()
    cache = ResponseCache(con)
    run_requests(fake_client(), _items(3), cache=cache, settings=_fixed(1), on_result=lambda r: None)
    client = _BadKey(FakeBackend())
    results = {}
    with pytest.raises(EndpointRejected):
        run_requests(
            client,
            _items(6),
            cache=cache,
            settings=_fixed(1),
            on_result=lambda r: results.__setitem__(r.item_id, r),
        )
    assert client.calls == 1
    assert all(results[f"c{i}"].cached and results[f"c{i}"].output for i in range(3))
    assert [results[f"c{i}"].error_class for i in range(3, 6)] == ["fatal", "not_attempted", "not_attempted"]


def test_progress_is_reported_every_interval_while_calls_hang():
    lines: list[tuple[float, str]] = []
    started = time.monotonic()
    run_requests(
        fake_client(delay_s=1.3),
        _items(2),
        cache=None,
        settings=fixed_settings(2, progress_interval_s=0.25),
        on_result=lambda r: None,
        progress=lambda p: lines.append((time.monotonic() - started, p.line("cand"))),
        total=2,
    )
    waiting = [(at, line) for at, line in lines if line.startswith("cand: 0/2")]
    assert len(waiting) >= 3 and waiting[0][0] < 0.6
    assert all("(2 in flight)" in line and "elapsed" in line for _, line in waiting)
    assert lines[-1][1].startswith("cand: 2/2 (100.0%) · ok 2")


def test_the_first_progress_line_comes_within_ten_seconds_whatever_the_interval():
    assert first_progress_after_s(EngineSettings().progress_interval_s) <= 10
    assert first_progress_after_s(600) <= 10 and first_progress_after_s(0.5) == 0.5


def test_duplicate_item_ids_are_refused():
    with pytest.raises(ValueError, match="unique"):
        run_requests(
            fake_client(),
            _items(2) + _items(1),
            cache=None,
            settings=_fixed(1),
            on_result=lambda r: None,
        )


def test_the_rejection_line_is_found_behind_wrappers():
    rejected = EndpointRejected("the endpoint for v9 rejected the key (401): check MY_KEY", endpoint="e")
    try:
        try:
            raise rejected
        except EndpointRejected as error:
            raise RuntimeError("step failed") from error
    except RuntimeError as wrapper:
        assert rejection_message(wrapper) == rejected.message
    assert rejection_message(RuntimeError("unrelated")) is None
