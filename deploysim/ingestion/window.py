"""Stage 1, ingestion: one traffic window of the production log, validated row by row and de-identified.

Each row is accepted, quarantined with its reason, or excluded (no consent); rows that name no known
version are unroutable. Only de-identified rows are ever written: the strict tier runs here on every
accepted conversation, and `redact` (the full tier) on every quarantined excerpt.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

import duckdb
import pandas as pd
from pydantic import BaseModel, ValidationError

from deploysim.core.conversation import Conversation, Message, messages_payload, role_sequence
from deploysim.core.releases import TrafficWindow
from deploysim.ingestion.production_log import RawRecord
from deploysim.privacy.placeholders import strict_deidentify_messages
from deploysim.store.tables import replace_partition

EXCERPT_CHARS = 240


@dataclass(frozen=True)
class QuarantinedRow:
    source: str
    line_no: int
    conversation_id: str | None
    reason: str
    #: A de-identified, truncated view of the row, so an engineer can see what went wrong.
    excerpt: str


@dataclass
class WindowIngest:
    """rows_in_window = accepted + quarantined + excluded_no_consent, always; rows_read = rows_in_window +
    rows_other_windows + rows_outside_window + unroutable."""

    version: str
    accepted: list[Conversation] = field(default_factory=list)
    quarantined: list[QuarantinedRow] = field(default_factory=list)
    excluded_no_consent: int = 0
    rows_read: int = 0
    rows_other_windows: int = 0
    #: Served by this window's version, but before its release or after its successor's.
    rows_outside_window: int = 0
    unroutable: list[QuarantinedRow] = field(default_factory=list)

    @property
    def rows_in_window(self) -> int:
        return len(self.accepted) + len(self.quarantined) + self.excluded_no_consent


def describe_validation_error(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:3]:
        location = ".".join(str(part) for part in item["loc"]) or "row"
        parts.append(f"{location}: {item['msg']}")
    more = len(error.errors()) - 3
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def ingest_window(
    records: Iterable[RawRecord],
    version: str,
    known_versions: set[str],
    redact: Callable[[str], str],
    window: TrafficWindow | None = None,
) -> WindowIngest:
    """Keep the rows that `version` served within `window` (all of them without one). Rows that name no
    known version are returned as unroutable; valid rows outside the window are counted, not kept."""
    result = WindowIngest(version=version)
    seen: dict[str, str] = {}

    def quarantine(record: RawRecord, reason: str) -> QuarantinedRow:
        raw = record.raw_text if record.payload is None else str(record.payload)
        conversation_id = record.payload.get("conversation_id") if record.payload else None
        return QuarantinedRow(
            source=record.source,
            line_no=record.line_no,
            conversation_id=str(conversation_id) if conversation_id is not None else None,
            reason=reason,
            excerpt=redact((raw or "")[: EXCERPT_CHARS * 2])[:EXCERPT_CHARS],
        )

    for record in records:
        result.rows_read += 1
        claimed = record.claimed_version
        if record.parse_error or record.payload is None:
            result.unroutable.append(quarantine(record, record.parse_error or "empty row"))
            continue
        if claimed is None:
            result.unroutable.append(quarantine(record, "model_version is missing or not a string"))
            continue
        if claimed not in known_versions:
            result.unroutable.append(
                quarantine(record, f"model_version {claimed!r} is not in the release registry")
            )
            continue
        if claimed != version:
            result.rows_other_windows += 1
            continue
        if json_errors := record.payload.get("_json_errors"):
            result.quarantined.append(quarantine(record, "; ".join(json_errors)))
            continue
        try:
            conversation = Conversation.model_validate(record.payload)
        except ValidationError as error:
            result.quarantined.append(quarantine(record, describe_validation_error(error)))
            continue
        if conversation.conversation_id in seen:
            result.quarantined.append(
                quarantine(
                    record, f"duplicate conversation_id, first seen at {seen[conversation.conversation_id]}"
                )
            )
            continue
        if window is not None and not window.contains(conversation.started_at):
            result.rows_outside_window += 1
            continue
        seen[conversation.conversation_id] = f"{record.source}:{record.line_no}"
        if not conversation.consent_model_improvement:
            result.excluded_no_consent += 1
            continue
        result.accepted.append(conversation)
    return result


class WindowSummary(BaseModel):
    served_by: str
    rows_read: int
    rows_in_window: int
    accepted: int
    quarantined: int
    excluded_no_consent: int
    rows_other_windows: int
    rows_outside_window: int
    rows_unroutable: int
    redacted_conversations: int
    entity_counts: dict[str, int]
    quarantine_reasons: dict[str, int]


def _quarantine_frame(rows: list[QuarantinedRow], partition_key: str | None) -> pd.DataFrame:
    frame = pd.DataFrame([asdict(r) for r in rows], columns=list(QuarantinedRow.__dataclass_fields__))
    frame.insert(0, "partition_key", partition_key)
    return frame


def _reason_family(reason: str) -> str:
    """Group reasons for metadata: the field path before the first colon."""
    return reason.split(":", 1)[0][:80]


def deidentify_window(
    con: duckdb.DuckDBPyConnection,
    partition_key: str,
    served_by: str,
    records: Iterable[RawRecord],
    known_versions: set[str],
    redact: Callable[[str], str],
    window: TrafficWindow | None = None,
) -> WindowSummary:
    """Only de-identified rows are ever written; raw text never lands in a table."""
    ingested = ingest_window(records, served_by, known_versions, redact, window)
    rows = []
    totals: Counter[str] = Counter()
    redacted = 0
    for conversation in ingested.accepted:
        # The strict tier over the whole window; the sample gets the full (NER) tier before any model sees it.
        result = strict_deidentify_messages(messages_payload(conversation.messages))
        counts = result.entity_counts
        clean = conversation.model_copy(
            update={"messages": [Message.model_validate(m) for m in result.messages]}
        )
        totals.update(counts)
        redacted += bool(counts)
        rows.append(
            {
                "partition_key": partition_key,
                "conversation_id": clean.conversation_id,
                "model_version": clean.model_version,
                "started_at": clean.started_at,
                "surface": clean.surface,
                "locale": clean.locale,
                "messages": json.dumps([m.model_dump(exclude_none=True) for m in clean.messages]),
                "tools": json.dumps(clean.tools) if clean.tools else None,
                "n_messages": len(clean.messages),
                "role_sequence": role_sequence(clean.messages),
                "pii_entities": sum(counts.values()),
            }
        )
    replace_partition(con, "conversations", partition_key, pd.DataFrame(rows))
    replace_partition(
        con, "quarantine", partition_key, _quarantine_frame(ingested.quarantined, partition_key)
    )
    # Rows naming no known version belong to no window; every window run records the same set.
    replace_partition(con, "quarantine", None, _quarantine_frame(ingested.unroutable, None))
    reasons = Counter(_reason_family(r.reason) for r in ingested.quarantined)
    return WindowSummary(
        served_by=served_by,
        rows_read=ingested.rows_read,
        rows_in_window=ingested.rows_in_window,
        accepted=len(ingested.accepted),
        quarantined=len(ingested.quarantined),
        excluded_no_consent=ingested.excluded_no_consent,
        rows_other_windows=ingested.rows_other_windows,
        rows_outside_window=ingested.rows_outside_window,
        rows_unroutable=len(ingested.unroutable),
        redacted_conversations=redacted,
        entity_counts=dict(totals),
        quarantine_reasons=dict(reasons),
    )
