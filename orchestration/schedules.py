"""Nightly schedules: one factory, two schedules. A version still running is never started again; one whose
process died is failed and started again."""

from collections.abc import Callable
from typing import TYPE_CHECKING

import dagster as dg

from deploysim.core.releases import ReleaseRegistry
from orchestration.jobs import deployment_simulation_job, release_refresh_job
from orchestration.resources import ReleaseRegistryResource
from orchestration.run_health import fail_orphaned_runs, run_tags

if TYPE_CHECKING:  # what define_asset_job returns; Dagster does not export the name
    from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def busy_partitions(instance: dg.DagsterInstance, partitions: list[str]) -> set[str]:
    """Partitions with an unfinished run; a run whose process died is failed first, so it never counts."""
    fail_orphaned_runs(instance)
    busy = set()
    for partition in partitions:
        records = instance.get_run_records(
            dg.RunsFilter(statuses=UNFINISHED, tags={"dagster/partition": partition}), limit=1
        )
        if records:
            busy.add(partition)
    return busy


def nightly_schedule(
    name: str,
    cron: str,
    job: "UnresolvedAssetJobDefinition",
    kind: str,
    versions: Callable[[ReleaseRegistry], list[str]],
    description: str,
) -> dg.ScheduleDefinition:
    """One run per version and night (run key `kind:version:date`); a version still running is left alone."""

    @dg.schedule(name=name, cron_schedule=cron, job=job, execution_timezone="UTC", description=description)
    def _schedule(
        context: dg.ScheduleEvaluationContext, release_registry: ReleaseRegistryResource
    ) -> list[dg.RunRequest] | dg.SkipReason:
        chosen = versions(release_registry.load())
        busy = busy_partitions(context.instance, chosen)
        night = (
            context.scheduled_execution_time.date().isoformat() if context.scheduled_execution_time else ""
        )
        tags = run_tags(context.instance)
        requests = [
            dg.RunRequest(run_key=f"{kind}:{v}:{night}", partition_key=v, tags=tags)
            for v in chosen
            if v not in busy
        ]
        return requests or dg.SkipReason(f"no {kind} run to start ({len(busy)} still running)")

    return _schedule


nightly_refresh_schedule = nightly_schedule(
    "nightly_refresh_schedule",
    "0 2 * * *",
    release_refresh_job,
    "refresh",
    lambda registry: [v for v in registry.simulated_versions if not registry.get(v).is_candidate],
    "Nightly: refresh observed rates, backtest and gate of every released version.",
)
nightly_candidate_schedule = nightly_schedule(
    "nightly_candidate_schedule",
    "30 2 * * *",
    deployment_simulation_job,
    "candidate",
    lambda registry: [v for v in registry.simulated_versions if registry.get(v).is_candidate],
    "Nightly: re-run every pending candidate on its latest window (completed calls are cached).",
)
