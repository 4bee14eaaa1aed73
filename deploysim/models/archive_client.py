"""Recorded responses of a historical model version, looked up by prefix hash."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from deploysim.models.types import ChatRequest, ErrorClass, ModelCallError, ModelOutput


class ArchiveClient:
    """Replays what a version really answered. A prefix it never saw is a miss, never invented."""

    cacheable = False
    usd_per_million_input_tokens = 0.0
    usd_per_million_output_tokens = 0.0

    def __init__(self, path: Path) -> None:
        self.endpoint = f"archive:{path.name}"
        self.scope = self.endpoint
        self._responses: dict[str, dict] = {}
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                self._responses[record["prefix_hash"]] = record["response"]

    def __len__(self) -> int:
        return len(self._responses)

    async def generate(self, request: ChatRequest) -> ModelOutput:
        response = self._responses.get(request.prefix_hash)
        if response is None:
            raise ModelCallError(ErrorClass.ARCHIVE_MISS, "no recorded response for this prefix")
        return ModelOutput(
            content=response.get("content"),
            tool_calls=response.get("tool_calls"),
            finish_reason=response.get("finish_reason", "stop"),
        )

    async def aclose(self) -> None:
        return None
