import dagster as dg

from orchestration.deployment_simulation_job import release_refresh_job
from orchestration.resources import ReleaseRegistryResource
from orchestration.run_guard import busy_partitions


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
    released = [v for v in registry.simulated_versions if not registry.get(v).is_candidate]
    busy = busy_partitions(context.instance, released)
    night = context.scheduled_execution_time.date().isoformat() if context.scheduled_execution_time else ""
    requests = [
        # One run per version and night; a version still running from before is left alone.
        dg.RunRequest(run_key=f"refresh:{v}:{night}", partition_key=v)
        for v in released
        if v not in busy
    ]
    return requests or dg.SkipReason(f"nothing to refresh ({len(busy)} versions still running)")
