"""The one interface every model backend implements."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from deploysim.inference.types import ChatRequest, ModelOutput


@runtime_checkable
class ModelClient(Protocol):
    #: Where calls go, e.g. "openai:http://host/v1#model"; part of the cache key, never a secret.
    endpoint: str
    #: What shares one concurrency limit: endpoint, model and a digest of the key.
    scope: str
    #: Whether completed calls are worth caching (remote calls are; archive look-ups are not).
    cacheable: bool
    usd_per_million_input_tokens: float
    usd_per_million_output_tokens: float

    async def generate(self, request: ChatRequest) -> ModelOutput:
        """Complete one prefix, or raise ModelCallError once retries are exhausted."""
        ...

    async def aclose(self) -> None: ...
