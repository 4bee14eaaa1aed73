import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.regenerated_responses import regenerated_responses
from deploysim.quality import regeneration_completeness
from orchestration.partitions import model_versions_partitions_def


@dg.asset_check(
    asset=regenerated_responses,
    partitions_def=model_versions_partitions_def,
    blocking=True,
    description="Each sampled prefix has exactly one response or recorded failure in each arm.",
)
def every_prefix_has_one_result_per_arm(
    context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource
) -> dg.AssetCheckResult:
    with duckdb.get_connection() as con:
        result = regeneration_completeness(con, context.partition_key)
    return dg.AssetCheckResult(passed=result.complete, metadata=result.model_dump())
