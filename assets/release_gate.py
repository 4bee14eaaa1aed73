import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.backtest_calibration import backtest_calibration
from assets.behavior_rates import behavior_rates
from assets.eval_awareness_report import eval_awareness_report
from assets.lineage import lineage
from assets.metadata import release_metadata
from deploysim.gate_plots import gate_plots
from deploysim.plots import markdown_image
from deploysim.stages.gate import build_gate, load_backtest
from orchestration.partitions import model_versions_partitions_def
from orchestration.resources import GatePolicyResource, ReleaseRegistryResource


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
    duckdb: DuckDBResource,
    release_registry: ReleaseRegistryResource,
    gate_policy: GatePolicyResource,
) -> dg.MaterializeResult:
    release, prior = release_registry.release_and_prior(context.partition_key)
    policy = gate_policy.load()
    with duckdb.get_connection() as con:
        gate, markdown = build_gate(con, context.partition_key, prior.version, policy)
        backtest = load_backtest(con, context.partition_key)
    plots = gate_plots(gate, backtest)
    return dg.MaterializeResult(
        metadata={
            **lineage(context),
            **release_metadata(release, prior),
            "verdict": gate.verdict.value,
            "policy_version": policy.policy_version,
            "report": dg.MetadataValue.md(markdown),
            "gate": dg.MetadataValue.json(gate.model_dump(mode="json")),
            "plot_rates": dg.MetadataValue.md(markdown_image(plots["rates"], "rates with intervals")),
            "plot_calibration": dg.MetadataValue.md(
                markdown_image(plots["calibration"], "backtest calibration, log-log")
            ),
            "plot_funnel": dg.MetadataValue.md(markdown_image(plots["funnel"], "fold error funnel")),
        }
    )
