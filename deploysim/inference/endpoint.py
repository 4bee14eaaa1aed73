"""One concept for "a model the pipeline calls": a release's backend, a judge, or a probed model.

An endpoint bundles what a call needs besides the request itself: the backend that builds the client,
the engine's settings (concurrency, retries, batching) and the sampling parameters. Orchestration builds
endpoints in one place (the model gateway resource); the domain only runs them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from deploysim.inference.backends import Backend, SamplingParams
from deploysim.inference.client import ModelClient
from deploysim.inference.engine import EngineSettings


@dataclass(frozen=True)
class Endpoint:
    #: What the endpoint answers as: a model version, or a judge's name.
    name: str
    backend: Backend
    settings: EngineSettings
    sampling: SamplingParams

    def client(self) -> ModelClient:
        """A new client; the engine closes it when its run ends."""
        return self.backend.client(
            timeout_s=self.settings.retry.attempt_timeout_s,
            max_connections=self.settings.concurrency.max_concurrency,
        )

    def with_sampling(self, sampling: SamplingParams) -> Endpoint:
        return replace(self, sampling=sampling)
