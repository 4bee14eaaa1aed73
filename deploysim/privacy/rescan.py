"""The blocking re-scan of de-identified text: high-confidence strict-type PII must not remain."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel


class PiiScan(BaseModel):
    conversations_scanned: int
    flagged_ids: list[str]
    hits_by_type: dict[str, int]


def scan_for_strict_pii(rows: list[tuple[str, str]], deidentifier: Any) -> PiiScan:
    """Re-scan de-identified (conversation_id, messages JSON) rows; only ids and types are reported."""
    hits: dict[str, int] = {}
    flagged = []
    for conversation_id, messages in rows:
        texts = []
        for message in json.loads(messages):
            texts.append(message.get("content") or "")
            texts += [call["function"]["arguments"] for call in message.get("tool_calls") or []]
        found = [hit for text in texts for hit in deidentifier.strict_hits(text)]
        for hit in found:
            hits[hit.entity_type] = hits.get(hit.entity_type, 0) + 1
        if found:
            flagged.append(conversation_id)
    return PiiScan(conversations_scanned=len(rows), flagged_ids=flagged, hits_by_type=hits)
