import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.regenerated_responses import regenerated_responses
from orchestration.partitions import model_versions_partitions_def
from orchestration.pools import DUCKDB_POOL


@dg.asset_check(
    asset=regenerated_responses,
    partitions_def=model_versions_partitions_def,
    pool=DUCKDB_POOL,
    blocking=True,
    description="Each sampled prefix has exactly one response or recorded failure in each arm.",
)
def every_prefix_has_one_result_per_arm(
    context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource
) -> dg.AssetCheckResult:
    with duckdb.get_connection() as con:
        prefixes, missing, duplicated, arms = con.execute(
            """
            WITH expected AS (
                SELECT p.conversation_id, a.arm FROM prefixes p
                CROSS JOIN (VALUES ('candidate'), ('prior')) a(arm) WHERE p.partition_key = $1
            ), got AS (
                SELECT conversation_id, arm, count(*) AS n FROM regenerations WHERE partition_key = $1
                GROUP BY ALL
            )
            SELECT (SELECT count(*) FROM prefixes WHERE partition_key = $1),
                   count(*) FILTER (WHERE got.n IS NULL),
                   (SELECT count(*) FROM got WHERE n > 1),
                   (SELECT count(DISTINCT arm) FROM got)
            FROM expected LEFT JOIN got USING (conversation_id, arm)
            """,
            [context.partition_key],
        ).fetchone()
    return dg.AssetCheckResult(
        passed=prefixes > 0 and missing == 0 and duplicated == 0 and arms == 2,
        metadata={"prefixes": prefixes, "missing_results": missing, "duplicated_results": duplicated},
    )
