"""Ingestion: the traffic window before each release, validated, consented and de-identified, with the
checks that must pass before any of it is sampled."""

from datetime import UTC, datetime

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.metadata import markdown_table, release_metadata
from deploysim.ingestion.expectations import validate_conversations
from deploysim.ingestion.window import deidentify_window
from deploysim.privacy.allowlist import allowlist_metadata
from deploysim.privacy.rescan import RESIDUAL_REASON, scan_for_strict_pii
from orchestration.partitions import model_versions_partitions_def
from orchestration.resources import ProductionLogResource, ReleaseRegistryResource


@dg.asset(
    partitions_def=model_versions_partitions_def,
    kinds={"duckdb", "presidio"},
    group_name="ingestion",
    code_version="2",
    description="Production conversations served before this release: validated, consented, de-identified.",
)
def deidentified_conversations(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    production_log: ProductionLogResource,
    release_registry: ReleaseRegistryResource,
) -> dg.MaterializeResult:
    from deploysim.privacy.deidentifier import Deidentifier  # Presidio pulls in spaCy: loaded when run

    registry = release_registry.load()
    release, prior = registry.get(context.partition_key), registry.prior_of(context.partition_key)
    known = {r.version for r in registry.releases}
    window = registry.window(release.version, datetime.now(UTC), production_log.window_days)
    scan = production_log.scan()
    for skipped in scan.skipped:
        context.log.warning(f"log file {skipped.path} skipped: {skipped.reason}")
    with duckdb.get_connection() as con:
        summary = deidentify_window(
            con,
            context.partition_key,
            prior.version,
            production_log.read(scan),
            known,
            Deidentifier().redact,
            window,
            production_log.limits,
        )
    if summary.quarantined or summary.rows_unroutable:
        context.log.warning(
            f"quarantined {summary.quarantined} rows of this window and {summary.rows_unroutable} unroutable "
            "rows; see the quarantine table"
        )
    return dg.MaterializeResult(
        metadata={
            **release_metadata(release, prior),
            "dagster/row_count": summary.accepted,
            # rows.read = rows.in_window + rows.other_windows + rows.outside_window + rows.unroutable, and
            # rows.in_window = rows.accepted + rows.quarantined + rows.excluded_no_consent.
            **{
                f"rows.{k.removeprefix('rows_')}": v
                for k, v in summary.model_dump().items()
                if isinstance(v, int)
            },
            "pii.entity_counts": dg.MetadataValue.json(summary.entity_counts),
            "pii.redacted_conversation_share": round(
                summary.redacted_conversations / max(summary.accepted, 1), 4
            ),
            "quarantine.reasons": dg.MetadataValue.json(summary.quarantine_reasons),
            "production_log": production_log.path,
            "log.files_read": len(scan.read),
            "log.files_skipped": dg.MetadataValue.json(
                [{"path": f.path, "reason": f.reason} for f in scan.skipped]
            ),
            "window": window.describe(),
            **allowlist_metadata(),
        }
    )


@dg.asset_check(
    asset=deidentified_conversations,
    partitions_def=model_versions_partitions_def,
    blocking=True,
    description="Great Expectations: schema, unique ids, non-empty messages and a valid role order.",
)
def conversations_satisfy_contract(
    context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource
) -> dg.AssetCheckResult:
    with duckdb.get_connection() as con:
        frame = con.execute(
            "SELECT * FROM conversations WHERE partition_key = ?", [context.partition_key]
        ).df()
    report = validate_conversations(frame)
    return dg.AssetCheckResult(
        passed=report.success and len(frame) > 0,
        metadata={
            "rows": report.rows,
            "failed_expectations": len(report.failures),
            "expectations": markdown_table([o.model_dump() for o in report.outcomes]),
        },
    )


@dg.asset_check(
    asset=deidentified_conversations,
    partitions_def=model_versions_partitions_def,
    blocking=True,
    description=(
        "Re-scan of the de-identified text: no high-confidence email, phone, card, IBAN, SSN or IP in the "
        "accepted conversations (ingestion quarantines the ones that still held some)."
    ),
)
def conversations_contain_no_strict_pii(
    context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource
) -> dg.AssetCheckResult:
    from deploysim.privacy.deidentifier import Deidentifier  # Presidio pulls in spaCy: loaded when run

    with duckdb.get_connection() as con:
        rows = con.execute(
            "SELECT conversation_id, messages FROM conversations WHERE partition_key = ?",
            [context.partition_key],
        ).fetchall()
        (withheld,) = con.execute(
            "SELECT count(*) FROM quarantine WHERE partition_key = ? AND starts_with(reason, ?)",
            [context.partition_key, RESIDUAL_REASON],
        ).fetchone() or (0,)
    # Presidio's own pattern recognizers: an implementation independent of the strict tier that redacted.
    scan = scan_for_strict_pii(rows, Deidentifier(ner=False))
    # Only ids and entity types are reported: the matched text itself must not reach a log.
    return dg.AssetCheckResult(
        passed=not scan.flagged_ids,
        metadata={
            "conversations_scanned": scan.conversations_scanned,
            "conversations_flagged": len(scan.flagged_ids),
            "conversations_quarantined_for_residual_pii": withheld,
            "hits_by_type": dg.MetadataValue.json(scan.hits_by_type),
            "flagged_ids": dg.MetadataValue.json(scan.flagged_ids[:20]),
            **allowlist_metadata(),
        },
    )
