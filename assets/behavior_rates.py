import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.evaluator_scores import evaluator_scores
from assets.evaluator_validation import evaluator_validation
from assets.lineage import lineage
from assets.metadata import markdown_table, release_metadata
from deploysim.stages.rates import compute_rates
from orchestration.partitions import model_versions_partitions_def
from orchestration.resources import EvaluatorSuiteResource, GatePolicyResource, ReleaseRegistryResource


@dg.asset(
    partitions_def=model_versions_partitions_def,
    # The validation's sensitivity and specificity feed the prevalence correction.
    deps=[evaluator_scores, evaluator_validation],
    kinds={"duckdb", "scipy"},
    group_name="evaluation",
    code_version="2",
    description="Each behaviour's rate per 100k turns per arm, with intervals, corrections and change tests.",
)
def behavior_rates(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    release_registry: ReleaseRegistryResource,
    gate_policy: GatePolicyResource,
    evaluator_suite: EvaluatorSuiteResource,
) -> dg.MaterializeResult:
    release, prior = release_registry.release_and_prior(context.partition_key)
    with duckdb.get_connection() as con:
        summary = compute_rates(con, context.partition_key, gate_policy.load().alpha)
    return dg.MaterializeResult(
        metadata={
            **lineage(context),
            **release_metadata(release, prior),
            "evaluator_versions": dg.MetadataValue.json({e.name: e.version for e in evaluator_suite.load()}),
            "rates_per_100k": markdown_table(summary.rates),
            "change_tests": markdown_table(summary.change_tests),
        }
    )
