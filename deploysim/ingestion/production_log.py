"""Reading production logs (JSONL, gzipped JSONL, Parquet) into raw records, one per served turn."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

LOG_SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet")
# Nested columns that Parquet writers often store as JSON strings.
_JSON_COLUMNS = ("messages", "tools")


@dataclass(frozen=True)
class RawRecord:
    source: str
    line_no: int
    payload: dict[str, Any] | None
    parse_error: str | None = None
    raw_text: str | None = None

    @property
    def claimed_version(self) -> str | None:
        version = self.payload.get("model_version") if self.payload else None
        return version if isinstance(version, str) and version else None


def log_files(path: Path) -> list[Path]:
    """A single log file, or every log file in a folder, in a stable order."""
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(LOG_SUFFIXES))
    raise FileNotFoundError(f"production log not found: {path}")


def _read_jsonl(path: Path) -> Iterator[RawRecord]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            # Decoded line by line: one row of bad bytes is quarantined, never the whole file.
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                text = raw.decode("utf-8", errors="replace")
                yield RawRecord(path.name, line_no, None, f"not valid UTF-8 (byte {error.start})", text)
                continue
            if not line.strip():
                continue
            try:
                payload = json.loads(line)
            except json.JSONDecodeError as error:
                yield RawRecord(path.name, line_no, None, f"invalid JSON: {error.msg}", line)
                continue
            if not isinstance(payload, dict):
                yield RawRecord(path.name, line_no, None, "a log row must be a JSON object", line)
                continue
            yield RawRecord(path.name, line_no, payload)


def _read_parquet(path: Path) -> Iterator[RawRecord]:
    line_no = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=2048):
        for row in batch.to_pylist():
            line_no += 1
            for column in _JSON_COLUMNS:
                if isinstance(row.get(column), str):
                    try:
                        row[column] = json.loads(row[column])
                    except json.JSONDecodeError as error:
                        row[column] = None
                        row.setdefault("_json_errors", []).append(f"{column}: invalid JSON ({error.msg})")
            yield RawRecord(path.name, line_no, row)


def read_log(path: Path) -> Iterator[RawRecord]:
    """Every row of every file; a file that cannot be read (truncated gzip, corrupt Parquet) becomes one
    recorded, unroutable row, and the other files are still read."""
    for file in log_files(path):
        reader = _read_parquet(file) if file.suffix == ".parquet" else _read_jsonl(file)
        rows = 0
        try:
            for record in reader:
                rows += 1
                yield record
        except (OSError, EOFError, pa.ArrowException) as error:
            reason = f"unreadable file after {rows} rows: {type(error).__name__}: {error}"[:300]
            yield RawRecord(file.name, rows + 1, None, reason)
