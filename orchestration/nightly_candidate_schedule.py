import dagster as dg

from orchestration.deployment_simulation_job import deployment_simulation_job
from orchestration.resources import ReleaseRegistryResource
from orchestration.run_guard import nightly_requests


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
    return nightly_requests(
        context, [v for v in registry.simulated_versions if registry.get(v).is_candidate], "candidate"
    )
