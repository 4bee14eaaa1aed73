"""Token, call, failure, latency and cost accounting for one model version."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Usage:
    endpoint: str
    usd_per_million_input_tokens: float = 0.0
    usd_per_million_output_tokens: float = 0.0
    #: Completions received (each one billed).
    calls: int = 0
    #: HTTP attempts, retries included.
    attempts: int = 0
    retries: int = 0
    cached: int = 0
    #: Items that shared an identical request in flight and got its answer.
    coalesced: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    concurrency_peak: int = 0
    concurrency_cuts: int = 0

    @classmethod
    def merged(cls, usages: list[Usage]) -> Usage:
        """Several runs against one endpoint (e.g. one per judged category) as one account."""
        first = usages[0]
        total = cls(first.endpoint, first.usd_per_million_input_tokens, first.usd_per_million_output_tokens)
        for usage in usages:
            for name in ("calls", "attempts", "retries", "cached", "coalesced", "prompt_tokens"):
                setattr(total, name, getattr(total, name) + getattr(usage, name))
            total.completion_tokens += usage.completion_tokens
            total.failures.update(usage.failures)
            total.latencies_ms += usage.latencies_ms
            total.wall_s += usage.wall_s
            total.concurrency_peak = max(total.concurrency_peak, usage.concurrency_peak)
            total.concurrency_cuts += usage.concurrency_cuts
        return total

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def cost_usd(self) -> float:
        return (
            self.prompt_tokens * self.usd_per_million_input_tokens
            + self.completion_tokens * self.usd_per_million_output_tokens
        ) / 1_000_000

    def latency_percentile(self, q: float) -> float | None:
        return round(float(np.percentile(self.latencies_ms, q)), 1) if self.latencies_ms else None

    def as_metadata(self, prefix: str = "openai") -> dict[str, float | int | str | None]:
        """Key names follow dagster-openai's (`openai.calls`, `openai.total_tokens`...)."""
        return {
            f"{prefix}.calls": self.calls,
            f"{prefix}.cached_calls": self.cached,
            f"{prefix}.attempts": self.attempts,
            f"{prefix}.retries": self.retries,
            f"{prefix}.prompt_tokens": self.prompt_tokens,
            f"{prefix}.completion_tokens": self.completion_tokens,
            f"{prefix}.total_tokens": self.total_tokens,
            f"{prefix}.cost_usd": round(self.cost_usd, 6),
            f"{prefix}.failures": sum(self.failures.values()),
            **{f"{prefix}.failures.{name}": count for name, count in sorted(self.failures.items())},
            f"{prefix}.latency_p50_ms": self.latency_percentile(50),
            f"{prefix}.latency_p95_ms": self.latency_percentile(95),
            f"{prefix}.latency_p99_ms": self.latency_percentile(99),
            f"{prefix}.concurrency_peak": self.concurrency_peak,
            f"{prefix}.concurrency_cuts": self.concurrency_cuts,
            f"{prefix}.wall_s": round(self.wall_s, 2),
        }
