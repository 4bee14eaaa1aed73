import dagster as dg

from deploysim.release.watch import WatchCursor, watch
from orchestration.jobs import deployment_simulation_job
from orchestration.partitions import model_versions_partitions_def
from orchestration.resources import ReleaseRegistryResource


@dg.sensor(
    job=deployment_simulation_job,
    minimum_interval_seconds=60,
    # Off until an operator turns it on: its first tick requests every release it has not seen.
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="A new release in the registry gets its model-version partition and one simulation run.",
)
def release_registry_sensor(
    context: dg.SensorEvaluationContext, release_registry: ReleaseRegistryResource
) -> dg.SensorResult | dg.SkipReason:
    try:
        registry = release_registry.load()
    except (OSError, ValueError) as error:
        # An unreadable registry is an operator's typo, not a reason to crash the sensor.
        return dg.SkipReason(f"release registry unreadable: {error}")
    result = watch(registry, WatchCursor.parse(context.cursor))
    for entry in result.new_rejections:
        context.log.warning(f"registry entry {entry.index} ({entry.version}) skipped: {entry.reason}")
    known = set(context.instance.get_dynamic_partitions(model_versions_partitions_def.name))
    missing = [v for v in result.new_versions if v not in known]
    return dg.SensorResult(
        # run_key = version: a release is simulated once, however often the sensor sees it.
        run_requests=[dg.RunRequest(run_key=v, partition_key=v) for v in result.new_versions],
        dynamic_partitions_requests=(
            [model_versions_partitions_def.build_add_request(missing)] if missing else []
        ),
        cursor=result.cursor.model_dump_json(),
    )
