import json

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.deidentified_conversations import deidentified_conversations
from orchestration.partitions import model_versions_partitions_def
from orchestration.pools import DUCKDB_POOL


@dg.asset_check(
    asset=deidentified_conversations,
    partitions_def=model_versions_partitions_def,
    pool=DUCKDB_POOL,
    blocking=True,
    description="Re-scan of the de-identified text: no high-confidence email, phone, card, IBAN, SSN or IP.",
)
def conversations_contain_no_strict_pii(
    context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource
) -> dg.AssetCheckResult:
    from deploysim.deid import Deidentifier  # Presidio pulls in spaCy: loaded when run, not at import.

    with duckdb.get_connection() as con:
        rows = con.execute(
            "SELECT conversation_id, messages FROM conversations WHERE partition_key = ?",
            [context.partition_key],
        ).fetchall()
    scanner = Deidentifier()
    hits: dict[str, int] = {}
    flagged: list[str] = []
    for conversation_id, messages in rows:
        found = [
            hit
            for message in json.loads(messages)
            for text in [
                message.get("content") or "",
                *(c["function"]["arguments"] for c in message.get("tool_calls") or []),
            ]
            for hit in scanner.strict_hits(text)
        ]
        for hit in found:
            hits[hit.entity_type] = hits.get(hit.entity_type, 0) + 1
        if found:
            flagged.append(conversation_id)
    # Only ids and entity types are reported: the matched text itself must not reach a log.
    return dg.AssetCheckResult(
        passed=not flagged,
        metadata={
            "conversations_scanned": len(rows),
            "conversations_flagged": len(flagged),
            "hits_by_type": dg.MetadataValue.json(hits),
            "flagged_ids": dg.MetadataValue.json(flagged[:20]),
        },
    )
