"""Quarantined rows: where a row came from, why it was set aside, and a de-identified excerpt of it.

Everything here is written to the `quarantine` table, so every text is made valid UTF-8 first: a row that
was quarantined for holding a lone surrogate must not fail the write of its own quarantine record.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import ValidationError

from deploysim.ingestion.production_log import RawRecord, printable

EXCERPT_CHARS = 240


@dataclass(frozen=True)
class QuarantinedRow:
    source: str
    line_no: int
    conversation_id: str | None
    reason: str
    #: A de-identified, truncated view of the row, so an engineer can see what went wrong.
    excerpt: str


def describe_validation_error(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:3]:
        location = ".".join(str(part) for part in item["loc"]) or "row"
        parts.append(f"{location}: {item['msg']}")
    more = len(error.errors()) - 3
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def _raw_excerpt(record: RawRecord) -> str:
    if record.raw_text is not None:
        return record.raw_text
    if record.payload is None:
        return ""
    try:
        return json.dumps(record.payload, ensure_ascii=False, default=str)
    except (ValueError, RecursionError):
        return "(the row cannot be shown)"


def quarantine_row(record: RawRecord, reason: str, redact: Callable[[str], str]) -> QuarantinedRow:
    conversation_id = record.payload.get("conversation_id") if record.payload else None
    raw = printable(_raw_excerpt(record)[: EXCERPT_CHARS * 2])
    return QuarantinedRow(
        source=printable(record.source),
        line_no=record.line_no,
        conversation_id=printable(str(conversation_id))[:256] if conversation_id is not None else None,
        reason=printable(reason),
        excerpt=printable(redact(raw))[:EXCERPT_CHARS],
    )
