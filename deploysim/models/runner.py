"""Run many prefixes through one client with bounded concurrency, a cache and recorded failures."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from deploysim.models.cache import ResponseCache, request_key
from deploysim.models.client import ModelClient
from deploysim.models.types import ChatRequest, ModelCallError, ModelOutput
from deploysim.models.usage import Usage


@dataclass(frozen=True)
class CallResult:
    item_id: str
    output: ModelOutput | None
    error_class: str | None = None
    error_message: str | None = None
    latency_ms: float | None = None
    cached: bool = False


class RunAborted(RuntimeError):
    """A fatal error (bad key, exhausted quota, unknown model) that every further call would repeat."""


async def _run(
    client: ModelClient,
    items: Sequence[tuple[str, ChatRequest]],
    cache: ResponseCache | None,
    concurrency: int,
    on_result: Callable[[CallResult], None],
    progress: Callable[[int, int], None] | None,
) -> Usage:
    usage = Usage(client.endpoint, client.usd_per_million_input_tokens, client.usd_per_million_output_tokens)
    use_cache = cache is not None and client.cacheable
    keys = {item_id: request_key(client.endpoint, request) for item_id, request in items}
    hits = cache.get_many(list(keys.values())) if use_cache and cache else {}
    done = 0

    def record(result: CallResult) -> None:
        nonlocal done
        done += 1
        on_result(result)
        if progress:
            progress(done, len(items))

    pending: list[tuple[str, ChatRequest]] = []
    for item_id, request in items:
        if keys[item_id] in hits:
            usage.cached += 1
            record(CallResult(item_id, hits[keys[item_id]], cached=True))
        else:
            pending.append((item_id, request))

    semaphore = asyncio.Semaphore(concurrency)
    # Set by the first run-stopping error, so calls still queued never go out.
    aborted: list[ModelCallError] = []

    async def call(item_id: str, request: ChatRequest) -> tuple[str, ModelOutput | ModelCallError, float]:
        async with semaphore:
            if aborted:
                return item_id, aborted[0], 0.0
            started = time.perf_counter()
            try:
                output: ModelOutput | ModelCallError = await client.generate(request)
            except ModelCallError as error:
                if error.stops_run:
                    aborted.append(error)
                output = error
            return item_id, output, (time.perf_counter() - started) * 1000

    tasks = [asyncio.create_task(call(item_id, request)) for item_id, request in pending]
    try:
        for next_done in asyncio.as_completed(tasks):
            item_id, output, latency_ms = await next_done
            if isinstance(output, ModelCallError):
                if output.stops_run:
                    raise RunAborted(f"{client.endpoint}: {output.message}")
                usage.failures[output.error_class.value] += 1
                record(CallResult(item_id, None, output.error_class.value, output.message, latency_ms))
                continue
            usage.calls += 1
            usage.prompt_tokens += output.prompt_tokens
            usage.completion_tokens += output.completion_tokens
            usage.latencies_ms.append(latency_ms)
            if use_cache and cache:
                cache.put(keys[item_id], client.endpoint, output)
            record(CallResult(item_id, output, latency_ms=latency_ms))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return usage


def run_requests(
    client: ModelClient,
    items: Sequence[tuple[str, ChatRequest]],
    *,
    cache: ResponseCache | None,
    concurrency: int,
    on_result: Callable[[CallResult], None],
    progress: Callable[[int, int], None] | None = None,
) -> Usage:
    """Every item ends as exactly one result: a response, a cached response or a recorded failure."""
    if len({item_id for item_id, _ in items}) != len(items):
        raise ValueError("item ids must be unique")

    async def main() -> Usage:
        try:
            return await _run(client, items, cache, concurrency, on_result, progress)
        finally:
            await client.aclose()

    return asyncio.run(main())
