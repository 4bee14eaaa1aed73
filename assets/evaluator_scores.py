import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.deidentified_conversations import deidentified_conversations
from assets.lineage import lineage
from assets.metadata import release_metadata
from assets.regenerated_responses import journal_dir, regenerated_responses
from deploysim.models.cache import ResponseCache
from deploysim.models.usage import Usage
from deploysim.stages.scoring import score_partition
from evaluators.judge import JudgeRuntime
from evaluators.registry import versions_fingerprint
from orchestration.partitions import model_versions_partitions_def
from orchestration.resources import EvaluatorSuiteResource, ModelGatewayResource, ReleaseRegistryResource


@dg.asset(
    partitions_def=model_versions_partitions_def,
    deps=[deidentified_conversations, regenerated_responses],
    kinds={"duckdb", "python"},
    group_name="evaluation",
    # Follows every evaluator's version: bumping one marks this asset's partitions stale.
    code_version=f"2:{versions_fingerprint()}",
    description="Evaluator labels for production responses and both regenerations, graded by the same code.",
)
def evaluator_scores(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    release_registry: ReleaseRegistryResource,
    evaluator_suite: EvaluatorSuiteResource,
    model_gateway: ModelGatewayResource,
) -> dg.MaterializeResult:
    release, prior = release_registry.release_and_prior(context.partition_key)
    with duckdb.get_connection() as con:
        judge = None
        backend = evaluator_suite.judge_backend()
        if evaluator_suite.uses_judge and backend is not None:
            judge = JudgeRuntime(
                client_factory=lambda: model_gateway.client_for_backend(backend),
                settings=model_gateway.engine_settings_for(backend),
                sampling=backend.sampling,
                cache=ResponseCache(con, journal_dir(duckdb.database)),
            )
        try:
            summary = score_partition(con, context.partition_key, evaluator_suite.load(judge))
        finally:
            if judge is not None and judge.cache is not None:
                judge.cache.close()
    metadata = {
        **lineage(context),
        **release_metadata(release, prior),
        "dagster/row_count": sum(summary.graded.values()),
        "graded_by_arm": dg.MetadataValue.json(summary.graded),
        "evaluator_versions": dg.MetadataValue.json(summary.evaluators),
        "grading_errors": dg.MetadataValue.json(summary.errors),
        "positive_share_by_category": dg.MetadataValue.json(summary.positives),
    }
    if judge is not None and judge.usage:
        total = Usage.merged(judge.usage)
        metadata.update({"judge_endpoint": total.endpoint, **total.as_metadata()})
    return dg.MaterializeResult(metadata=metadata)
