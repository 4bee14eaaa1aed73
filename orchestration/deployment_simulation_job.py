import dagster as dg

from orchestration.partitions import model_versions_partitions_def

#: The whole chain for one release: de-identify, sample, regenerate, grade, rate, backtest, gate.
deployment_simulation_job = dg.define_asset_job(
    name="deployment_simulation_job",
    selection=dg.AssetSelection.groups("ingestion", "simulation", "evaluation", "release"),
    partitions_def=model_versions_partitions_def,
    description="Simulate one release on production traffic and gate it.",
)
