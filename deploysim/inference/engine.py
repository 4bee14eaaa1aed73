"""The engine: stream prefixes through one client with adaptive concurrency, retries, a cache and batching."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

from pydantic import BaseModel, Field

from deploysim.core.hashing import content_hash
from deploysim.inference.cache import ResponseCache, request_key
from deploysim.inference.client import ModelClient
from deploysim.inference.limiter import ConcurrencyBounds, limiter_for
from deploysim.inference.retry import RetryPolicy, call_with_retries
from deploysim.inference.types import ChatRequest, ErrorClass, ModelCallError, ModelOutput
from deploysim.inference.usage import Usage


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


@dataclass(frozen=True)
class CallResult:
    item_id: str
    output: ModelOutput | None
    error_class: str | None = None
    error_message: str | None = None
    latency_ms: float | None = None
    cached: bool = False
    attempts: int = 0


@dataclass(frozen=True)
class Progress:
    done: int
    total: int | None
    ok: int
    failed: int
    #: Prefixes an archive has no recorded answer for: not failures of a call.
    missed: int
    cached: int
    elapsed_s: float
    concurrency: int
    in_flight: int

    @property
    def per_second(self) -> float:
        return (self.done - self.cached) / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def line(self, label: str) -> str:
        """One log line, e.g. `candidate: 4,210/100,000 (4.2%) · 41.9/s · concurrency 64 · eta 39m`."""
        total = f"/{self.total:,} ({self.done / self.total:.1%})" if self.total else ""
        eta = ""
        if self.total and self.per_second > 0:
            minutes = (self.total - self.done) / self.per_second / 60
            eta = f" · eta {minutes:.0f}m" if minutes >= 1 else f" · eta {minutes * 60:.0f}s"
        missed = f" · missed {self.missed:,}" if self.missed else ""
        # A rate over cache hits alone would read 0.0/s.
        rate = f" · {self.per_second:.1f}/s" if self.done > self.cached else ""
        return (
            f"{label}: {self.done:,}{total} · ok {self.ok:,} · failed {self.failed:,}{missed}"
            f" · cached {self.cached:,}{rate}"
            f" · concurrency {self.concurrency} ({self.in_flight} in flight){eta}"
        )


class RunAborted(RuntimeError):
    """A fatal error (bad key, exhausted quota, unknown model) that every further call would repeat."""


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
) -> Usage:
    usage = Usage(client.endpoint, client.usd_per_million_input_tokens, client.usd_per_million_output_tokens)
    limiter = limiter_for(client.scope, settings.concurrency)
    use_cache = cache is not None and client.cacheable
    started = time.monotonic()
    state = {"done": 0, "ok": 0, "unflushed": 0, "last_flush": started, "last_progress": started}
    seen: set[str] = set()
    occurrences: Counter[str] = Counter()
    # Identical requests in flight are sent once; every item waiting on one gets its answer.
    waiting: dict[str, list[str]] = {}
    queue: asyncio.Queue[tuple[str, ChatRequest] | None] = asyncio.Queue(
        maxsize=2 * settings.concurrency.max_concurrency
    )
    aborted: list[ModelCallError] = []

    def flush() -> None:
        if use_cache and cache is not None:
            cache.flush()
        if on_flush:
            on_flush()
        state["unflushed"] = 0
        state["last_flush"] = time.monotonic()

    def report(final: bool = False) -> None:
        now = time.monotonic()
        if progress and (final or now - state["last_progress"] >= settings.progress_interval_s):
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

    def record(result: CallResult) -> None:
        state["done"] += 1
        state["ok"] += result.output is not None
        on_result(result)
        state["unflushed"] += 1
        if (
            state["unflushed"] >= settings.batch_size
            or time.monotonic() - state["last_flush"] >= settings.flush_interval_s
        ):
            flush()
        report()

    async def worker() -> None:
        while (job := await queue.get()) is not None:
            key, request = job
            if aborted:
                continue  # a fatal error stopped the run: nothing queued goes out
            sent = time.perf_counter()
            try:
                output, attempts = await call_with_retries(
                    lambda request=request: client.generate(request), settings.retry, limiter
                )
            except ModelCallError as error:
                usage.attempts += error.attempts
                usage.retries += error.attempts - 1
                if error.stops_run:
                    aborted.append(error)
                    continue
                for item_id in waiting.pop(key):
                    usage.failures[error.error_class.value] += 1
                    record(
                        CallResult(
                            item_id, None, error.error_class.value, error.message, None, False, error.attempts
                        )
                    )
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
                elif key in waiting:
                    waiting[key].append(item_id)
                else:
                    waiting[key] = [item_id]
                    await queue.put((key, request))
                if aborted:
                    break
            if aborted:
                break
        for _ in workers:
            await queue.put(None)
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        flush()
    usage.wall_s = time.monotonic() - started
    usage.concurrency_peak = int(limiter.peak_limit)
    usage.concurrency_cuts = limiter.cuts
    report(final=True)
    if aborted:
        raise RunAborted(f"{client.endpoint}: {aborted[0].message}")
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
) -> Usage:
    """Every item ends as exactly one result: a response, a cached response or a recorded failure.

    `items` may be a generator: prefixes stream through in pages and results leave through `on_result`,
    so memory stays flat however many prefixes there are. `on_flush` is called whenever the cache commits
    a batch, for the caller to write its own rows at the same cadence.
    """

    async def main() -> Usage:
        try:
            return await _run(client, items, cache, settings, on_result, on_flush, progress, total)
        finally:
            await client.aclose()

    return asyncio.run(main())
