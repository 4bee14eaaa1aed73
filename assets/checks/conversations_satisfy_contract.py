import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.deidentified_conversations import deidentified_conversations
from assets.metadata import markdown_table
from deploysim.quality import validate_conversations
from orchestration.partitions import model_versions_partitions_def


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
