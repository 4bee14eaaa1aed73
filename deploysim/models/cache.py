"""A DuckDB-backed response cache: a killed run, rerun, repeats no completed call."""

from __future__ import annotations

import duckdb

from deploysim.hashing import content_hash
from deploysim.models.types import ChatRequest, ModelOutput

CACHE_DDL = """
CREATE TABLE IF NOT EXISTS response_cache (
    request_hash VARCHAR PRIMARY KEY,
    endpoint VARCHAR NOT NULL,
    output JSON NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


def request_key(endpoint: str, request: ChatRequest) -> str:
    """Everything that determines the answer: endpoint and model, sampling, the full prefix and tools."""
    return content_hash(
        {
            "endpoint": endpoint,
            "sampling": request.sampling.model_dump(),
            "messages": request.messages,
            "tools": request.tools or [],
        }
    )


class ResponseCache:
    """Each completed call is committed as it lands, so at most the calls in flight are lost."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self._con = connection
        self._con.execute(CACHE_DDL)

    def get_many(self, keys: list[str]) -> dict[str, ModelOutput]:
        if not keys:
            return {}
        rows = self._con.execute(
            "SELECT request_hash, output FROM response_cache WHERE request_hash IN (SELECT unnest(?))",
            [keys],
        ).fetchall()
        return {key: ModelOutput.model_validate_json(output) for key, output in rows}

    def put(self, key: str, endpoint: str, output: ModelOutput) -> None:
        self._con.execute(
            "INSERT OR REPLACE INTO response_cache (request_hash, endpoint, output) VALUES (?, ?, ?)",
            [key, endpoint, output.model_dump_json()],
        )
