"""The archive backend: recorded responses of a historical version, keyed by the hash of the prefix as the
pipeline replays it (de-identified). `ArchiveClient` replays them; `archive_records` builds an archive."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from deploysim.core.hashing import prefix_hash
from deploysim.inference.types import ChatRequest, ErrorClass, ModelCallError, ModelOutput

#: The full de-identification tier applied to a batch of prefixes (message lists), as sampling applies it.
DeidentifyPrefixes = Callable[[list[list[dict[str, Any]]]], list[list[dict[str, Any]]]]


class ArchiveClient:
    """Replays what a version really answered. A prefix it never saw is a miss, never invented."""

    cacheable = False
    usd_per_million_input_tokens = 0.0
    usd_per_million_output_tokens = 0.0

    def __init__(self, path: Path) -> None:
        self.endpoint = f"archive:{path.name}"  # as ArchiveBackend.address
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


def archive_records(
    recorded: Iterable[dict[str, Any]], deidentify_prefixes: DeidentifyPrefixes
) -> list[dict[str, Any]]:
    """Key each recorded response by the hash of its prefix as the pipeline will replay it: de-identified.

    `recorded` rows are {"messages": [...prefix...], "tools": [...] | None, "response": {"content": ...}}.
    """
    rows = list(recorded)
    cleaned = deidentify_prefixes([row["messages"] for row in rows])
    return [
        {"prefix_hash": prefix_hash(messages, row.get("tools")), "response": row["response"]}
        for row, messages in zip(rows, cleaned, strict=True)
    ]


def write_jsonl_gz(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Byte-reproducible: sorted keys, no timestamp in the gzip header."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as handle:
        for row in rows:
            handle.write((json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n").encode())
    path.write_bytes(buffer.getvalue())
