"""Runs whose process died: marked failed, so a schedule never waits on them forever.

Dagster's run monitoring (enabled in the instance's dagster.yaml) fails runs stuck in STARTING or past
their `dagster/max_runtime`, but the default run launcher cannot tell whether a STARTED run's worker is
still alive, and a run executed in process by the CLI has no launcher at all. Every run records the pid
of the process that started it (its RUN_START event) and, for runs this project starts, the host in the
`deploysim/host` tag: a run on this host whose process is gone is orphaned.
"""

from __future__ import annotations

import os
import socket

import dagster as dg

HOST_TAG = "deploysim/host"
ALIVE = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


def this_host() -> str:
    return socket.gethostname()


def run_tags(instance: dg.DagsterInstance | None = None) -> dict[str, str]:
    """Tags for a run whose process will live on this host (one executed in process, or launched by the
    default launcher, which spawns a local process), so a reaper here may judge whether it is alive.
    Runs that another launcher sends elsewhere get none."""
    if instance is not None and not isinstance(instance.run_launcher, dg.DefaultRunLauncher):
        return {}
    return {HOST_TAG: this_host()}


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _run_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_START, limit=1).records
    event = records[0].event_log_entry.dagster_event if records else None
    return event.pid if event is not None else None


def orphaned_runs(instance: dg.DagsterInstance, tags: dict[str, str] | None = None) -> list[dg.DagsterRun]:
    """Unfinished runs started on this host whose process no longer exists. A run from another host, or
    one with no recorded pid, is never judged: only its own host can tell."""
    orphans = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=ALIVE, tags=tags or {})):
        run = record.dagster_run
        if run.tags.get(HOST_TAG) != this_host():
            continue
        pid = _run_pid(instance, run.run_id)
        if pid is not None and not _process_alive(pid):
            orphans.append(run)
    return orphans


def fail_orphaned_runs(instance: dg.DagsterInstance, tags: dict[str, str] | None = None) -> list[str]:
    """Mark every orphaned run failed, with the reason in its event log; returns their run ids."""
    failed = []
    for run in orphaned_runs(instance, tags):
        pid = _run_pid(instance, run.run_id)
        instance.report_run_failed(
            run,
            message=f"the process running it (pid {pid} on {this_host()}) is gone, killed or crashed; "
            "marked failed so that the partition can run again",
        )
        failed.append(run.run_id)
    return failed
