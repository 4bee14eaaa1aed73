"""The jobs: one release's whole chain, its nightly refresh, and the evaluators' validation."""

import dagster as dg

from orchestration.partitions import model_versions_partitions_def

#: Evaluators are validated once against human labels, not per release.
VALIDATION = dg.AssetSelection.assets("evaluator_validation")
#: Every partitioned stage, in pipeline order.
PIPELINE = dg.AssetSelection.groups("ingestion", "simulation", "evaluation", "awareness", "release")

#: The whole chain for one release: de-identify, sample, regenerate, grade, rate, backtest, gate.
deployment_simulation_job = dg.define_asset_job(
    name="deployment_simulation_job",
    selection=PIPELINE - VALIDATION,
    partitions_def=model_versions_partitions_def,
    description="Simulate one release on production traffic and gate it.",
)

#: Re-measure every evaluator against the human-labelled sets (after an evaluator's version changes).
evaluator_validation_job = dg.define_asset_job(
    name="evaluator_validation_job",
    selection=VALIDATION,
    description="Measure each evaluator against human labels (XSTest, presidio-research).",
)

#: A released version's nightly refresh: its window's production traffic may have grown, so re-ingest,
#: re-grade and recompute rates, backtest and gate; the sample and its regenerations stay as they were.
release_refresh_job = dg.define_asset_job(
    name="release_refresh_job",
    selection=PIPELINE
    - VALIDATION
    - dg.AssetSelection.assets("conversation_sample", "regenerated_responses"),
    partitions_def=model_versions_partitions_def,
    description="Refresh observed production rates, backtest and gate of a released version.",
)

#: After a grader audit is imported: the release's rates (now audit-corrected), backtest and gate.
gate_refresh_job = dg.define_asset_job(
    name="gate_refresh_job",
    selection=dg.AssetSelection.assets("behavior_rates", "backtest_calibration", "release_gate"),
    partitions_def=model_versions_partitions_def,
    description="Recompute one release's rates, backtest and gate from what is already stored.",
)
