"""Awareness: does the candidate tell replayed production traffic from real use and from test suites?"""

from typing import Literal

import dagster as dg

from assets.lineage import lineage
from assets.metadata import release_metadata
from assets.simulation import regenerated_responses
from deploysim.awareness.comparison import (
    compare_replayed_to_production,
    phrasing_shares,
    suite_shares,
    uninformative_caveat,
    verbalized_shares,
)
from deploysim.awareness.phrasings import PHRASINGS, PROBE_VERSION
from deploysim.awareness.plot import awareness_plot
from deploysim.awareness.probe import run_probe, save_verdict
from deploysim.awareness.report import markdown
from deploysim.awareness.suites import load_suite
from deploysim.inference.backends import ArchiveBackend, SamplingParams
from deploysim.reporting.figures import markdown_image
from evaluators.registry import load_evaluators
from orchestration.partitions import model_versions_partitions_def
from orchestration.resources import (
    EvaluatorSuiteResource,
    ModelGatewayResource,
    ReleaseRegistryResource,
    SerializedDuckDBResource,
)
from orchestration.settings import DATA_DIR


class EvalAwarenessConfig(dg.Config):
    #: Transcripts per suite; the test suites are cut to the number of replayed transcripts available.
    sample_size: int = 100
    seed: int = 20240409
    phrasings: list[str] = list(PHRASINGS)  # noqa: RUF012 - dagster copies config defaults per run
    #: The candidate judges its own transcripts by default; "judge" asks the evaluator suite's judge model.
    probe_with: Literal["candidate", "judge"] = "candidate"
    max_tokens: int = 64


@dg.asset(
    partitions_def=model_versions_partitions_def,
    deps=[regenerated_responses],
    kinds={"duckdb", "openai"},
    group_name="awareness",
    code_version=f"1:{PROBE_VERSION}",
    description="Whether the candidate tells replayed production traffic from real use and from test suites.",
)
def eval_awareness_report(
    context: dg.AssetExecutionContext,
    config: EvalAwarenessConfig,
    duckdb: SerializedDuckDBResource,
    release_registry: ReleaseRegistryResource,
    model_gateway: ModelGatewayResource,
    evaluator_suite: EvaluatorSuiteResource,
) -> dg.MaterializeResult:
    from deploysim.privacy.deidentifier import Deidentifier  # Presidio pulls in spaCy: loaded when run

    release, prior = release_registry.release_and_prior(context.partition_key)
    common = {**lineage(context), **release_metadata(release, prior), "probe_version": PROBE_VERSION}
    probe_backend = evaluator_suite.judge_backend() if config.probe_with == "judge" else release.backend
    if isinstance(release.backend, ArchiveBackend) or probe_backend is None:
        # A replayed archive cannot answer new prompts: there is nothing to probe.
        reason = (
            f"{release.version} is replayed from an archive"
            if isinstance(release.backend, ArchiveBackend)
            else "probe_with=judge but the evaluator suite has no judge endpoint"
        )
        with duckdb.get_connection() as con:
            save_verdict(con, context.partition_key, None, reason)
        return dg.MaterializeResult(metadata={**common, "verdict": "not probed", "reason": reason})

    responder = model_gateway.endpoint_for(release)
    probe_sampling = SamplingParams(temperature=0.0, max_tokens=config.max_tokens)
    # By default the candidate through the very endpoint that regenerated its turns: one cache, limiter,
    # account; with probe_with=judge, the evaluator suite's judge model.
    prober = (
        responder
        if config.probe_with == "candidate"
        else model_gateway.endpoint(probe_backend.address, probe_backend)
    ).with_sampling(probe_sampling)
    deid = Deidentifier()

    def redact(texts: list[str]) -> list[str]:
        redacted = deid.redact_responses([{"role": "assistant", "content": t} for t in texts])
        return [r.messages[0].get("content") or "" for r in redacted]

    suites = {
        "adversarial": load_suite("adversarial", DATA_DIR / "probe_suites"),
        "benchmark": load_suite("benchmark", DATA_DIR / "probe_suites"),
    }
    [verbalized_evaluator] = load_evaluators(["verbalized_eval_awareness"])
    with model_gateway.serving([release]), duckdb.get_connection() as con:
        run = run_probe(
            con,
            context.partition_key,
            size=config.sample_size,
            seed=config.seed,
            phrasings=config.phrasings,
            suites=suites,
            responder=responder,
            prober=prober,
            redact=redact,
            verbalized_evaluator=verbalized_evaluator,
            journal_dir=duckdb.journal_dir,
        )
        shares = suite_shares(run.outcomes)
        comparison = compare_replayed_to_production(run.outcomes)
        verbalized = verbalized_shares(run.verbalized)
        summary = comparison.summary + uninformative_caveat(shares)
        save_verdict(con, context.partition_key, comparison, summary, prober=prober.name)
    plot = awareness_plot(shares, verbalized, f"Flagged as a test: {release.version}")
    tokens = sum(u.total_tokens for u in run.usage.values())
    return dg.MaterializeResult(
        metadata={
            **common,
            "dagster/row_count": len(run.outcomes),
            "verdict": comparison.verdict,
            "summary": summary,
            "probed_model": prober.name,
            "phrasings": config.phrasings,
            "sample.seed": config.seed,
            "transcripts_per_suite": dg.MetadataValue.json(run.transcripts),
            "flagged_share_by_suite": dg.MetadataValue.json(
                {s.suite: None if s.share != s.share else round(s.share, 4) for s in shares}
            ),
            "unparseable_by_suite": dg.MetadataValue.json({s.suite: s.unparseable for s in shares}),
            "report": dg.MetadataValue.md(
                markdown(shares, phrasing_shares(run.outcomes), comparison, verbalized)
            ),
            "plot": dg.MetadataValue.md(markdown_image(plot, "share flagged as a test, by suite")),
            "openai.total_tokens": tokens,
            "openai.cost_usd": round(sum(u.cost_usd for u in run.usage.values()), 6),
        }
    )
