from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import dagster as dg

from deploysim.local_model import serve_smollm2
from deploysim.models.archive_client import ArchiveClient
from deploysim.models.client import ModelClient
from deploysim.models.openai_client import OpenAICompatibleClient
from deploysim.registry import ArchiveBackend, Release, SamplingParams


class ModelGatewayResource(dg.ConfigurableResource):
    """Builds the model client for a release from its registry backend.

    API keys are read from the environment variable the registry names, at call time, and never logged.
    """

    concurrency: int = 4
    timeout_s: float = 120.0
    max_retries: int = 4
    local_server_log: str | None = None

    def client_for(self, release: Release) -> ModelClient:
        if isinstance(release.backend, ArchiveBackend):
            return ArchiveClient(release.backend.path)
        return OpenAICompatibleClient(release.backend, timeout_s=self.timeout_s, max_retries=self.max_retries)

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
