from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import dagster as dg
from pydantic import Field

from deploysim.local_model import serve_smollm2
from deploysim.models.archive_client import ArchiveClient
from deploysim.models.client import ModelClient
from deploysim.models.limiter import ConcurrencyBounds
from deploysim.models.openai_client import OpenAICompatibleClient
from deploysim.models.retry import RetryPolicy
from deploysim.models.runner import EngineSettings
from deploysim.registry import ArchiveBackend, OpenAIBackend, Release, SamplingParams


class ModelGatewayResource(dg.ConfigurableResource):
    """Model clients for releases, from their registry backends, and the settings of the call engine.

    Each release's base_url, model and sampling come from the registry; its API key is read from the
    environment variable the registry names, when the client is built, and is never logged or stored.
    """

    min_concurrency: int = Field(default=1, ge=1)
    max_concurrency: int = Field(default=64, ge=1, description="Upper bound of the adaptive in-flight limit.")
    initial_concurrency: int = Field(default=8, ge=1)
    max_attempts: int = Field(default=6, ge=1)
    attempt_timeout_s: float = Field(default=120.0, gt=0)
    max_retry_time_s: float = Field(default=600.0, gt=0, description="Retry budget of one request.")
    backoff_initial_s: float = Field(default=1.0, ge=0)
    backoff_max_s: float = Field(default=60.0, ge=0)
    batch_size: int = Field(default=500, ge=1, description="Results per DuckDB write.")
    progress_interval_s: float = Field(default=10.0, gt=0)
    local_server_log: str | None = None

    def engine_settings(self, release: Release) -> EngineSettings:
        return self.engine_settings_for(release.backend)

    def engine_settings_for(self, backend: ArchiveBackend | OpenAIBackend) -> EngineSettings:
        ceiling = self.max_concurrency
        if not isinstance(backend, ArchiveBackend) and backend.max_concurrency:
            ceiling = min(ceiling, backend.max_concurrency)
        floor = min(self.min_concurrency, ceiling)
        return EngineSettings(
            concurrency=ConcurrencyBounds(
                min_concurrency=floor,
                max_concurrency=ceiling,
                initial_concurrency=min(max(self.initial_concurrency, floor), ceiling),
            ),
            retry=RetryPolicy(
                max_attempts=self.max_attempts,
                attempt_timeout_s=self.attempt_timeout_s,
                max_retry_time_s=self.max_retry_time_s,
                backoff_initial_s=self.backoff_initial_s,
                backoff_max_s=self.backoff_max_s,
            ),
            batch_size=self.batch_size,
            progress_interval_s=self.progress_interval_s,
        )

    def client_for(self, release: Release) -> ModelClient:
        return self.client_for_backend(release.backend)

    def client_for_backend(self, backend: ArchiveBackend | OpenAIBackend) -> ModelClient:
        if isinstance(backend, ArchiveBackend):
            return ArchiveClient(backend.path)
        return OpenAICompatibleClient(
            backend,
            timeout_s=self.attempt_timeout_s,
            max_connections=self.engine_settings_for(backend).concurrency.max_concurrency,
        )

    def sampling_for(self, release: Release) -> SamplingParams:
        return SamplingParams() if isinstance(release.backend, ArchiveBackend) else release.backend.sampling

    @contextmanager
    def serving(self, releases: list[Release]) -> Iterator[None]:
        """Start the bundled local model for releases that use it, unless it already answers."""
        with ExitStack() as stack:
            for release in releases:
                backend = release.backend
                if not isinstance(backend, ArchiveBackend) and backend.local_server:
                    log = Path(self.local_server_log) if self.local_server_log else None
                    stack.enter_context(serve_smollm2(backend.base_url, log_path=log))
            yield
