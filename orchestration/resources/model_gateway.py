from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import dagster as dg
from pydantic import Field

from deploysim.core.releases import Release
from deploysim.inference.backends import Backend, OpenAIBackend
from deploysim.inference.endpoint import Endpoint
from deploysim.inference.engine import EngineSettings
from deploysim.inference.limiter import ConcurrencyBounds
from deploysim.inference.local_server import serve_smollm2
from deploysim.inference.retry import RetryPolicy, resolve_attempt_timeout_s, resolve_max_attempts


class ModelGatewayResource(dg.ConfigurableResource):
    """Where every model endpoint is built: a release's backend or a judge's, with the engine's settings.

    Each release's base_url, model and sampling come from the registry; its API key is read from the
    environment variable the registry names, when the client is built, and is never logged or stored.
    The attempt timeout and count default to the environment (DEPLOYSIM_ATTEMPT_TIMEOUT_S,
    DEPLOYSIM_MAX_ATTEMPTS), which the command line sets from `--attempt-timeout` and `--attempts`.
    """

    min_concurrency: int = Field(default=1, ge=1)
    max_concurrency: int = Field(default=64, ge=1, description="Upper bound of the adaptive in-flight limit.")
    initial_concurrency: int = Field(default=8, ge=1)
    max_attempts: int | None = Field(
        default=None, ge=1, description="Attempts per request; unset: $DEPLOYSIM_MAX_ATTEMPTS, else 6."
    )
    attempt_timeout_s: float | None = Field(
        default=None,
        gt=0,
        description="Seconds one attempt may take; unset: $DEPLOYSIM_ATTEMPT_TIMEOUT_S, else 120.",
    )
    max_retry_time_s: float = Field(default=600.0, gt=0, description="Retry budget of one request.")
    backoff_initial_s: float = Field(default=1.0, ge=0)
    backoff_max_s: float = Field(default=60.0, ge=0)
    batch_size: int = Field(default=500, ge=1, description="Results per DuckDB write.")
    progress_interval_s: float = Field(default=10.0, gt=0)
    local_server_log: str | None = None

    def engine_settings(self, backend: Backend) -> EngineSettings:
        ceiling = self.max_concurrency
        if backend.max_concurrency:
            ceiling = min(ceiling, backend.max_concurrency)
        floor = min(self.min_concurrency, ceiling)
        return EngineSettings(
            concurrency=ConcurrencyBounds(
                min_concurrency=floor,
                max_concurrency=ceiling,
                initial_concurrency=min(max(self.initial_concurrency, floor), ceiling),
            ),
            # Read when an endpoint is built, so a command line's flags reach runs it starts in process.
            retry=RetryPolicy(
                max_attempts=resolve_max_attempts(self.max_attempts),
                attempt_timeout_s=resolve_attempt_timeout_s(self.attempt_timeout_s),
                max_retry_time_s=self.max_retry_time_s,
                backoff_initial_s=self.backoff_initial_s,
                backoff_max_s=self.backoff_max_s,
            ),
            batch_size=self.batch_size,
            progress_interval_s=self.progress_interval_s,
        )

    def endpoint(self, name: str, backend: Backend) -> Endpoint:
        return Endpoint(
            name=name, backend=backend, settings=self.engine_settings(backend), sampling=backend.sampling
        )

    def endpoint_for(self, release: Release) -> Endpoint:
        return self.endpoint(release.version, release.backend)

    @contextmanager
    def serving(self, releases: list[Release]) -> Iterator[None]:
        """Start the bundled local model for releases that use it, unless it already answers."""
        with ExitStack() as stack:
            for release in releases:
                backend = release.backend
                if isinstance(backend, OpenAIBackend) and backend.local_server:
                    log = Path(self.local_server_log) if self.local_server_log else None
                    stack.enter_context(serve_smollm2(backend.base_url, log_path=log))
            yield
