import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.deidentified_conversations import deidentified_conversations
from assets.metadata import release_metadata
from assets.regenerated_responses import regenerated_responses
from deploysim.stages.scoring import score_partition
from orchestration.partitions import model_versions_partitions_def
from orchestration.pools import DUCKDB_POOL
from orchestration.resources import EvaluatorSuiteResource, ReleaseRegistryResource


@dg.asset(
    partitions_def=model_versions_partitions_def,
    pool=DUCKDB_POOL,
    deps=[deidentified_conversations, regenerated_responses],
    kinds={"duckdb", "python"},
    group_name="evaluation",
    code_version="1",
    description="Evaluator labels for production responses and both regenerations, graded by the same code.",
)
def evaluator_scores(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    release_registry: ReleaseRegistryResource,
    evaluator_suite: EvaluatorSuiteResource,
) -> dg.MaterializeResult:
    release, prior = release_registry.release_and_prior(context.partition_key)
    evaluators = evaluator_suite.load()
    with duckdb.get_connection() as con:
        summary = score_partition(con, context.partition_key, evaluators)
    return dg.MaterializeResult(
        metadata={
            **release_metadata(release, prior),
            "dagster/row_count": sum(summary.graded.values()),
            "graded_by_arm": dg.MetadataValue.json(summary.graded),
            "evaluator_versions": dg.MetadataValue.json(summary.evaluators),
        }
    )
