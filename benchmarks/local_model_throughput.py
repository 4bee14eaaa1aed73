"""Throughput of the bundled local candidate through its OpenAI-compatible server.

    python benchmarks/local_model_throughput.py [--prefixes 20] [--concurrency 2]

Replays single-turn prefixes from the bundled sample through the same client and runner the pipeline
uses, and prints calls, tokens, tokens per second and latency percentiles.
"""

from __future__ import annotations

import argparse
import gzip
import json
import socket
import time

from deploysim.core.releases import load_registry
from deploysim.inference.engine import EngineSettings, run_requests
from deploysim.inference.limiter import ConcurrencyBounds
from deploysim.inference.local_server import SMOLLM2_ALIAS, serve_smollm2
from deploysim.inference.openai_client import OpenAICompatibleClient
from deploysim.inference.types import ChatRequest
from orchestration.settings import DATA_DIR


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--prefixes", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()

    candidate = load_registry(DATA_DIR / "releases.yaml").get(SMOLLM2_ALIAS).backend
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = candidate.model_copy(update={"base_url": f"http://127.0.0.1:{port}/v1"})
    with gzip.open(DATA_DIR / "sample" / "production_log.jsonl.gz", "rt") as handle:
        rows = [json.loads(line) for line in handle]
    items = [
        (row["conversation_id"], ChatRequest(messages=row["messages"][:-1], sampling=backend.sampling))
        for row in rows
        if row["surface"] == "api"
    ][: args.prefixes]

    with serve_smollm2(backend.base_url):
        started = time.perf_counter()
        usage = run_requests(
            OpenAICompatibleClient(backend),
            items,
            cache=None,
            settings=EngineSettings(
                concurrency=ConcurrencyBounds(
                    min_concurrency=args.concurrency,
                    max_concurrency=args.concurrency,
                    initial_concurrency=args.concurrency,
                )
            ),
            on_result=lambda result: None,
        )
        elapsed = time.perf_counter() - started
    print(f"prefixes {len(items)}  concurrency {args.concurrency}  max_tokens {backend.sampling.max_tokens}")
    print(f"wall time            {elapsed:8.1f} s   ({elapsed / len(items):.2f} s per prefix)")
    print(f"calls / failures     {usage.calls:8d} / {sum(usage.failures.values())}")
    print(f"prompt tokens        {usage.prompt_tokens:8d}   ({usage.prompt_tokens / elapsed:.0f}/s)")
    print(f"completion tokens    {usage.completion_tokens:8d}   ({usage.completion_tokens / elapsed:.0f}/s)")
    print(f"latency p50 / p95    {usage.latency_percentile(50):8.0f} / {usage.latency_percentile(95):.0f} ms")


if __name__ == "__main__":
    main()
