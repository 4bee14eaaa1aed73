"""Stage 1, ingestion: one traffic window of the production log, validated row by row and de-identified.

Each row is accepted, quarantined with its reason, or excluded (no consent); rows that name no known
version are unroutable. Only de-identified rows are ever written: the strict tier runs here on every
accepted conversation, and `redact` (the full tier) on every quarantined excerpt. Whatever one row holds,
it is quarantined alone: each row is checked against the contract's limits, and checked again in the exact
form it is written in, so nothing a later stage reads back can fail it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb
import pandas as pd
from pydantic import BaseModel, ValidationError

from deploysim.core.conversation import (
    ContractLimits,
    Conversation,
    Message,
    contract_problem,
    messages_payload,
    role_sequence,
    storage_problem,
)
from deploysim.core.releases import TrafficWindow
from deploysim.ingestion.production_log import RawRecord
from deploysim.ingestion.quarantine import QuarantinedRow, describe_validation_error, quarantine_row
from deploysim.privacy.placeholders import strict_deidentify_messages
from deploysim.privacy.rescan import quarantine_residual_pii, residual_reason
from deploysim.store.tables import replace_partition


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
    #: Where each accepted conversation was read: (source, line), for a row quarantined when written.
    origins: dict[str, tuple[str, int]] = field(default_factory=dict)

    @property
    def rows_in_window(self) -> int:
        return len(self.accepted) + len(self.quarantined) + self.excluded_no_consent


def ingest_window(
    records: Iterable[RawRecord],
    version: str,
    known_versions: set[str],
    redact: Callable[[str], str],
    window: TrafficWindow | None = None,
    limits: ContractLimits | None = None,
) -> WindowIngest:
    """Keep the rows that `version` served within `window` (all of them without one). Rows that name no
    known version are returned as unroutable; valid rows outside the window are counted, not kept.

    A row that names its version but cannot be used (nested too deeply, against the contract or its
    `limits`) is quarantined in that version's window.
    """
    limits = limits or ContractLimits()
    result = WindowIngest(version=version)
    seen: dict[str, str] = {}

    def quarantine(record: RawRecord, reason: str) -> QuarantinedRow:
        return quarantine_row(record, reason, redact)

    for record in records:
        result.rows_read += 1
        claimed = record.claimed_version
        if record.payload is None:
            result.unroutable.append(quarantine(record, record.parse_error or "empty row"))
            continue
        if claimed is None:
            reason = record.parse_error or "model_version is missing or not a string"
            result.unroutable.append(quarantine(record, reason))
            continue
        if claimed not in known_versions:
            result.unroutable.append(
                quarantine(record, f"model_version {claimed!r} is not in the release registry")
            )
            continue
        if claimed != version:
            result.rows_other_windows += 1
            continue
        if record.parse_error:
            result.quarantined.append(quarantine(record, record.parse_error))
            continue
        if json_errors := record.payload.get("_json_errors"):
            result.quarantined.append(quarantine(record, "; ".join(json_errors)))
            continue
        try:
            conversation = Conversation.model_validate(record.payload)
        except ValidationError as error:
            result.quarantined.append(quarantine(record, describe_validation_error(error)))
            continue
        if (problem := contract_problem(conversation, limits)) is not None:
            result.quarantined.append(quarantine(record, problem))
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
        result.origins[conversation.conversation_id] = (record.source, record.line_no)
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
    """Group reasons for metadata: the field path before the first colon, or the words before a detail."""
    return re.split(r"[:(,]", reason, maxsplit=1)[0].strip()[:80]


def _stored_row(partition_key: str, conversation: Conversation) -> tuple[dict[str, Any], Counter[str]]:
    """The row as `conversations` stores it, after the strict tier; raises if it would not read back."""
    # The strict tier over the whole window; the sample gets the full (NER) tier before any model sees it.
    result = strict_deidentify_messages(messages_payload(conversation.messages))
    clean = conversation.model_copy(update={"messages": [Message.model_validate(m) for m in result.messages]})
    if (problem := storage_problem(clean)) is not None:
        raise ValueError(problem)
    messages = json.dumps(messages_payload(clean.messages), allow_nan=False)
    tools = json.dumps(clean.tools, allow_nan=False) if clean.tools else None
    # Read back as sampling reads it, so a row written here cannot fail a later stage.
    Conversation(
        conversation_id=clean.conversation_id,
        model_version=clean.model_version,
        started_at=clean.started_at,
        surface=clean.surface,
        locale=clean.locale,
        consent_model_improvement=True,
        messages=json.loads(messages),
        tools=json.loads(tools) if tools else None,
    )
    row = {
        "partition_key": partition_key,
        "conversation_id": clean.conversation_id,
        "model_version": clean.model_version,
        "started_at": clean.started_at,
        "surface": clean.surface,
        "locale": clean.locale,
        "messages": messages,
        "tools": tools,
        "n_messages": len(clean.messages),
        "role_sequence": role_sequence(clean.messages),
        "pii_entities": sum(result.entity_counts.values()),
    }
    return row, result.entity_counts


def deidentify_window(
    con: duckdb.DuckDBPyConnection,
    partition_key: str,
    served_by: str,
    records: Iterable[RawRecord],
    known_versions: set[str],
    redact: Callable[[str], str],
    window: TrafficWindow | None = None,
    limits: ContractLimits | None = None,
    rescan: Callable[[list[dict]], tuple[list[dict], list[tuple[str, list[str]]]]] | None = (
        quarantine_residual_pii
    ),
) -> WindowSummary:
    """Only de-identified rows are ever written; raw text never lands in a table. A row that fails on
    its way to the table is quarantined alone, and the partition is still written. So is a conversation in
    which `rescan` (an independent scanner) still finds strict PII after the strict tier: it is
    quarantined with its entity types, and the rest of the window goes on."""
    ingested = ingest_window(records, served_by, known_versions, redact, window, limits)
    stored: list[tuple[Conversation, dict, Counter[str]]] = []
    for conversation in ingested.accepted:
        try:
            row, counts = _stored_row(partition_key, conversation)
        except Exception as error:  # whatever one row raises, only that row is set aside
            source, line_no = ingested.origins[conversation.conversation_id]
            payload = {
                "conversation_id": conversation.conversation_id,
                "messages": messages_payload(conversation.messages),
            }
            # A pydantic error quotes its input; only the message of any error may reach the reason.
            detail = (
                describe_validation_error(error) if isinstance(error, ValidationError) else redact(str(error))
            )
            reason = f"cannot be stored: {type(error).__name__}: {detail}"[:300]
            ingested.quarantined.append(quarantine_row(RawRecord(source, line_no, payload), reason, redact))
            continue
        stored.append((conversation, row, Counter(counts)))
    residual = dict(rescan([row for _, row, _ in stored])[1]) if rescan and stored else {}
    rows, kept, totals, redacted = [], [], Counter[str](), 0
    for conversation, row, counts in stored:
        if types := residual.get(conversation.conversation_id):
            source, line_no = ingested.origins[conversation.conversation_id]
            record = RawRecord(source, line_no, {"conversation_id": conversation.conversation_id})
            ingested.quarantined.append(quarantine_row(record, residual_reason(types), redact))
            continue
        kept.append(conversation)
        rows.append(row)
        totals.update(counts)
        redacted += bool(counts)
    ingested.accepted = kept
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
