import dagster as dg

from orchestration.partitions import model_versions_partitions_def

#: Evaluators are validated once against human labels, not per release.
VALIDATION = dg.AssetSelection.assets("evaluator_validation")

#: The whole chain for one release: de-identify, sample, regenerate, grade, rate, backtest, gate.
deployment_simulation_job = dg.define_asset_job(
    name="deployment_simulation_job",
    selection=dg.AssetSelection.groups("ingestion", "simulation", "evaluation", "release") - VALIDATION,
    partitions_def=model_versions_partitions_def,
    description="Simulate one release on production traffic and gate it.",
)

#: Re-measure every evaluator against the human-labelled sets (after an evaluator's version changes).
evaluator_validation_job = dg.define_asset_job(
    name="evaluator_validation_job",
    selection=VALIDATION,
    description="Measure each evaluator against human labels (XSTest, presidio-research).",
)
