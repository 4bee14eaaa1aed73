import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.metadata import release_metadata
from deploysim.stages.deidentification import deidentify_window
from deploysim.store import ensure_schema
from orchestration.partitions import model_versions_partitions_def
from orchestration.resources import ProductionLogResource, ReleaseRegistryResource


@dg.asset(
    partitions_def=model_versions_partitions_def,
    kinds={"duckdb", "presidio"},
    group_name="ingestion",
    code_version="1",
    description="Production conversations served before this release: validated, consented, de-identified.",
)
def deidentified_conversations(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    production_log: ProductionLogResource,
    release_registry: ReleaseRegistryResource,
) -> dg.MaterializeResult:
    from deploysim.deid import Deidentifier  # Presidio pulls in spaCy: loaded when run, not at import.

    registry = release_registry.load()
    release, prior = registry.get(context.partition_key), registry.prior_of(context.partition_key)
    known = {r.version for r in registry.releases}
    with duckdb.get_connection() as con:
        ensure_schema(con)
        summary = deidentify_window(
            con, context.partition_key, prior.version, production_log.read(), known, Deidentifier()
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
            # rows.read = rows.in_window + rows.other_windows + rows.unroutable, and
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
        }
    )
