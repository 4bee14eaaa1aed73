import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.evaluator_scores import evaluator_scores
from orchestration.partitions import model_versions_partitions_def
from orchestration.resources import EvaluatorSuiteResource


@dg.asset_check(
    asset=evaluator_scores,
    partitions_def=model_versions_partitions_def,
    blocking=True,
    description="Every production response and successful regeneration has a label for every category.",
)
def every_response_is_graded(
    context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource, evaluator_suite: EvaluatorSuiteResource
) -> dg.AssetCheckResult:
    categories = sum(len(e.categories) for e in evaluator_suite.load())
    with duckdb.get_connection() as con:
        expected, graded, errors = con.execute(
            """
            SELECT
              (SELECT count(*) FROM conversations WHERE partition_key = $1)
              + (SELECT count(*) FROM regenerations WHERE partition_key = $1 AND status = 'ok'),
              (SELECT count(*) FROM scores WHERE partition_key = $1),
              (SELECT count(*) FROM scores WHERE partition_key = $1 AND label IS NULL)
            """,
            [context.partition_key],
        ).fetchone()
    return dg.AssetCheckResult(
        passed=graded == expected * categories,
        # A failed grade is a row with its error: present, but not a label (rates leave it out).
        metadata={"expected_labels": expected * categories, "labels": graded, "grading_errors": errors},
    )
