"""The engine: stream prefixes through one client with adaptive concurrency, retries, a cache and batching."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice

from pydantic import BaseModel, Field

from deploysim.core.hashing import content_hash
from deploysim.inference.cache import ResponseCache, request_key
from deploysim.inference.client import ModelClient
from deploysim.inference.limiter import ConcurrencyBounds, limiter_for
from deploysim.inference.progress import Progress, first_progress_after_s
from deploysim.inference.rejection import not_attempted, record_not_attempted, rejection
from deploysim.inference.retry import RetryPolicy, call_with_retries
from deploysim.inference.secrets import scrub_secrets
from deploysim.inference.types import CallResult, ChatRequest, EndpointRejected, ErrorClass, ModelCallError
from deploysim.inference.usage import Usage

#: Re-exported: callers import the engine's vocabulary from the engine.
__all__ = [
    "CallResult",
    "EndpointRejected",
    "EngineSettings",
    "Progress",
    "record_not_attempted",
    "run_requests",
]


class EngineSettings(BaseModel):
    concurrency: ConcurrencyBounds = ConcurrencyBounds()
    retry: RetryPolicy = RetryPolicy()
    #: Results per DuckDB write; the journal covers what is not yet written.
    batch_size: int = Field(default=500, ge=1)
    flush_interval_s: float = Field(default=5.0, gt=0)
    progress_interval_s: float = Field(default=10.0, gt=0)
    #: Prefixes looked up in the cache per query.
    lookup_batch: int = Field(default=1000, ge=1)

    @classmethod
    def fixed(cls, concurrency: int, **overrides: object) -> EngineSettings:
        bounds = ConcurrencyBounds(
            min_concurrency=concurrency, max_concurrency=concurrency, initial_concurrency=concurrency
        )
        return cls(concurrency=bounds, **overrides)


def replica_key(key: str, request: ChatRequest, occurrences: Counter[str]) -> str:
    """At temperature 0 identical prefixes share one answer; when sampling, each occurrence is its own draw
    (numbered in input order, so a rerun maps every item back to its own cached draw)."""
    occurrences[key] += 1
    if request.sampling.temperature == 0 or occurrences[key] == 1:
        return key
    return content_hash({"request": key, "replica": occurrences[key] - 1})


def _pages(items: Iterable[tuple[str, ChatRequest]], size: int) -> Iterator[list[tuple[str, ChatRequest]]]:
    iterator = iter(items)
    while page := list(islice(iterator, size)):
        yield page


async def _run(
    client: ModelClient,
    items: Iterable[tuple[str, ChatRequest]],
    cache: ResponseCache | None,
    settings: EngineSettings,
    on_result: Callable[[CallResult], None],
    on_flush: Callable[[], None] | None,
    progress: Callable[[Progress], None] | None,
    total: int | None,
    name: str,
    usage: Usage,
) -> Usage:
    usage.endpoint = client.endpoint
    usage.usd_per_million_input_tokens = client.usd_per_million_input_tokens
    usage.usd_per_million_output_tokens = client.usd_per_million_output_tokens
    limiter = limiter_for(client.scope, settings.concurrency)
    use_cache = cache is not None and client.cacheable
    secrets: tuple[str, ...] = tuple(getattr(client, "secrets", ()))
    started = time.monotonic()
    state = {"done": 0, "ok": 0, "unflushed": 0, "last_flush": started, "last_progress": started}
    seen: set[str] = set()
    occurrences: Counter[str] = Counter()
    # Identical requests in flight are sent once; every item waiting on one gets its answer.
    waiting: dict[str, list[str]] = {}
    queue: asyncio.Queue[tuple[str, ChatRequest] | None] = asyncio.Queue(
        maxsize=2 * settings.concurrency.max_concurrency
    )
    rejected: list[EndpointRejected] = []

    def flush() -> None:
        if use_cache and cache is not None:
            cache.flush()
        if on_flush:
            on_flush()
        state["unflushed"] = 0
        state["last_flush"] = time.monotonic()

    def report(force: bool = False) -> None:
        now = time.monotonic()
        if progress and (force or now - state["last_progress"] >= settings.progress_interval_s):
            state["last_progress"] = now
            progress(
                Progress(
                    done=state["done"],
                    total=total,
                    ok=state["ok"],
                    failed=sum(usage.failures.values()) - usage.failures[ErrorClass.ARCHIVE_MISS.value],
                    missed=usage.failures[ErrorClass.ARCHIVE_MISS.value],
                    cached=usage.cached,
                    elapsed_s=now - started,
                    concurrency=limiter.current,
                    in_flight=limiter.in_flight,
                )
            )

    async def tick() -> None:
        """Progress while nothing completes, e.g. every call hanging until its timeout."""
        await asyncio.sleep(first_progress_after_s(settings.progress_interval_s))
        report(force=True)
        while True:
            due = state["last_progress"] + settings.progress_interval_s - time.monotonic()
            await asyncio.sleep(max(due, 0.01))
            report()

    def record(result: CallResult) -> None:
        state["done"] += 1
        state["ok"] += result.output is not None
        if result.output is None:
            usage.failures[result.error_class or ErrorClass.FATAL.value] += 1
        on_result(result)
        state["unflushed"] += 1
        if (
            state["unflushed"] >= settings.batch_size
            or time.monotonic() - state["last_flush"] >= settings.flush_interval_s
        ):
            flush()
        report()

    def reject(error: ModelCallError) -> None:
        """The first run-stopping answer: no further call goes out, those in flight are abandoned."""
        if rejected:
            return
        rejected.append(rejection(name, client.endpoint, error))
        for task in workers:
            if task is not asyncio.current_task():
                task.cancel()

    async def worker() -> None:
        while (job := await queue.get()) is not None:
            key, request = job
            if rejected:
                continue  # left in `waiting`, recorded as not attempted
            sent = time.perf_counter()
            try:
                output, attempts = await call_with_retries(
                    lambda request=request: client.generate(request), settings.retry, limiter
                )
            except ModelCallError as error:
                usage.attempts += error.attempts
                usage.retries += error.attempts - 1
                message = scrub_secrets(error.message, secrets)
                for item_id in waiting.pop(key):
                    record(
                        CallResult(
                            item_id, None, error.error_class.value, message, None, False, error.attempts
                        )
                    )
                if error.stops_run:
                    reject(error)
                continue
            latency_ms = (time.perf_counter() - sent) * 1000
            usage.attempts += attempts
            usage.retries += attempts - 1
            usage.calls += 1
            usage.prompt_tokens += output.prompt_tokens
            usage.completion_tokens += output.completion_tokens
            usage.latencies_ms.append(latency_ms)
            if use_cache and cache is not None:
                cache.put(key, client.endpoint, output)
            sharing = waiting.pop(key)
            usage.coalesced += len(sharing) - 1
            for item_id in sharing:
                record(CallResult(item_id, output, None, None, latency_ms, False, attempts))

    workers = [asyncio.create_task(worker()) for _ in range(settings.concurrency.max_concurrency)]
    ticker = asyncio.create_task(tick()) if progress else None
    try:
        for page in _pages(items, settings.lookup_batch):
            keys = [replica_key(request_key(client.endpoint, r), r, occurrences) for _, r in page]
            hits = cache.get_many([k for k in keys if k not in waiting]) if use_cache and cache else {}
            for (item_id, request), key in zip(page, keys, strict=True):
                if item_id in seen:
                    raise ValueError(f"item ids must be unique; {item_id!r} appears twice")
                seen.add(item_id)
                if key in hits:
                    usage.cached += 1
                    record(CallResult(item_id, hits[key], cached=True))
                elif rejected:
                    record(not_attempted(item_id, rejected[0].message))
                elif key in waiting:
                    waiting[key].append(item_id)
                else:
                    waiting[key] = [item_id]
                    await queue.put((key, request))
        if not rejected:
            for _ in workers:
                await queue.put(None)
            # A rejection while the last calls are out cancels the other workers (not an Exception).
            for outcome in await asyncio.gather(*workers, return_exceptions=True):
                if isinstance(outcome, Exception):
                    raise outcome
    finally:
        for task in [*workers, *([ticker] if ticker else [])]:
            task.cancel()
        await asyncio.gather(*workers, *([ticker] if ticker else []), return_exceptions=True)
        if rejected:
            for sharing in waiting.values():
                for item_id in sharing:
                    record(not_attempted(item_id, rejected[0].message))
            waiting.clear()
        flush()
    usage.wall_s = time.monotonic() - started
    usage.concurrency_peak = int(limiter.peak_limit)
    usage.concurrency_cuts = limiter.cuts
    report(force=True)
    if rejected:
        raise rejected[0]
    return usage


def run_requests(
    client: ModelClient,
    items: Iterable[tuple[str, ChatRequest]] | Sequence[tuple[str, ChatRequest]],
    *,
    cache: ResponseCache | None,
    settings: EngineSettings,
    on_result: Callable[[CallResult], None],
    on_flush: Callable[[], None] | None = None,
    progress: Callable[[Progress], None] | None = None,
    total: int | None = None,
    name: str | None = None,
    usage: Usage | None = None,
) -> Usage:
    """Every item ends as exactly one result: a response, a cached response or a recorded failure.

    `items` may be a generator: prefixes stream through in pages and results leave through `on_result`,
    so memory stays flat however many prefixes there are. `on_flush` is called whenever the cache commits
    a batch, for the caller to write its own rows at the same cadence. `progress` is called at least every
    `progress_interval_s`, even while every call hangs. A bad key, an unknown model or an exhausted quota
    stops the run at its first answer: the items not yet answered are recorded "not attempted", then
    EndpointRejected is raised with one line naming the endpoint (`name`, e.g. the model version).
    Pass `usage` to keep the accounting of a run that ends that way.
    """
    account = usage if usage is not None else Usage(client.endpoint)

    async def main() -> Usage:
        try:
            return await _run(
                client,
                items,
                cache,
                settings,
                on_result,
                on_flush,
                progress,
                total,
                name or client.endpoint,
                account,
            )
        finally:
            await client.aclose()

    return asyncio.run(main())
