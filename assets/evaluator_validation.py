from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.metadata import markdown_table
from deploysim.store import ensure_schema, replace_partition
from deploysim.validation import unvalidated, validate
from evaluators.registry import versions_fingerprint
from orchestration.resources import EvaluatorSuiteResource


@dg.asset(
    kinds={"duckdb", "python"},
    group_name="evaluation",
    code_version=f"1:{versions_fingerprint()}",
    description="Each evaluator's agreement, precision, sensitivity and specificity against human labels.",
)
def evaluator_validation(
    duckdb: DuckDBResource, evaluator_suite: EvaluatorSuiteResource
) -> dg.MaterializeResult:
    evaluators = evaluator_suite.load()
    table = validate(evaluators, Path(evaluator_suite.validation_dir))
    with duckdb.get_connection() as con:
        ensure_schema(con)  # this asset may run before any partition has created the tables
        replace_partition(con, "evaluator_validation", None, table.assign(partition_key=None))
    overall = table[table["subset"].isin(["all", "presidio_research"])]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(table),
            "evaluator_versions": dg.MetadataValue.json({e.name: e.version for e in evaluators}),
            "agreement": markdown_table(
                [
                    {
                        "category": row.category,
                        "evaluator": f"{row.evaluator} {row.evaluator_version}",
                        "dataset": row.dataset,
                        "n": row.n,
                        "agreement [95% CI]": _interval(row.agreement, row.agreement_low, row.agreement_high),
                        "precision": row.precision,
                        "sensitivity": row.sensitivity,
                        "specificity": row.specificity,
                    }
                    for row in overall.itertuples()
                ]
            ),
            "categories_without_public_labels": dg.MetadataValue.json(unvalidated(evaluators)),
        }
    )


def _interval(value: float, low: float, high: float) -> str:
    return f"{value:.3f} [{low:.3f}, {high:.3f}]"
