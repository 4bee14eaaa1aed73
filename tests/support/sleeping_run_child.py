"""Starts a run of a partition in this process and sleeps inside it, so a test can SIGKILL a STARTED run.

python -m tests.support.sleeping_run_child PARTITION   (DAGSTER_HOME set; from the repository root)
"""

from __future__ import annotations

import sys
import time

import dagster as dg

from orchestration.run_health import run_tags


@dg.op
def sleep_long() -> None:
    time.sleep(300)


@dg.job
def deployment_simulation_job() -> None:
    sleep_long()


if __name__ == "__main__":
    deployment_simulation_job.execute_in_process(
        instance=dg.DagsterInstance.get(),
        tags={"dagster/partition": sys.argv[1], **run_tags()},
    )
