"""A DuckDB file holding only sampled prefixes: the input of the regeneration stage, for engine tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from deploysim.core.hashing import prefix_hash
from deploysim.privacy.placeholders import DeidentifiedMessages, strict_deidentify_messages
from deploysim.store.tables import ensure_schema, replace_partition


def prompt(i: int) -> str:
    return f"question number {i:05d}"


def write_prefixes(
    con: duckdb.DuckDBPyConnection, partition: str, n: int, tools: list[dict[str, Any]] | None = None
) -> list[str]:
    ensure_schema(con)
    rows = []
    for i in range(n):
        messages = [{"role": "user", "content": prompt(i)}]
        rows.append(
            {
                "partition_key": partition,
                "conversation_id": f"c{i:05d}",
                "prefix_hash": prefix_hash(messages, tools),
                "surface": "api",
                "production_model": "prod",
                "messages": json.dumps(messages),
                "tools": json.dumps(tools) if tools else None,
                "production_response": json.dumps({"role": "assistant", "content": "ok"}),
            }
        )
    replace_partition(con, "prefixes", partition, pd.DataFrame(rows))
    return [row["conversation_id"] for row in rows]


def strict_redact(
    responses: list[dict[str, Any]], prefixes: list[list[dict[str, Any]]]
) -> list[DeidentifiedMessages]:
    """The fast strict tier, enough for engine tests (the full tier loads spaCy)."""
    return [
        strict_deidentify_messages([response], [m.get("content") or "" for m in prefix])
        for response, prefix in zip(responses, prefixes, strict=True)
    ]


def open_db(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path))
