"""Reading production logs into raw records, one per served conversation.

Formats are chosen by file name, case-insensitively:

- JSON Lines: `.jsonl`, `.ndjson`;
- `.json`: one JSON array of objects when the file's first character is `[` (the whole file is read at
  once, and a record's "line" is its 1-based position in the array), JSON Lines otherwise;
- each of those gzipped (`.jsonl.gz`, `.ndjson.gz`, `.json.gz`);
- `.parquet` (`messages` and `tools` as nested columns or JSON strings);
- `.csv` and `.csv.gz` only where a caller asks for them (`deploysim score`; see `csv_log`).

In a folder, every other file is listed as skipped with its reason, never silently ignored. Nothing a
single row holds (bad bytes, broken or deeply nested JSON) or a single corrupt file stops the reading.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

LOG_SUFFIXES = (".jsonl", ".ndjson", ".json", ".parquet")
#: Deeper rows are quarantined: real logs nest a few levels (tool schemas a few dozen), and anything
#: deeper than the interpreter's recursion limit cannot be parsed, dumped or compared safely.
MAX_NESTING = 64
#: How much of a broken row is kept to show a (de-identified) excerpt of it.
EXCERPT_SOURCE_CHARS = 2_000
# Nested columns that Parquet and CSV writers store as JSON strings.
JSON_COLUMNS = ("messages", "tools")
_FILE_ERRORS = (OSError, EOFError, zlib.error, pa.ArrowException, UnicodeError, RecursionError)


@dataclass(frozen=True)
class RawRecord:
    source: str
    line_no: int
    #: The row as read. With a `parse_error` it is None, or, for a row nested too deeply, only its
    #: top-level scalar fields (enough to route it to its window).
    payload: dict[str, Any] | None
    parse_error: str | None = None
    raw_text: str | None = None

    @property
    def claimed_version(self) -> str | None:
        version = self.payload.get("model_version") if self.payload else None
        return version if isinstance(version, str) and version else None


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str


@dataclass
class LogScan:
    """What a log path holds: the files that will be read, in order, and every other file with why not."""

    root: Path
    read: list[Path] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)

    def source(self, path: Path) -> str:
        """A file's name as records and reports give it: relative to a scanned folder."""
        if path == self.root or not self.root.is_dir():
            return printable(path.name)
        return printable(path.relative_to(self.root).as_posix())


def log_format(path: Path, *, csv: bool = False) -> str | None:
    """'jsonl', 'json', 'parquet' or 'csv' (only when `csv`), from the name; None if not a log file."""
    name = path.name.lower()
    base = name.removesuffix(".gz")
    if base.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if base.endswith(".json"):
        return "json"
    if base.endswith(".parquet") and base == name:
        return "parquet"
    if csv and base.endswith(".csv"):
        return "csv"
    return None


def _skip_reason(path: Path) -> str:
    if path.name.startswith("."):
        return "hidden file"
    suffixes = path.suffixes[-2:] if path.name.lower().endswith(".gz") else path.suffixes[-1:]
    return f"not a log format: {''.join(suffixes).lower() or 'no file extension'}"


def scan_log(path: Path, *, csv: bool = False) -> LogScan:
    """A single file, or every file in a folder (hidden folders are not entered), in a stable order."""
    scan = LogScan(root=path)
    if path.is_file():
        if log_format(path, csv=csv):
            scan.read.append(path)
        else:
            scan.skipped.append(SkippedFile(printable(path.name), _skip_reason(path)))
        return scan
    if not path.is_dir():
        raise FileNotFoundError(f"production log not found: {path}")
    for folder, subfolders, files in os.walk(path):
        here = Path(folder)
        for name in sorted(subfolders):
            if name.startswith("."):
                scan.skipped.append(SkippedFile(scan.source(here / name) + "/", "hidden folder"))
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in sorted(files):
            file = here / name
            if log_format(file, csv=csv) and not name.startswith(".") and file.is_file():
                scan.read.append(file)
            else:
                reason = _skip_reason(file) if file.is_file() else "not a regular file"
                scan.skipped.append(SkippedFile(scan.source(file), reason))
    scan.read.sort()
    scan.skipped.sort(key=lambda skipped: skipped.path)
    return scan


def log_files(path: Path) -> list[Path]:
    """The log files a path holds, in a stable order (`scan_log` also says which files were skipped)."""
    return scan_log(path).read


def printable(text: str) -> str:
    """`text` as valid UTF-8: undecodable bytes of file names (`\\xff`) and lone surrogates (`\\ud800`)
    become escapes."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def nesting_depth_exceeds(value: Any, limit: int = MAX_NESTING) -> bool:
    """Whether lists and objects nest deeper than `limit`; iterative, so any depth is safe to check."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def _shallow(payload: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in payload.items() if not isinstance(value, dict | list)}


def parse_object(value: Any, source: str, line_no: int, text: str | None) -> RawRecord:
    """A parsed row: a JSON object no deeper than `MAX_NESTING`, or a record of why it is not one."""
    excerpt = text[:EXCERPT_SOURCE_CHARS] if text is not None else None
    if not isinstance(value, dict):
        return RawRecord(source, line_no, None, "a log row must be a JSON object", excerpt)
    if nesting_depth_exceeds(value):
        reason = f"nested too deeply (more than {MAX_NESTING} levels)"
        return RawRecord(source, line_no, _shallow(value), reason, excerpt)
    return RawRecord(source, line_no, value)


def parse_json_text(text: str) -> tuple[Any, str | None]:
    """json.loads that never raises: (value, None) or (None, reason)."""
    try:
        return json.loads(text), None
    except RecursionError:
        return None, f"nested too deeply (more than {MAX_NESTING} levels)"
    except json.JSONDecodeError as error:
        return None, f"invalid JSON: {error.msg}"
    except ValueError as error:  # e.g. an integer longer than Python converts
        return None, f"invalid JSON: {error}"[:200]


def _parse_line(raw: bytes, source: str, line_no: int) -> RawRecord | None:
    # Decoded line by line: one row of bad bytes is quarantined, never the whole file.
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        text = raw[:EXCERPT_SOURCE_CHARS].decode("utf-8", errors="replace")
        return RawRecord(source, line_no, None, f"not valid UTF-8 (byte {error.start})", text)
    if line_no == 1:
        line = line.removeprefix("\ufeff")
    if not line.strip():
        return None
    value, error = parse_json_text(line)
    if error is not None:
        return RawRecord(source, line_no, None, error, line[:EXCERPT_SOURCE_CHARS])
    return parse_object(value, source, line_no, line)


def open_binary(path: Path) -> Any:
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def _read_jsonl(path: Path, source: str) -> Iterator[RawRecord]:
    with open_binary(path) as handle:
        for line_no, raw in enumerate(handle, start=1):
            if (record := _parse_line(raw, source, line_no)) is not None:
                yield record


def _read_json(path: Path, source: str) -> Iterator[RawRecord]:
    """One JSON array of objects, or JSON Lines when the file does not start with `[`."""
    with open_binary(path) as handle:
        head = handle.read(4096).removeprefix(b"\xef\xbb\xbf")
        if not head.lstrip().startswith(b"["):
            handle.seek(0)
            for line_no, raw in enumerate(handle, start=1):
                if (record := _parse_line(raw, source, line_no)) is not None:
                    yield record
            return
        data = head + handle.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        yield RawRecord(source, 1, None, f"not valid UTF-8 (byte {error.start})")
        return
    value, error = parse_json_text(text)
    if error is not None or not isinstance(value, list):
        reason = error or "a .json log must be one array of objects"
        yield RawRecord(source, 1, None, f"{reason} (the whole file)", text[:EXCERPT_SOURCE_CHARS])
        return
    for index, item in enumerate(value, start=1):
        yield parse_object(item, source, index, None)


def decode_json_columns(row: dict[str, Any]) -> dict[str, Any]:
    """Nested columns stored as JSON strings, decoded; a broken one is recorded in `_json_errors`."""
    for column in JSON_COLUMNS:
        if isinstance(row.get(column), str):
            value, error = parse_json_text(row[column])
            if error is None and nesting_depth_exceeds([value], MAX_NESTING):
                value, error = None, f"nested too deeply (more than {MAX_NESTING} levels)"
            row[column] = value
            if error is not None:
                row.setdefault("_json_errors", []).append(f"{column}: {error}")
    return row


def _read_parquet(path: Path, source: str) -> Iterator[RawRecord]:
    line_no = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=2048):
        for row in batch.to_pylist():
            line_no += 1
            yield parse_object(decode_json_columns(row), source, line_no, None)


def read_scan(scan: LogScan) -> Iterator[RawRecord]:
    """Every row of every file read; a file that cannot be read (truncated or corrupt gzip, corrupt
    Parquet) becomes one recorded, unroutable row after the rows read before the damage."""
    from deploysim.ingestion.csv_log import read_csv

    readers = {"jsonl": _read_jsonl, "json": _read_json, "parquet": _read_parquet, "csv": read_csv}
    for file in scan.read:
        source = scan.source(file)
        reader = readers[log_format(file, csv=True) or "jsonl"](file, source)
        rows = 0
        try:
            for record in reader:
                rows += 1
                yield record
        except _FILE_ERRORS as error:
            reason = f"unreadable file after {rows} rows: {type(error).__name__}: {error}"[:300]
            yield RawRecord(source, rows + 1, None, printable(reason))


def read_log(path: Path, *, csv: bool = False) -> Iterator[RawRecord]:
    """Every row of every log file at `path` (see `scan_log` for the files that are skipped)."""
    return read_scan(scan_log(path, csv=csv))
