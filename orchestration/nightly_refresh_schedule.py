import dagster as dg

from orchestration.deployment_simulation_job import release_refresh_job
from orchestration.resources import ReleaseRegistryResource
from orchestration.run_guard import nightly_requests


@dg.schedule(
    cron_schedule="0 2 * * *",
    job=release_refresh_job,
    execution_timezone="UTC",
    description="Nightly: refresh observed rates, backtest and gate of every released version.",
)
def nightly_refresh_schedule(
    context: dg.ScheduleEvaluationContext, release_registry: ReleaseRegistryResource
) -> list[dg.RunRequest] | dg.SkipReason:
    registry = release_registry.load()
    return nightly_requests(
        context, [v for v in registry.simulated_versions if not registry.get(v).is_candidate], "refresh"
    )
