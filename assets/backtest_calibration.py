import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.behavior_rates import behavior_rates
from assets.lineage import lineage
from assets.metadata import markdown_table, release_metadata
from deploysim.stages.backtest import run_backtest
from orchestration.partitions import model_versions_partitions_def
from orchestration.resources import ReleaseRegistryResource


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
    duckdb: DuckDBResource,
    release_registry: ReleaseRegistryResource,
) -> dg.MaterializeResult:
    registry = release_registry.load()
    release, prior = registry.get(context.partition_key), registry.prior_of(context.partition_key)
    with duckdb.get_connection() as con:
        result = run_backtest(con, context.partition_key, registry.simulated_versions, config.min_turns)
    return dg.MaterializeResult(
        metadata={
            **lineage(context),
            **release_metadata(release, prior),
            # Lineage across partitions: the releases whose rates this backtest read.
            "computed_from_releases": dg.MetadataValue.json(result.releases),
            "backtest.min_turns": config.min_turns,
            **{f"backtest.{k}": v for k, v in result.summary.items()},
            "pairs": markdown_table(result.pairs),
        }
    )
