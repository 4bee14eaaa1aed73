"""Conversations from CSV, for `deploysim score`: one conversation per row under a header row.

Layout: `conversation_id` and `messages` (a JSON array of OpenAI chat messages, as in the JSONL log) are
required columns; `model_version`, `started_at`, `surface`, `locale`, `consent_model_improvement` and
`tools` (JSON) are optional and mean what they mean in the JSONL log. An absent column or an empty cell
takes the value in `DEFAULTS`, if it has one. Other columns are ignored. UTF-8, with or without a BOM;
`.csv.gz` is read too. A record's line number is the line its row starts on (a quoted cell may span
lines).
"""

from __future__ import annotations

import csv
import io
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from deploysim.ingestion.production_log import (
    EXCERPT_SOURCE_CHARS,
    RawRecord,
    decode_json_columns,
    open_binary,
    parse_object,
    printable,
)

REQUIRED_COLUMNS = ("conversation_id", "messages")
#: Scoring needs none of these, but the conversation contract does; they are never written to the output
#: except model_version.
DEFAULTS: dict[str, Any] = {
    "model_version": "unknown",
    "surface": "unknown",
    "started_at": "2000-01-01T00:00:00Z",
    "consent_model_improvement": True,
}
#: A cell larger than this is an error of its row, not of the file (the csv module's default is 128 KB).
MAX_CELL_CHARS = 64 * 2**20


def _text_handle(path: Path) -> io.TextIOWrapper:
    # Undecodable bytes survive as surrogate escapes, so the row holding them is quarantined alone.
    return io.TextIOWrapper(open_binary(path), encoding="utf-8-sig", errors="surrogateescape", newline="")


def header_problem(path: Path) -> str | None:
    """Why the file does not follow the CSV layout (checked before any row is scored), or None."""
    try:
        with _text_handle(path) as handle:
            header = next(csv.reader(handle), [])
    except csv.Error as error:
        return f"{printable(path.name)}: unreadable CSV header ({error})"
    except (OSError, EOFError, zlib.error):
        return None  # a corrupt file: reading it records one unreadable-file row, like any other format
    columns = [h.strip() for h in header]
    if missing := [column for column in REQUIRED_COLUMNS if column not in columns]:
        return (
            f"{printable(path.name)}: CSV input needs the columns {', '.join(REQUIRED_COLUMNS)}; "
            f"missing {', '.join(missing)} (found: {printable(', '.join(columns)) or 'none'})"
        )
    return None


def _undecodable(values: list[str]) -> int | None:
    for value in values:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            return error.start
    return None


def read_csv(path: Path, source: str) -> Iterator[RawRecord]:
    csv.field_size_limit(max(csv.field_size_limit(), MAX_CELL_CHARS))
    with _text_handle(path) as handle:
        reader = csv.reader(handle)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            return
        while True:
            line_no = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield RawRecord(source, line_no, None, f"unreadable CSV row: {error}")
                continue
            if not any(v.strip() for v in values):
                continue
            text = ",".join(values)[:EXCERPT_SOURCE_CHARS]
            if (position := _undecodable(values)) is not None:
                reason = f"not valid UTF-8 (a cell's character {position})"
                yield RawRecord(source, line_no, None, reason, text.encode("utf-8", "replace").decode())
                continue
            if len(values) != len(header):
                reason = f"expected {len(header)} columns, found {len(values)}"
                yield RawRecord(source, line_no, None, reason, text)
                continue
            row: dict[str, Any] = {k: v for k, v in zip(header, values, strict=True) if v.strip()}
            for column, default in DEFAULTS.items():
                row.setdefault(column, default)
            yield parse_object(decode_json_columns(row), source, line_no, text)
