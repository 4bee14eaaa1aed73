"""What the engine reports while it runs: counts, concurrency, elapsed time, as one log line."""

from __future__ import annotations

from dataclasses import dataclass


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
        """One log line, e.g. `candidate: 4,210/100,000 (4.2%) · ok 4,200 · failed 10 · cached 0 · 41.9/s
        · concurrency 64 (60 in flight) · 1m41s elapsed · eta 39m`."""
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
            f" · concurrency {self.concurrency} ({self.in_flight} in flight)"
            f" · {_duration(self.elapsed_s)} elapsed{eta}"
        )


def _duration(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s" if minutes else f"{seconds:.0f}s"


#: The first progress line comes this soon even when the interval is longer: a hanging endpoint shows.
FIRST_PROGRESS_S = 5.0


def first_progress_after_s(interval_s: float) -> float:
    return min(interval_s, FIRST_PROGRESS_S)
