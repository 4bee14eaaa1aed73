import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.conversation_sample import conversation_sample
from assets.metadata import markdown_table, release_metadata
from deploysim.stages.regeneration import Arm, regenerate
from orchestration.partitions import model_versions_partitions_def
from orchestration.pools import DUCKDB_POOL
from orchestration.resources import ModelGatewayResource, ReleaseRegistryResource


@dg.asset(
    partitions_def=model_versions_partitions_def,
    pool=DUCKDB_POOL,
    deps=[conversation_sample],
    kinds={"duckdb", "openai"},
    group_name="simulation",
    code_version="1",
    description="The candidate's and the prior model's final turns regenerated on the same prefixes.",
)
def regenerated_responses(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    release_registry: ReleaseRegistryResource,
    model_gateway: ModelGatewayResource,
) -> dg.MaterializeResult:
    from deploysim.deid import Deidentifier  # Presidio pulls in spaCy: loaded when run, not at import.

    release, prior = release_registry.release_and_prior(context.partition_key)
    arms = [
        Arm(
            "candidate",
            release.version,
            model_gateway.client_for(release),
            model_gateway.sampling_for(release),
        ),
        Arm("prior", prior.version, model_gateway.client_for(prior), model_gateway.sampling_for(prior)),
    ]

    def progress(arm: str, done: int, total: int) -> None:
        if done * 10 // total > (done - 1) * 10 // total:  # every tenth of the way
            context.log.info(f"{arm}: {done}/{total} prefixes")

    with model_gateway.serving([release, prior]), duckdb.get_connection() as con:
        summaries = regenerate(
            con,
            context.partition_key,
            arms,
            concurrency=model_gateway.concurrency,
            redact=Deidentifier().redact,
            progress=progress,
        )
    candidate = next(s for s in summaries if s.arm == "candidate")
    return dg.MaterializeResult(
        metadata={
            **release_metadata(release, prior),
            "dagster/row_count": sum(s.prefixes for s in summaries),
            **candidate.usage,
            "arms": markdown_table(
                [
                    {
                        "arm": s.arm,
                        "model_version": s.model_version,
                        "endpoint": s.endpoint,
                        "prefixes": s.prefixes,
                        "ok": s.ok,
                        "failed": s.failed,
                        **s.usage,
                    }
                    for s in summaries
                ]
            ),
        }
    )
