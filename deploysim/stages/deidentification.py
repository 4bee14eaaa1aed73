"""Stage 1: validate the traffic window before a release, quarantine bad rows, de-identify the rest."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict
from typing import TYPE_CHECKING

import duckdb
import pandas as pd
from pydantic import BaseModel

from deploysim.conversation import Message, messages_payload, role_sequence
from deploysim.ingest import QuarantinedRow, ingest_window
from deploysim.pii.placeholders import strict_deidentify_messages
from deploysim.production_log import RawRecord
from deploysim.store import replace_partition

if TYPE_CHECKING:  # Presidio pulls in spaCy; callers that de-identify import it themselves.
    from deploysim.deid import Deidentifier


class WindowSummary(BaseModel):
    served_by: str
    rows_read: int
    rows_in_window: int
    accepted: int
    quarantined: int
    excluded_no_consent: int
    rows_other_windows: int
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
    deidentifier: Deidentifier,
) -> WindowSummary:
    """Only de-identified rows are ever written; raw text never lands in a table."""
    window = ingest_window(records, served_by, known_versions, deidentifier.redact)
    rows = []
    totals: Counter[str] = Counter()
    redacted = 0
    for conversation in window.accepted:
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
    replace_partition(con, "quarantine", partition_key, _quarantine_frame(window.quarantined, partition_key))
    # Rows naming no known version belong to no window; every window run records the same set.
    replace_partition(con, "quarantine", None, _quarantine_frame(window.unroutable, None))
    reasons = Counter(_reason_family(r.reason) for r in window.quarantined)
    return WindowSummary(
        served_by=served_by,
        rows_read=window.rows_read,
        rows_in_window=window.rows_in_window,
        accepted=len(window.accepted),
        quarantined=len(window.quarantined),
        excluded_no_consent=window.excluded_no_consent,
        rows_other_windows=window.rows_other_windows,
        rows_unroutable=len(window.unroutable),
        redacted_conversations=redacted,
        entity_counts=dict(totals),
        quarantine_reasons=dict(reasons),
    )
