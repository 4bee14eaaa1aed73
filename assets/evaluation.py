"""Evaluation: every response graded by the evaluators, the evaluators measured against human labels, and
each behaviour's rate per arm with intervals and change tests."""

from pathlib import Path

import dagster as dg

from assets.ingestion import deidentified_conversations
from assets.lineage import lineage
from assets.metadata import markdown_table, release_metadata
from assets.simulation import regenerated_responses
from deploysim.evaluation.scoring import graded_count, score_partition
from deploysim.evaluation.validation import HELD_OUT, IN_SAMPLE, unvalidated, validate
from deploysim.evaluation.validation_report import validation_markdown
from deploysim.inference.cache import ResponseCache
from deploysim.inference.usage import Usage
from deploysim.stats.rates import compute_rates
from deploysim.store.tables import replace_partition
from evaluators.judge import JudgeRuntime
from evaluators.registry import versions_fingerprint
from orchestration.partitions import model_versions_partitions_def
from orchestration.resources import (
    EvaluatorSuiteResource,
    GatePolicyResource,
    ModelGatewayResource,
    ReleaseRegistryResource,
    SerializedDuckDBResource,
)


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
    duckdb: SerializedDuckDBResource,
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
                endpoint=model_gateway.endpoint(backend.address, backend),
                cache=ResponseCache(con, duckdb.journal_dir),
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


@dg.asset_check(
    asset=evaluator_scores,
    partitions_def=model_versions_partitions_def,
    blocking=True,
    description="Every production response and successful regeneration has a label for every category.",
)
def every_response_is_graded(
    context: dg.AssetCheckExecutionContext,
    duckdb: SerializedDuckDBResource,
    evaluator_suite: EvaluatorSuiteResource,
) -> dg.AssetCheckResult:
    categories = sum(len(e.categories) for e in evaluator_suite.load())
    with duckdb.get_connection() as con:
        count = graded_count(con, context.partition_key)
    expected = count.responses * categories
    return dg.AssetCheckResult(
        passed=count.labels == expected,
        # A failed grade is a row with its error: present, but not a label (rates leave it out).
        metadata={"expected_labels": expected, "labels": count.labels, "grading_errors": count.errors},
    )


@dg.asset(
    kinds={"duckdb", "python"},
    group_name="evaluation",
    code_version=f"1:{versions_fingerprint()}",
    description="Each evaluator's agreement, precision, sensitivity and specificity against human labels.",
)
def evaluator_validation(
    duckdb: SerializedDuckDBResource, evaluator_suite: EvaluatorSuiteResource
) -> dg.MaterializeResult:
    evaluators = evaluator_suite.load()
    table = validate(evaluators, Path(evaluator_suite.validation_dir))
    with duckdb.get_connection() as con:
        replace_partition(con, "evaluator_validation", None, table.assign(partition_key=None))
    held_out = table[(table["scope"] == HELD_OUT) & (table["fold_kind"] != "pairwise")]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(table),
            "evaluator_versions": dg.MetadataValue.json({e.name: e.version for e in evaluators}),
            # Held-out and in-sample figures, each labelled; the held-out ones are the headline.
            "report": dg.MetadataValue.md(validation_markdown(table)),
            "held_out_groups": len(held_out),
            "in_sample_groups": int((table["scope"] == IN_SAMPLE).sum()),
            "categories_without_labels": dg.MetadataValue.json(
                unvalidated(evaluators, Path(evaluator_suite.validation_dir))
            ),
        }
    )


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
    duckdb: SerializedDuckDBResource,
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
