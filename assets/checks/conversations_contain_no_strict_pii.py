import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.deidentified_conversations import deidentified_conversations
from deploysim.quality import scan_for_strict_pii
from orchestration.partitions import model_versions_partitions_def


@dg.asset_check(
    asset=deidentified_conversations,
    partitions_def=model_versions_partitions_def,
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
    # Presidio's own pattern recognizers: an implementation independent of the strict tier that redacted.
    scan = scan_for_strict_pii(rows, Deidentifier(ner=False))
    # Only ids and entity types are reported: the matched text itself must not reach a log.
    return dg.AssetCheckResult(
        passed=not scan.flagged_ids,
        metadata={
            "conversations_scanned": scan.conversations_scanned,
            "conversations_flagged": len(scan.flagged_ids),
            "hits_by_type": dg.MetadataValue.json(scan.hits_by_type),
            "flagged_ids": dg.MetadataValue.json(scan.flagged_ids[:20]),
        },
    )
