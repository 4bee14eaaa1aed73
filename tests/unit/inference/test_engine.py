import duckdb
import pytest

from deploysim.inference.backends import FakeBackend
from deploysim.inference.cache import ResponseCache
from deploysim.inference.engine import EngineSettings, RunAborted, run_requests
from deploysim.inference.fake_client import FakeClient
from deploysim.inference.retry import RetryPolicy
from deploysim.inference.types import ChatRequest, ErrorClass, ModelCallError
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


def test_fatal_error_stops_the_run_with_one_clear_message():
    class BadKey(FakeClient):
        async def generate(self, request):
            self.calls += 1
            raise ModelCallError(ErrorClass.FATAL, "AuthenticationError: invalid api key", stops_run=True)

    client = BadKey(FakeBackend())
    with pytest.raises(RunAborted, match="invalid api key"):
        run_requests(client, _items(200), cache=None, settings=_fixed(4), on_result=lambda r: None)
    assert client.calls < 20


def test_duplicate_item_ids_are_refused():
    with pytest.raises(ValueError, match="unique"):
        run_requests(
            fake_client(),
            _items(2) + _items(1),
            cache=None,
            settings=_fixed(1),
            on_result=lambda r: None,
        )
