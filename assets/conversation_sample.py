import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.deidentified_conversations import deidentified_conversations
from assets.lineage import lineage
from assets.metadata import release_metadata
from deploysim.stages.sampling import sample_window
from orchestration.partitions import model_versions_partitions_def
from orchestration.resources import ReleaseRegistryResource


class SampleConfig(dg.Config):
    sample_size: int = 200
    seed: int = 20240409


@dg.asset(
    partitions_def=model_versions_partitions_def,
    deps=[deidentified_conversations],
    kinds={"duckdb", "python"},
    group_name="simulation",
    code_version="1",
    description="A seeded uniform sample of prefixes, fully de-identified, cut before the final reply.",
)
def conversation_sample(
    context: dg.AssetExecutionContext,
    config: SampleConfig,
    duckdb: DuckDBResource,
    release_registry: ReleaseRegistryResource,
) -> dg.MaterializeResult:
    from deploysim.deid import Deidentifier  # Presidio pulls in spaCy: loaded when run, not at import.

    release, prior = release_registry.release_and_prior(context.partition_key)
    with duckdb.get_connection() as con:
        summary = sample_window(con, context.partition_key, config.sample_size, config.seed, Deidentifier())
    return dg.MaterializeResult(
        metadata={
            **lineage(context),
            **release_metadata(release, prior),
            "dagster/row_count": summary.sample_size,
            "sample.population": summary.population,
            "sample.size": summary.sample_size,
            "sample.seed": summary.seed,
            "sample.by_surface": dg.MetadataValue.json(summary.by_surface),
            "sample.mean_prefix_messages": round(summary.mean_prefix_messages, 2),
            "pii.entity_counts": dg.MetadataValue.json(summary.entity_counts),
        }
    )
