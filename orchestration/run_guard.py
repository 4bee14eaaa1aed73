"""Which model-version partitions already have a run queued or in flight, so schedules never overlap them."""

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
