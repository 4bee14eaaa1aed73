"""Release: the backtest of every past release's forecast, and the gate for this one, whose verdict is also
an asset check (WARN and BLOCK as check severities), so the UI, alerts and sensors see it natively."""

import dagster as dg

from assets.awareness import eval_awareness_report
from assets.evaluation import behavior_rates
from assets.lineage import lineage
from assets.metadata import markdown_table, release_metadata
from deploysim.release.build import build_gate, load_backtest, save_gate
from deploysim.release.examples import examples_markdown
from deploysim.release.plots import gate_plots
from deploysim.release.policy import Verdict
from deploysim.release.report import backtest_lines, headline, to_markdown
from deploysim.reporting.figures import markdown_image
from deploysim.stats.backtest import run_backtest
from orchestration.partitions import model_versions_partitions_def
from orchestration.resources import GatePolicyResource, ReleaseRegistryResource, SerializedDuckDBResource


class BacktestConfig(dg.Config):
    #: Rates from fewer turns than this are too noisy to score a forecast with.
    min_turns: int = 20


@dg.asset(
    partitions_def=model_versions_partitions_def,
    deps=[behavior_rates],
    kinds={"duckdb", "python"},
    group_name="release",
    code_version="2",
    description="Forecast against observed production rate for every past release known at this release.",
)
def backtest_calibration(
    context: dg.AssetExecutionContext,
    config: BacktestConfig,
    duckdb: SerializedDuckDBResource,
    release_registry: ReleaseRegistryResource,
) -> dg.MaterializeResult:
    registry = release_registry.load()
    release, prior = registry.get(context.partition_key), registry.prior_of(context.partition_key)
    with duckdb.get_connection() as con:
        summary, pairs = run_backtest(
            con,
            context.partition_key,
            registry.simulated_versions,
            registry.priors,
            registry.chains,
            config.min_turns,
        )
    return dg.MaterializeResult(
        metadata={
            **lineage(context),
            **release_metadata(release, prior),
            # Lineage across partitions: the releases whose rates this backtest read.
            "computed_from_releases": dg.MetadataValue.json(summary.releases),
            "backtest.min_turns": config.min_turns,
            "backtest.pairs": summary.pairs,
            "backtest.chains": dg.MetadataValue.json(summary.chains),
            "report": dg.MetadataValue.md("\n".join(backtest_lines(summary))),
            "pairs": markdown_table(pairs.round(3).to_dict("records")),
        }
    )


@dg.asset(
    partitions_def=model_versions_partitions_def,
    deps=[behavior_rates, backtest_calibration, eval_awareness_report],
    kinds={"duckdb", "python"},
    group_name="release",
    code_version="3",
    description="Pass, warn or block per behaviour category for this release, with the evidence.",
)
def release_gate(
    context: dg.AssetExecutionContext,
    duckdb: SerializedDuckDBResource,
    release_registry: ReleaseRegistryResource,
    gate_policy: GatePolicyResource,
) -> dg.MaterializeResult:
    registry = release_registry.load()
    release, prior = registry.get(context.partition_key), registry.prior_of(context.partition_key)
    policy = gate_policy.load()
    with duckdb.get_connection() as con:
        gate = build_gate(
            con, context.partition_key, prior.version, policy, registry.chain_of(release.version)
        )
        markdown = to_markdown(gate)
        save_gate(con, gate, markdown)
        backtest = load_backtest(con, context.partition_key)
    plots = gate_plots(gate, backtest)
    return dg.MaterializeResult(
        metadata={
            **lineage(context),
            **release_metadata(release, prior),
            "verdict": gate.verdict.value,
            "headline": headline(gate),
            "policy_version": policy.policy_version,
            "examples": dg.MetadataValue.md(examples_markdown(gate.examples)),
            "report": dg.MetadataValue.md(markdown),
            "gate": dg.MetadataValue.json(gate.model_dump(mode="json")),
            "plot_rates": dg.MetadataValue.md(markdown_image(plots["rates"], "rates with intervals")),
            "plot_calibration": dg.MetadataValue.md(
                markdown_image(plots["calibration"], "backtest calibration, log-log")
            ),
            "plot_funnel": dg.MetadataValue.md(markdown_image(plots["funnel"], "fold error funnel")),
        }
    )


#: A gate that warns fails the check as a warning; one that blocks, or could not judge, as an error.
_SEVERITY = {
    Verdict.WARN: dg.AssetCheckSeverity.WARN,
    Verdict.BLOCK: dg.AssetCheckSeverity.ERROR,
    Verdict.ERROR: dg.AssetCheckSeverity.ERROR,
}


@dg.asset_check(
    asset=release_gate,
    partitions_def=model_versions_partitions_def,
    description="The release gate passes: a warning fails it with severity WARN, a block or an incomplete "
    "simulation with ERROR.",
)
def release_gate_passes(
    context: dg.AssetCheckExecutionContext, duckdb: SerializedDuckDBResource
) -> dg.AssetCheckResult:
    with duckdb.get_connection() as con:
        row = con.execute(
            "SELECT verdict FROM release_gates WHERE partition_key = ?", [context.partition_key]
        ).fetchone()
    return gate_check_result(Verdict(row[0]) if row else None)


def gate_check_result(verdict: Verdict | None) -> dg.AssetCheckResult:
    """A missing gate fails as an error: a release with no verdict must not look like one that passed."""
    if verdict is None:
        return dg.AssetCheckResult(
            passed=False, severity=dg.AssetCheckSeverity.ERROR, metadata={"verdict": "missing"}
        )
    return dg.AssetCheckResult(
        passed=verdict == Verdict.PASS,
        severity=_SEVERITY.get(verdict, dg.AssetCheckSeverity.WARN),
        metadata={"verdict": verdict.value},
    )
