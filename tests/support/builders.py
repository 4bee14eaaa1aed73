"""Rows and files that tests build: production-log conversations and JSONL files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def conversation(cid: str, version: str, user: str, reply: str, **extra: Any) -> dict[str, Any]:
    row = {
        "conversation_id": cid,
        "model_version": version,
        "started_at": "2024-02-01T10:00:00Z",
        "surface": "api",
        "locale": "en",
        "consent_model_improvement": True,
        "messages": [{"role": "user", "content": user}, {"role": "assistant", "content": reply}],
    }
    row.update(extra)
    return row


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    with path.open("w") as handle:
        for row in rows:
            handle.write((row if isinstance(row, str) else json.dumps(row)) + "\n")
    return path
