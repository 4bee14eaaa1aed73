"""How a model version is called: its backend in the release registry, and the client each backend builds.

Three kinds: an archive of recorded responses, any OpenAI-compatible endpoint, and a deterministic fake
(for tests and dry runs; never a real model). Each backend builds its own client, so adding a kind means
adding a class here and nothing else.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field

from deploysim.inference.secrets import strip_credentials

if TYPE_CHECKING:
    from deploysim.inference.client import ModelClient


class SamplingParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    max_tokens: int = Field(default=256, ge=1, le=32_768)
    seed: int | None = 0


class ArchiveBackend(BaseModel):
    """Recorded responses of a historical version, looked up by a hash of the prefix."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["archive"] = "archive"
    path: Path

    @property
    def sampling(self) -> SamplingParams:
        return SamplingParams()

    @property
    def address(self) -> str:
        """How the endpoint is named in metadata, tables and cache keys."""
        return f"archive:{self.path.name}"

    @property
    def max_concurrency(self) -> int | None:
        return None

    def client(self, *, timeout_s: float, max_connections: int) -> ModelClient:
        from deploysim.inference.archive import ArchiveClient

        return ArchiveClient(self.path)


class OpenAIBackend(BaseModel):
    """Any OpenAI-compatible chat-completions endpoint."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["openai"] = "openai"
    base_url: str
    model: str
    api_key_env: str | None = Field(
        default=None, description="Name of the environment variable holding the key; None for open endpoints."
    )
    sampling: SamplingParams = SamplingParams()
    usd_per_million_input_tokens: float = Field(default=0.0, ge=0.0)
    usd_per_million_output_tokens: float = Field(default=0.0, ge=0.0)
    max_concurrency: int | None = Field(
        default=None,
        ge=1,
        description="A ceiling for this endpoint's in-flight requests, e.g. a local server that serves one "
        "request at a time; the engine's adaptive limit stays below it.",
    )
    structured_output: Literal["json_schema", "json_object", "none"] = Field(
        default="json_schema",
        description="How the endpoint takes a JSON schema for structured answers (judges, the probe): "
        "OpenAI's json_schema; llama.cpp's json_object with a schema (grammar-constrained); or none, "
        "when answers are parsed from free text.",
    )
    local_server: Literal["smollm2-135m-instruct"] | None = Field(
        default=None, description="A bundled local model that deploysim starts itself when it is not running."
    )

    @property
    def address(self) -> str:
        """Base URL and model, never the key nor credentials inside the URL."""
        return f"openai:{strip_credentials(self.base_url).rstrip('/')}#{self.model}"

    @property
    def credentials(self) -> tuple[str, ...]:
        """The user name and password inside `base_url`, if any: secrets like the key."""
        try:
            parts = urlsplit(self.base_url)
            found = (parts.username, parts.password)
        except ValueError:
            return ()
        return tuple({v for value in found if value for v in (value, unquote(value))})

    def client(self, *, timeout_s: float, max_connections: int) -> ModelClient:
        from deploysim.inference.openai_client import OpenAICompatibleClient  # the SDK loads in ~0.5 s

        return OpenAICompatibleClient(self, timeout_s=timeout_s, max_connections=max_connections)


class FakeBackend(BaseModel):
    """A deterministic stand-in for a model: refuses prompts that mention `refuse_on`, echoes the rest.

    For tests and dry runs of a registry; its answers carry no information about any real model.
    """

    model_config = ConfigDict(extra="forbid")
    kind: Literal["fake"] = "fake"
    name: str = "fake"
    refuse_on: str = "bomb"
    #: Prompts containing this text fail with a transient error, for fault tests.
    fail_on: str | None = None
    delay_s: float = Field(default=0.0, ge=0.0)
    sampling: SamplingParams = SamplingParams()
    max_concurrency: int | None = Field(default=None, ge=1)
    structured_output: Literal["json_schema", "json_object", "none"] = "json_schema"

    @property
    def address(self) -> str:
        return f"fake:{self.name}"

    def client(self, *, timeout_s: float, max_connections: int) -> ModelClient:
        from deploysim.inference.fake_client import FakeClient

        return FakeClient(self)


Backend = Annotated[ArchiveBackend | OpenAIBackend | FakeBackend, Field(discriminator="kind")]
