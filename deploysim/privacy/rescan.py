"""The blocking re-scan of de-identified text: high-confidence strict-type PII must not remain.

Ingestion quarantines every conversation the re-scan still finds strict PII in (`quarantine_residual_pii`)
before anything is written, so one bad conversation no longer stops a window; the asset check then
re-scans what was written (`scan_for_strict_pii`) and must find it clean. Only conversation ids and entity
types are ever reported, never the matched text.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

RESIDUAL_REASON = "strict PII remains after de-identification"


class PiiScan(BaseModel):
    conversations_scanned: int
    flagged_ids: list[str]
    hits_by_type: dict[str, int]


def _texts(messages: str | list[dict[str, Any]]) -> list[str]:
    # Whole texts, JSON keys included: a key is never masked, so strict PII in one must stop the row.
    texts = []
    for message in json.loads(messages) if isinstance(messages, str) else messages:
        texts.append(message.get("content") or "")
        texts += [call["function"]["arguments"] for call in message.get("tool_calls") or []]
    return texts


def strict_hit_types(messages: str | list[dict[str, Any]], deidentifier: Any) -> Counter[str]:
    """Strict-type hits by entity type in one conversation's messages (a list or its JSON)."""
    return Counter(hit.entity_type for text in _texts(messages) for hit in deidentifier.strict_hits(text))


def scan_for_strict_pii(rows: Sequence[tuple[str, str]], deidentifier: Any) -> PiiScan:
    """Re-scan de-identified (conversation_id, messages JSON) rows; only ids and types are reported."""
    hits: Counter[str] = Counter()
    flagged = []
    for conversation_id, messages in rows:
        found = strict_hit_types(messages, deidentifier)
        hits.update(found)
        if found:
            flagged.append(conversation_id)
    return PiiScan(conversations_scanned=len(rows), flagged_ids=flagged, hits_by_type=dict(hits))


def residual_reason(entity_types: Sequence[str]) -> str:
    """The quarantine reason, e.g. "strict PII remains after de-identification: EMAIL_ADDRESS"."""
    return f"{RESIDUAL_REASON}: {', '.join(entity_types)}"


def quarantine_residual_pii(
    rows: Sequence[dict[str, Any]], deidentifier: Any = None
) -> tuple[list[dict[str, Any]], list[tuple[str, list[str]]]]:
    """Split de-identified rows (each with ``conversation_id`` and ``messages``, a JSON string or a list)
    into those the re-scan finds clean and ``(conversation_id, sorted entity types)`` of the rest.

    `deidentifier` defaults to the one the asset check uses: Presidio's pattern recognizers without NER,
    an implementation independent of the strict tier that redacted.
    """
    if deidentifier is None:
        from deploysim.privacy.deidentifier import Deidentifier  # Presidio: loaded only when used

        deidentifier = Deidentifier(ner=False)
    clean: list[dict[str, Any]] = []
    quarantined: list[tuple[str, list[str]]] = []
    for row in rows:
        found = strict_hit_types(row["messages"], deidentifier)
        if found:
            quarantined.append((row["conversation_id"], sorted(found)))
        else:
            clean.append(row)
    return clean, quarantined
