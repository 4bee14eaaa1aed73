"""Throughput and client CPU of the regeneration engine against a loopback stub, side by side with Inspect.

    make bench-engine    # or: python benchmarks/regeneration_engine.py [--levels 16,64,256] [--skip-inspect]

The stub answers every chat completion after a fixed latency, so the ideal throughput at concurrency C is
C / latency (Little's law). For each level both clients send `rounds * C` requests (at most `cap`) with C
in flight, each in its own process so CPU time is theirs alone:

- deploysim: the engine the pipeline uses (OpenAI SDK, adaptive limiter pinned to C, retries, the DuckDB
  response cache with its journal, batched writes) on a fresh on-disk database;
- Inspect (inspect-ai): `max_connections` = C, through its OpenAI-compatible provider.

It prints requests/s, the share of the ideal, and client CPU-seconds per 1k requests.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.inspect_load import measure_inspect  # noqa: E402
from benchmarks.loopback_stub import start_stub  # noqa: E402


def _engine_child(base_url: str, requests: int, concurrency: int) -> dict:
    """Runs in its own process: one engine run of `requests` distinct prefixes at `concurrency`."""
    import duckdb

    from deploysim.inference.backends import OpenAIBackend
    from deploysim.inference.cache import ResponseCache
    from deploysim.inference.engine import EngineSettings, run_requests
    from deploysim.inference.limiter import ConcurrencyBounds
    from deploysim.inference.openai_client import OpenAICompatibleClient
    from deploysim.inference.types import ChatRequest

    backend = OpenAIBackend(base_url=base_url, model="stub-model")
    items = [
        (f"c{i}", ChatRequest(messages=[{"role": "user", "content": f"benchmark prompt {i}"}]))
        for i in range(requests)
    ]
    with tempfile.TemporaryDirectory() as tmp, duckdb.connect(f"{tmp}/bench.duckdb") as con:
        cache = ResponseCache(con, Path(tmp) / "journal")
        client = OpenAICompatibleClient(backend, max_connections=concurrency)
        results = 0

        def count(_: object) -> None:
            nonlocal results
            results += 1

        # Exactly `concurrency` in flight: the engine's adaptive limit would measure itself, not the client.
        pinned = ConcurrencyBounds(
            min_concurrency=concurrency, max_concurrency=concurrency, initial_concurrency=concurrency
        )
        wall, cpu = time.perf_counter(), time.process_time()
        usage = run_requests(
            client, items, cache=cache, settings=EngineSettings(concurrency=pinned), on_result=count
        )
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        cache.close()
    return {
        "requests": results,
        "ok": usage.calls,
        "failures": sum(usage.failures.values()),
        "wall_s": wall,
        "cpu_s": cpu,
        "throughput_rps": results / wall,
    }


def measure_engine(base_url: str, requests: int, concurrency: int) -> dict:
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]);"
        "from benchmarks.regeneration_engine import _engine_child;"
        "print(json.dumps(_engine_child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(ROOT), base_url, str(requests), str(concurrency)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--levels", default="16,64,256")
    parser.add_argument("--rounds", type=int, default=40, help="requests per level = rounds * concurrency")
    parser.add_argument("--cap", type=int, default=5120, help="at most this many requests per level")
    parser.add_argument("--skip-inspect", action="store_true")
    args = parser.parse_args()

    stub, base_url = start_stub(args.latency_ms)
    rows = []
    try:
        for level in (int(x) for x in args.levels.split(",")):
            requests = min(args.rounds * level, args.cap)
            ideal = level / (args.latency_ms / 1000)
            ours = measure_engine(base_url, requests, level)
            theirs = None if args.skip_inspect else measure_inspect(base_url, requests, level)
            rows.append((level, requests, ideal, ours, theirs))
            print(f"... concurrency {level}: done", file=sys.stderr, flush=True)
    finally:
        stub.terminate()
        stub.wait()

    print(f"stub latency {args.latency_ms:g} ms; ideal = concurrency / latency (Little's law)\n")
    header = (
        f"{'conc':>5} {'requests':>8} {'ideal/s':>8} | {'deploysim/s':>11} {'of ideal':>8} {'CPU s/1k':>8}"
        f" | {'Inspect/s':>9} {'of ideal':>8} {'CPU s/1k':>8} | {'CPU ratio':>9}"
    )
    print(header)
    print("-" * len(header))
    for level, requests, ideal, ours, theirs in rows:
        ours_cpu = ours["cpu_s"] / ours["requests"] * 1000
        line = (
            f"{level:>5} {requests:>8} {ideal:>8.0f} | {ours['throughput_rps']:>11.0f}"
            f" {ours['throughput_rps'] / ideal:>8.1%} {ours_cpu:>8.2f}"
        )
        if theirs:
            theirs_cpu = theirs["cpu_s"] / theirs["requests"] * 1000
            line += (
                f" | {theirs['throughput_rps']:>9.0f} {theirs['throughput_rps'] / ideal:>8.1%}"
                f" {theirs_cpu:>8.2f} | {ours_cpu / theirs_cpu:>9.2f}"
            )
        print(line)
    print("\nCPU ratio = deploysim CPU per request / Inspect CPU per request (below 1: deploysim is cheaper)")
    if any(ours["failures"] for *_, ours, _ in rows):
        print("warning: the engine recorded failures; the figures above are not clean", file=sys.stderr)


if __name__ == "__main__":
    main()
