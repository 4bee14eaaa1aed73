"""Build an archive of recorded responses: the backend that replays a version with no live endpoint."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deploysim.hashing import prefix_hash

if TYPE_CHECKING:
    from deploysim.deid import Deidentifier


def archive_records(recorded: Iterable[dict[str, Any]], deidentifier: Deidentifier) -> list[dict[str, Any]]:
    """Key each recorded response by the hash of its prefix as the pipeline will replay it: de-identified.

    `recorded` rows are {"messages": [...prefix...], "tools": [...] | None, "response": {"content": ...}}.
    """
    rows = list(recorded)
    cleaned = deidentifier.deidentify_many([row["messages"] for row in rows])
    return [
        {"prefix_hash": prefix_hash(result.messages, row.get("tools")), "response": row["response"]}
        for row, result in zip(rows, cleaned, strict=True)
    ]


def write_jsonl_gz(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Byte-reproducible: sorted keys, no timestamp in the gzip header."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as handle:
        for row in rows:
            handle.write((json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n").encode())
    path.write_bytes(buffer.getvalue())
