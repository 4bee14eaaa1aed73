"""Client-side load of UK AISI Inspect (``inspect-ai``) against an OpenAI-compatible endpoint.

    python benchmarks/inspect_load.py [--latency-ms 100] [--levels 16 64 256] [--per-level 40] [--cap 2560]

``measure_inspect(base_url, requests, max_connections)`` runs Inspect in a separate process, so that the
CPU time it reports is Inspect's alone, performing ``requests`` single-turn generations (temperature 0, no
retries, no scorer) against ``base_url``. The command above starts ``loopback_stub.py`` and prints, per
concurrency level, throughput as a fraction of the Little's-law ideal (concurrency / latency) and client
CPU-seconds per 1,000 requests.

Inspect reaches the endpoint through its generic OpenAI-compatible provider: model
``openai-api/stub/<model>`` with ``STUB_BASE_URL`` and ``STUB_API_KEY`` in the environment (Inspect reads
``<SERVICE>_BASE_URL`` / ``<SERVICE>_API_KEY`` for ``openai-api/<service>/...``). Inspect lives in its own
virtualenv, ``var/bench-venv``, because it pins an older fsspec than the project's (set ``BENCH_PYTHON`` to
use another interpreter):

    python3.11 -m venv var/bench-venv && var/bench-venv/bin/pip install "inspect-ai==0.3.285" "openai==3.57.0"

What is switched off, and what is kept as a user gets it:
- off: the terminal display (``display="none"``) and scoring (no scorer: not on the model-call path);
- kept: log writing at its defaults (``.eval`` format, samples logged, realtime sample buffer), into a
  temporary log directory that is removed afterwards; console log level at its default, "warning".
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from bisect import bisect_left
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCH_VENV_PYTHON = REPO_ROOT / "var" / "bench-venv" / "bin" / "python"
SERVICE = "stub"
MODEL = "stub-model"
# A one-sample eval before the measured one absorbs one-off costs (lazy imports, provider and client
# set-up) and is reported apart; the measured eval's own fixed cost is what lies outside its samples.
WARMUP_REQUESTS = 1


def inspect_python() -> str:
    """The interpreter that has inspect-ai: BENCH_PYTHON, else var/bench-venv, else this one."""
    if os.environ.get("BENCH_PYTHON"):
        return os.environ["BENCH_PYTHON"]
    if BENCH_VENV_PYTHON.exists():
        return str(BENCH_VENV_PYTHON)
    return sys.executable


def measure_inspect(
    base_url: str,
    requests: int,
    max_connections: int,
    eval_options: dict[str, Any] | None = None,
    timeout_s: float = 900.0,
) -> dict:
    """Run ``requests`` Inspect generations at ``max_connections`` in a child process; return its timings.

    Keys: requests, wall_s, cpu_s and throughput_rps for the measured ``eval()`` call as a whole; the
    same for the generation window alone (first generate() call made to last one returned: gen_*); the
    eval's cost outside that window (eval_overhead_*); the warm-up eval's and the import's cost; and
    child_total_cpu_s, the child's whole CPU time from getrusage. ``eval_options`` are extra keyword
    arguments to ``inspect_ai.eval`` (e.g. ``{"log_samples": False}``), to price a setting.
    """
    with tempfile.TemporaryDirectory(prefix="inspect_load_") as scratch:
        result_path = Path(scratch) / "result.json"
        spec = {
            "base_url": base_url,
            "requests": requests,
            "max_connections": max_connections,
            "log_dir": str(Path(scratch) / "logs"),
            "result_path": str(result_path),
            "eval_options": eval_options or {},
        }
        env = {**os.environ, f"{SERVICE.upper()}_BASE_URL": base_url, f"{SERVICE.upper()}_API_KEY": "stub"}
        # RUSAGE_CHILDREN only counts reaped children, so the difference around one run is this child's.
        before = _children_cpu()
        completed = subprocess.run(
            [inspect_python(), str(Path(__file__).resolve()), "--child", json.dumps(spec)],
            env=env,
            cwd=scratch,
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
        child_cpu = _children_cpu() - before
        if completed.returncode != 0 or not result_path.exists():
            raise RuntimeError(
                f"inspect child failed (exit {completed.returncode}):\n{completed.stdout[-3000:]}\n"
                f"{completed.stderr[-3000:]}"
            )
        result = json.loads(result_path.read_text())
    result["child_total_cpu_s"] = child_cpu
    return result


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class _CpuSampler:
    """Samples (wall, process CPU) every few ms, so CPU over a window known only afterwards can be read."""

    def __init__(self, interval_s: float = 0.01) -> None:
        self.interval_s = interval_s
        self.walls: list[float] = []
        self.cpus: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _CpuSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.walls.append(time.time())
            self.cpus.append(time.process_time())
            self._stop.wait(self.interval_s)

    def cpu_at(self, wall: float) -> float:
        """Process CPU seconds at wall-clock time ``wall`` (the nearest sample not before it)."""
        index = min(bisect_left(self.walls, wall), len(self.walls) - 1)
        return self.cpus[index]


def _run_child(spec: dict[str, Any]) -> None:
    """Inside the Inspect interpreter: import, warm up, run the measured eval, write timings as JSON."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    from inspect_ai import Task
    from inspect_ai import eval as inspect_eval
    from inspect_ai.dataset import Sample
    from inspect_ai.model import GenerateConfig
    from inspect_ai.solver import Generate, Solver, TaskState, solver

    import_wall, import_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    max_connections = int(spec["max_connections"])
    # Wall-clock marks of each generation, taken in the solver rather than read from the log's samples,
    # so the generation window is known even when samples are not logged.
    starts: list[float] = []
    ends: list[float] = []
    answered = [0]

    @solver
    def timed_generate() -> Solver:
        """Inspect's plain ``generate()`` step, bracketed by two clock reads."""

        async def solve(state: TaskState, generate: Generate) -> TaskState:
            starts.append(time.time())
            state = await generate(state)
            ends.append(time.time())
            answered[0] += bool(state.output.completion)
            return state

        return solve

    def run(n: int) -> tuple[float, float]:
        starts.clear()
        ends.clear()
        answered[0] = 0
        # Distinct inputs, so nothing on the path can collapse identical requests.
        task = Task(
            dataset=[Sample(input=f"Reply with a short greeting. Request {i}.", id=i) for i in range(n)],
            solver=timed_generate(),
            config=GenerateConfig(temperature=0.0),
        )
        wall, cpu = time.perf_counter(), time.process_time()
        logs = inspect_eval(
            task,
            model=f"openai-api/{SERVICE}/{MODEL}",
            max_connections=max_connections,
            max_samples=max_connections,  # Inspect's default; stated so the level is explicit.
            max_retries=0,
            display="none",
            log_dir=spec["log_dir"],
            **spec.get("eval_options", {}),
        )
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        # Inspect fails the eval on the first sample error by default, so success means every call worked.
        if logs[0].status != "success":
            raise RuntimeError(f"eval ended {logs[0].status}: {logs[0].error}")
        return wall, cpu

    warm_wall, warm_cpu = run(WARMUP_REQUESTS)

    requests = int(spec["requests"])
    with _CpuSampler() as sampler:
        wall, cpu = run(requests)
    gen_wall = max(ends) - min(starts)
    gen_cpu = sampler.cpu_at(max(ends)) - sampler.cpu_at(min(starts))
    log_bytes = sum(path.stat().st_size for path in Path(spec["log_dir"]).rglob("*") if path.is_file())

    result = {
        "requests": requests,
        "answered": answered[0],
        "max_connections": max_connections,
        "wall_s": wall,
        "cpu_s": cpu,
        "throughput_rps": requests / wall,
        "gen_wall_s": gen_wall,
        "gen_cpu_s": gen_cpu,
        "gen_throughput_rps": requests / gen_wall,
        "warmup_requests": WARMUP_REQUESTS,
        "warmup_wall_s": warm_wall,
        "warmup_cpu_s": warm_cpu,
        # Set-up before the first generate() call and log finalising after the last one returns.
        "eval_overhead_wall_s": wall - gen_wall,
        "eval_overhead_cpu_s": cpu - gen_cpu,
        "import_wall_s": import_wall,
        "import_cpu_s": import_cpu,
        "log_bytes": log_bytes,
        "inspect_version": _version("inspect_ai"),
        "openai_version": _version("openai"),
    }
    Path(spec["result_path"]).write_text(json.dumps(result))


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def _stub_stats(base_url: str, reset: bool = False) -> dict:
    """The loopback stub's /stats (the stub serves it beside /v1)."""
    url = base_url.removesuffix("/v1") + "/stats" + ("?reset=1" if reset else "")
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--levels", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--per-level", type=int, default=40, help="requests per unit of concurrency")
    # Inspect tops out at tens of requests per second here, so 2,560 requests is already a minute.
    parser.add_argument("--cap", type=int, default=2560, help="most requests at one level")
    args = parser.parse_args()
    if args.child:
        _run_child(json.loads(args.child))
        return

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from loopback_stub import start_stub

    proc, base_url = start_stub(args.latency_ms)
    try:
        print(f"inspect interpreter {inspect_python()}   stub {base_url}   latency {args.latency_ms:g} ms")
        header = (
            f"{'conc':>5} {'requests':>8} {'req/s':>8} {'ideal':>6} {'gen req/s':>9} {'gen ideal':>9} "
            f"{'cpu s/1k':>8} {'gen cpu s/1k':>12} {'overhead s':>10} {'in flight':>9}"
        )
        print(header)
        for level in args.levels:
            requests = min(args.per_level * level, args.cap)
            _stub_stats(base_url, reset=True)
            r = measure_inspect(base_url, requests, level)
            # The stub's high-water mark of requests in flight shows the concurrency Inspect really reached.
            r["stub_max_in_flight"] = _stub_stats(base_url)["max_in_flight"]
            r["loadavg_1m"] = os.getloadavg()[0]
            ideal = level / (args.latency_ms / 1000.0)
            print(
                f"{level:5d} {requests:8d} {r['throughput_rps']:8.0f} {r['throughput_rps'] / ideal:6.1%} "
                f"{r['gen_throughput_rps']:9.0f} {r['gen_throughput_rps'] / ideal:9.1%} "
                f"{1000 * r['cpu_s'] / requests:8.2f} {1000 * r['gen_cpu_s'] / requests:12.2f} "
                f"{r['eval_overhead_wall_s']:10.2f} {r['stub_max_in_flight']:9d}",
                flush=True,
            )
            print("      " + json.dumps(r), flush=True)
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
