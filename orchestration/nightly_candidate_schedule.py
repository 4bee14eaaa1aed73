import dagster as dg

from orchestration.deployment_simulation_job import deployment_simulation_job
from orchestration.resources import ReleaseRegistryResource
from orchestration.run_guard import busy_partitions


@dg.schedule(
    cron_schedule="30 2 * * *",
    job=deployment_simulation_job,
    execution_timezone="UTC",
    description="Nightly: re-run every pending candidate on its latest window (completed calls are cached).",
)
def nightly_candidate_schedule(
    context: dg.ScheduleEvaluationContext, release_registry: ReleaseRegistryResource
) -> list[dg.RunRequest] | dg.SkipReason:
    registry = release_registry.load()
    candidates = [v for v in registry.simulated_versions if registry.get(v).is_candidate]
    busy = busy_partitions(context.instance, candidates)
    night = context.scheduled_execution_time.date().isoformat() if context.scheduled_execution_time else ""
    requests = [
        dg.RunRequest(run_key=f"candidate:{v}:{night}", partition_key=v) for v in candidates if v not in busy
    ]
    return requests or dg.SkipReason(f"no pending candidate to run ({len(busy)} still running)")
