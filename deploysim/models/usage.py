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
    calls: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)

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
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else None

    def as_metadata(self, prefix: str = "openai") -> dict[str, float | int | str | None]:
        """Key names follow dagster-openai's (`openai.calls`, `openai.total_tokens`...)."""
        return {
            f"{prefix}.calls": self.calls,
            f"{prefix}.cached_calls": self.cached,
            f"{prefix}.prompt_tokens": self.prompt_tokens,
            f"{prefix}.completion_tokens": self.completion_tokens,
            f"{prefix}.total_tokens": self.total_tokens,
            f"{prefix}.cost_usd": round(self.cost_usd, 6),
            f"{prefix}.failures": sum(self.failures.values()),
            f"{prefix}.latency_p50_ms": self.latency_percentile(50),
            f"{prefix}.latency_p95_ms": self.latency_percentile(95),
        }
