"""Validate one traffic window of the production log: accept, quarantine with a reason, or exclude."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pydantic import ValidationError

from deploysim.conversation import Conversation
from deploysim.production_log import RawRecord

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
    """rows_in_window = accepted + quarantined + excluded_no_consent, always."""

    version: str
    accepted: list[Conversation] = field(default_factory=list)
    quarantined: list[QuarantinedRow] = field(default_factory=list)
    excluded_no_consent: int = 0
    rows_read: int = 0
    rows_other_windows: int = 0
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
) -> WindowIngest:
    """Keep the rows that `version` served. Rows that name no known version are returned as unroutable."""
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
        seen[conversation.conversation_id] = f"{record.source}:{record.line_no}"
        if not conversation.consent_model_improvement:
            result.excluded_no_consent += 1
            continue
        result.accepted.append(conversation)
    return result
