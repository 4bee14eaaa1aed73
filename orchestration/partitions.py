import dagster as dg

#: One partition per simulated release (a model version with a prior). Registered from the release registry.
model_versions_partitions_def = dg.DynamicPartitionsDefinition(name="model_versions")
