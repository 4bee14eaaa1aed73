"""The release sensor and the nightly schedules, evaluated against a real (test) Dagster instance."""

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import dagster as dg
import yaml
from dagster._core.storage.dagster_run import DagsterRun

from deploysim.release.watch import WatchCursor
from orchestration.resources import ReleaseRegistryResource
from orchestration.schedules import nightly_candidate_schedule, nightly_refresh_schedule
from orchestration.sensors import release_registry_sensor
from tests.support.paths import REPO
from tests.support.tiny_world import build


def _registry(tmp_path):
    settings = build(tmp_path)
    return settings.release_registry, ReleaseRegistryResource(path=str(settings.release_registry))


def _tick(instance, resource, cursor=None):
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"release_registry": resource}
    )
    return release_registry_sensor(context)


def test_a_new_release_gets_its_partition_and_exactly_one_run(tmp_path):
    path, resource = _registry(tmp_path)
    with dg.instance_for_test() as instance:
        first = _tick(instance, resource)
        assert [r.run_key for r in first.run_requests] == ["r1", "cand"]  # release order
        assert [r.partition_key for r in first.run_requests] == ["r1", "cand"]
        [add] = first.dynamic_partitions_requests
        assert add.partition_keys == ["r1", "cand"]
        instance.add_dynamic_partitions("model_versions", add.partition_keys)

        again = _tick(instance, resource, first.cursor)
        assert again.run_requests == [] and not again.dynamic_partitions_requests

        document = yaml.safe_load(path.read_text())
        document["releases"].append(
            {
                "version": "cand2",
                "released_at": None,
                "prior_version": "r1",
                "backend": document["releases"][2]["backend"],
            }
        )
        document["releases"].append({"version": "broken", "released_at": "not a date"})
        path.write_text(yaml.safe_dump(document))
        third = _tick(instance, resource, again.cursor)
        assert [r.run_key for r in third.run_requests] == ["cand2"]
        # The malformed entry is skipped with its reason, reported once, and does not stop the sensor.
        cursor = WatchCursor.parse(third.cursor)
        assert any("broken" in key for key in cursor.reported)
        fourth = _tick(instance, resource, third.cursor)
        assert fourth.run_requests == [] and WatchCursor.parse(fourth.cursor).reported == cursor.reported


def test_an_unreadable_registry_skips_the_tick_instead_of_crashing(tmp_path):
    path, resource = _registry(tmp_path)
    path.write_text("releases: [unclosed")
    with dg.instance_for_test() as instance:
        result = _tick(instance, resource)
    assert isinstance(result, dg.SkipReason) and "unreadable" in result.skip_message


def _schedule_context(instance, resource):
    return dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=datetime(2026, 11, 27, 2, 0, tzinfo=UTC),
        resources={"release_registry": resource},
    )


def test_nightly_schedules_split_released_and_pending_and_never_overlap_a_running_partition(tmp_path):
    _, resource = _registry(tmp_path)
    with dg.instance_for_test() as instance:
        refresh = nightly_refresh_schedule(_schedule_context(instance, resource))
        assert [(r.partition_key, r.run_key) for r in refresh] == [("r1", "refresh:r1:2026-11-27")]
        candidates = nightly_candidate_schedule(_schedule_context(instance, resource))
        assert [(r.partition_key, r.run_key) for r in candidates] == [("cand", "candidate:cand:2026-11-27")]

        instance.add_run(
            DagsterRun(
                job_name="deployment_simulation_job",
                run_id="still-running",
                status=dg.DagsterRunStatus.STARTED,
                tags={"dagster/partition": "cand"},
            )
        )
        skipped = nightly_candidate_schedule(_schedule_context(instance, resource))
        assert isinstance(skipped, dg.SkipReason) and "(1 still running)" in skipped.skip_message


def test_a_killed_run_is_failed_and_its_candidate_scheduled_again(tmp_path, monkeypatch):
    _, resource = _registry(tmp_path)
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    child = subprocess.Popen([sys.executable, "-m", "tests.support.sleeping_run_child", "cand"], cwd=REPO)
    try:
        with dg.DagsterInstance.get() as instance:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                started = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
                if started:
                    break
                time.sleep(0.2)
            [run] = started
            skipped = nightly_candidate_schedule(_schedule_context(instance, resource))
            assert isinstance(skipped, dg.SkipReason), "a live run must not be started again"
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
            assert instance.get_run_by_id(run.run_id).status is dg.DagsterRunStatus.STARTED

            requests = nightly_candidate_schedule(_schedule_context(instance, resource))
            assert [r.partition_key for r in requests] == ["cand"]
            assert instance.get_run_by_id(run.run_id).status is dg.DagsterRunStatus.FAILURE
            failure = instance.get_records_for_run(
                run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE
            ).records[0]
            assert f"pid {child.pid}" in failure.event_log_entry.dagster_event.message
    finally:
        child.kill()
        child.wait()
