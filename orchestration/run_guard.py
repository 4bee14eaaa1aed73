"""Nightly run requests that never overlap a model-version partition's queued or in-flight run."""

import dagster as dg

UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def busy_partitions(instance: dg.DagsterInstance, partitions: list[str]) -> set[str]:
    busy = set()
    for partition in partitions:
        records = instance.get_run_records(
            dg.RunsFilter(statuses=UNFINISHED, tags={"dagster/partition": partition}), limit=1
        )
        if records:
            busy.add(partition)
    return busy


def nightly_requests(
    context: dg.ScheduleEvaluationContext, versions: list[str], kind: str
) -> list[dg.RunRequest] | dg.SkipReason:
    """One run per version and night (run key `kind:version:date`); a version still running is left alone."""
    busy = busy_partitions(context.instance, versions)
    night = context.scheduled_execution_time.date().isoformat() if context.scheduled_execution_time else ""
    requests = [
        dg.RunRequest(run_key=f"{kind}:{v}:{night}", partition_key=v) for v in versions if v not in busy
    ]
    return requests or dg.SkipReason(f"no {kind} run to start ({len(busy)} still running)")
