"""Engine settings and fake clients for tests: a fixed concurrency, the `fake` backend's client."""

from __future__ import annotations

from typing import Any

from deploysim.inference.backends import FakeBackend
from deploysim.inference.engine import EngineSettings
from deploysim.inference.fake_client import FakeClient
from deploysim.inference.limiter import ConcurrencyBounds


def fixed_settings(concurrency: int, **overrides: Any) -> EngineSettings:
    """An engine that keeps exactly `concurrency` calls in flight (no adaptive growth or cuts)."""
    bounds = ConcurrencyBounds(
        min_concurrency=concurrency, max_concurrency=concurrency, initial_concurrency=concurrency
    )
    return EngineSettings(concurrency=bounds, **overrides)


def fake_client(**backend: Any) -> FakeClient:
    client = FakeBackend(**backend).client(timeout_s=10.0, max_connections=8)
    assert isinstance(client, FakeClient)
    return client
