"""Adaptive in-flight concurrency per (endpoint, key, model): grow on success, halve on 429/overload."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from pydantic import BaseModel, Field, model_validator


class ConcurrencyBounds(BaseModel):
    min_concurrency: int = Field(default=1, ge=1)
    max_concurrency: int = Field(default=64, ge=1, le=4096)
    initial_concurrency: int = Field(default=8, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> ConcurrencyBounds:
        if self.min_concurrency > self.max_concurrency:
            raise ValueError("min_concurrency must not exceed max_concurrency")
        return self


@dataclass
class Slot:
    """One admitted call. Its outcome tells the limiter whether to grow or cut."""

    started: float
    overloaded: bool = False
    succeeded: bool = False


@dataclass
class AdaptiveLimiter:
    """AIMD, as TCP does it: slow start doubles the limit each round trip until the first cut, then +1 per
    round trip; an overload signal halves it, at most once per round trip (calls that started before the
    last cut report on the old limit and are ignored)."""

    bounds: ConcurrencyBounds
    limit: float = 0.0
    in_flight: int = 0
    cuts: int = 0
    peak_limit: float = 0.0
    _slow_start: bool = True
    _last_cut: float = float("-inf")
    _waiters: deque[asyncio.Future[None]] = field(default_factory=deque)

    def __post_init__(self) -> None:
        b = self.bounds
        self.limit = float(min(max(b.initial_concurrency, b.min_concurrency), b.max_concurrency))
        self.peak_limit = self.limit

    @property
    def current(self) -> int:
        return int(self.limit)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Slot]:
        await self._acquire()
        admitted = Slot(started=time.monotonic())
        try:
            yield admitted
        finally:
            self._release(admitted)

    async def _acquire(self) -> None:
        if self.in_flight < self.current and not self._waiters:
            self.in_flight += 1
            return
        # Futures belong to the running loop, so one limiter can outlive several asyncio.run() calls.
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.in_flight -= 1  # admitted and cancelled in the same tick: hand the slot back
                self._wake()
            elif waiter in self._waiters:  # `_wake` may already have dropped it as cancelled
                self._waiters.remove(waiter)
            raise

    def _release(self, slot: Slot) -> None:
        self.in_flight -= 1
        if slot.overloaded:
            self._cut(slot.started)
        elif slot.succeeded:
            self._grow()
        self._wake()

    def _grow(self) -> None:
        step = 1.0 if self._slow_start else 1.0 / self.limit
        self.limit = min(float(self.bounds.max_concurrency), self.limit + step)
        self.peak_limit = max(self.peak_limit, self.limit)

    def _cut(self, started: float) -> None:
        if started < self._last_cut:
            return
        self._slow_start = False
        self._last_cut = time.monotonic()
        self.limit = max(float(self.bounds.min_concurrency), self.limit / 2)
        self.cuts += 1

    def _wake(self) -> None:
        while self._waiters and self.in_flight < self.current:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.in_flight += 1
                waiter.set_result(None)


_LIMITERS: dict[str, AdaptiveLimiter] = {}


def limiter_for(scope: str, bounds: ConcurrencyBounds) -> AdaptiveLimiter:
    """One limiter per (endpoint, key, model) in this process: the candidate arm and a judge on the same
    endpoint and key share the endpoint's budget, and a rerun starts from the limit learnt last time."""
    limiter = _LIMITERS.get(scope)
    if limiter is None or limiter.bounds != bounds:
        limiter = _LIMITERS[scope] = AdaptiveLimiter(bounds)
    return limiter
