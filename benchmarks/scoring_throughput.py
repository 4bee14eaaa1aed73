"""Scoring throughput of the seven offline evaluators through `deploysim score`'s code path.

    python benchmarks/scoring_throughput.py [--responses 20000] [--warm]

The bundled sample's conversations are repeated, each repeat under its own conversation_id, to
--responses rows of a JSONL log, and `score_log` grades their last assistant turns, as `deploysim score`
does. Prints responses/s (wall clock), CPU seconds per 1k responses (this process and its workers), peak
RSS and each evaluator's share of grading time (CPU time inside `grade`, in this process).

A repeat of a sample conversation would find its analysis in the per-process caches, which real traffic
(mostly distinct texts) would not: unless --warm is given, those caches are emptied before every chunk,
so every response is analysed as if it had never been seen.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from deploysim.core.grading import Evaluator, Grade, GradeItem

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "production_log.jsonl.gz"


def write_log(path: Path, n: int) -> int:
    """N rows built from the sample, each with a unique conversation_id; returns the sample's size."""
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as handle:
        base = [json.loads(line) for line in handle]
    with open(path, "w", encoding="utf-8") as out:
        for i in range(n):
            row = dict(base[i % len(base)])
            row["conversation_id"] = f"{row['conversation_id']}#{i // len(base)}"
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(base)


def forget_caches(evaluators: Sequence[Evaluator]) -> None:
    """Empty the per-process analysis caches, so repeats of the sample are not served from memory."""
    for evaluator in evaluators:
        deidentifier = vars(evaluator).get("_deidentifier")  # loaded lazily, on first grade
        if deidentifier is not None:
            deidentifier._analysed.clear()
    try:
        from evaluators import shared
    except ImportError:  # a tree without shared features
        return
    shared.clear()


class Timed:
    """Passes grading through to an evaluator and adds up the CPU time it takes."""

    def __init__(self, inner: Evaluator, seconds: dict[str, float], cold: Sequence[Evaluator] | None) -> None:
        self.inner = inner
        self.name = inner.name
        self.version = inner.version
        self.categories = inner.categories
        self._seconds = seconds
        #: The evaluators whose caches to empty before each chunk (given to the first one only).
        self._cold = cold

    def __getattr__(self, attribute: str):
        return getattr(self.inner, attribute)

    def grade(self, items: Sequence[GradeItem]) -> list[Grade]:
        if self._cold:
            forget_caches(self._cold)
        started = time.process_time()
        grades = self.inner.grade(items)
        self._seconds[self.name] += time.process_time() - started
        return grades


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=20_000)
    parser.add_argument("--warm", action="store_true", help="keep the per-process caches between chunks")
    args = parser.parse_args()

    from deploysim.evaluation.score_log import score_log
    from evaluators.registry import OFFLINE, load_evaluators

    seconds: dict[str, float] = defaultdict(float)
    evaluators = load_evaluators(list(OFFLINE))
    cold = None if args.warm else evaluators
    timed = [Timed(e, seconds, cold if i == 0 else None) for i, e in enumerate(evaluators)]
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "log.jsonl"
        unique = write_log(log, args.responses)
        # Presidio and the classifiers load on first use: outside the measured run, as in a long job.
        warm = Path(folder) / "warm.jsonl"
        write_log(warm, 50)
        score_log(warm, evaluators, Path(folder) / "warm.out.jsonl")
        seconds.clear()
        cpu = _cpu_seconds()
        started = time.perf_counter()
        report = score_log(log, timed, Path(folder) / "labels.jsonl")
        elapsed = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu
    graded = sum(seconds.values())
    caches = "kept" if args.warm else "emptied"
    print(f"responses        {report.scored:,} ({unique:,} distinct, caches {caches})")
    print(f"labels           {report.labels_written:,}")
    print(f"elapsed          {elapsed:.2f} s")
    print(f"responses/s      {report.scored / elapsed:,.0f}")
    print(f"CPU s per 1k     {cpu / report.scored * 1000:.3f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS         {peak:,.0f} MiB (this process)")
    print("grading time by evaluator (CPU in this process)")
    for name, spent in sorted(seconds.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<30} {spent:7.2f} s  {spent / graded:6.1%}")


if __name__ == "__main__":
    main()
