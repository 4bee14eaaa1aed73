from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.conversation_sample import conversation_sample
from assets.lineage import lineage
from assets.metadata import markdown_table, release_metadata
from deploysim.models.runner import Progress
from deploysim.stages.regeneration import Arm, regenerate
from orchestration.partitions import model_versions_partitions_def
from orchestration.resources import ModelGatewayResource, ReleaseRegistryResource


def journal_dir(database: str) -> Path | None:
    """Completed calls are journalled beside the database until their batch is committed."""
    return None if database in ("", ":memory:") else Path(f"{database}.journal")


@dg.asset(
    partitions_def=model_versions_partitions_def,
    deps=[conversation_sample],
    kinds={"duckdb", "openai"},
    group_name="simulation",
    code_version="2",
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
            name,
            version.version,
            model_gateway.client_for(version),
            model_gateway.sampling_for(version),
            model_gateway.engine_settings(version),
        )
        for name, version in (("candidate", release), ("prior", prior))
    ]

    def progress(arm: str, snapshot: Progress) -> None:
        context.log.info(snapshot.line(arm))

    with model_gateway.serving([release, prior]), duckdb.get_connection() as con:
        summaries = regenerate(
            con,
            context.partition_key,
            arms,
            redact=Deidentifier().redact_responses,
            journal_dir=journal_dir(duckdb.database),
            progress=progress,
        )
    candidate = next(s for s in summaries if s.arm == "candidate")
    prior_summary = next(s for s in summaries if s.arm == "prior")
    return dg.MaterializeResult(
        metadata={
            **lineage(context),
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
                        "calls": s.usage["openai.calls"],
                        "cached": s.usage["openai.cached_calls"],
                        "retries": s.usage["openai.retries"],
                        "tokens": s.usage["openai.total_tokens"],
                        "cost_usd": s.usage["openai.cost_usd"],
                        "p50_ms": s.usage["openai.latency_p50_ms"],
                        "p95_ms": s.usage["openai.latency_p95_ms"],
                    }
                    for s in summaries
                ]
            ),
            "endpoint": candidate.endpoint,
            "prior.endpoint": prior_summary.endpoint,
            "prior.total_tokens": prior_summary.usage["openai.total_tokens"],
            "prior.cost_usd": prior_summary.usage["openai.cost_usd"],
            # Both arms: what simulating this version cost.
            "simulation.total_tokens": sum(s.usage["openai.total_tokens"] for s in summaries),
            "simulation.cost_usd": round(sum(s.usage["openai.cost_usd"] for s in summaries), 6),
        }
    )
