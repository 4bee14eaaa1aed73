"""A DuckDB-backed response cache: a killed run, rerun, repeats no completed call."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from deploysim.core.hashing import content_hash
from deploysim.inference.journal import ResponseJournal, orphaned_records
from deploysim.inference.types import ChatRequest, ModelOutput
from deploysim.store.tables import ensure_table


def request_key(endpoint: str, request: ChatRequest) -> str:
    """Everything that determines the answer: endpoint and model, sampling, the full prefix and tools."""
    key = {
        "endpoint": endpoint,
        "sampling": request.sampling.model_dump(),
        "messages": request.messages,
        "tools": request.tools or [],
    }
    if request.response_format:  # only when set, so regeneration keys stay what they were
        key["response_format"] = request.response_format
    return content_hash(key)


class ResponseCache:
    """Completed calls are journalled at once and written to DuckDB in batches.

    DuckDB has one writer and a commit per call would cap throughput, so `put` only buffers; `flush`
    commits the buffer in one statement. With a journal directory, a process killed between flushes
    loses nothing: the next cache opened on the same directory commits the dead run's journal first.
    """

    def __init__(self, connection: duckdb.DuckDBPyConnection, journal_dir: Path | None = None) -> None:
        self._con = connection
        ensure_table(connection, "response_cache")
        self._buffer: dict[str, tuple[str, str]] = {}
        self.recovered = 0
        self._journal: ResponseJournal | None = None
        if journal_dir is not None:
            for records in orphaned_records(journal_dir):
                for record in records:
                    self._buffer[record["key"]] = (record["endpoint"], record["output"])
                self.recovered += len(records)
                self.flush()
        self._journal = ResponseJournal(journal_dir) if journal_dir is not None else None

    def get_many(self, keys: list[str]) -> dict[str, ModelOutput]:
        if not keys:
            return {}
        rows = self._con.execute(
            "SELECT request_hash, output FROM response_cache WHERE request_hash IN (SELECT unnest(?))",
            [keys],
        ).fetchall()
        found = {key: ModelOutput.model_validate_json(output) for key, output in rows}
        for key in keys:
            if key in self._buffer and key not in found:
                found[key] = ModelOutput.model_validate_json(self._buffer[key][1])
        return found

    def put(self, key: str, endpoint: str, output: ModelOutput) -> None:
        payload = output.model_dump_json()
        if self._journal is not None:
            self._journal.append({"key": key, "endpoint": endpoint, "output": payload})
        self._buffer[key] = (endpoint, payload)

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def flush(self) -> int:
        if not self._buffer:
            return 0
        frame = pd.DataFrame(
            [(key, endpoint, output) for key, (endpoint, output) in self._buffer.items()],
            columns=["request_hash", "endpoint", "output"],
        )
        self._con.register("_cache_batch", frame)
        try:
            self._con.execute(
                "INSERT OR REPLACE INTO response_cache (request_hash, endpoint, output) "
                "SELECT request_hash, endpoint, output FROM _cache_batch"
            )
        finally:
            self._con.unregister("_cache_batch")
        if self._journal is not None:
            self._journal.truncate()
        written = len(self._buffer)
        self._buffer.clear()
        return written

    def close(self) -> None:
        """Commit what is buffered and remove this run's journal."""
        self.flush()
        if self._journal is not None:
            self._journal.close()
            self._journal = None
