"""Dagster wiring: the assets and checks of every group, jobs, schedules, the sensor, the executor and the
resources. Domain logic lives in deploysim/."""

import dagster as dg

from assets import awareness, evaluation, ingestion, release, simulation
from orchestration.executor import forkserver_multiprocess_executor
from orchestration.jobs import (
    deployment_simulation_job,
    evaluator_validation_job,
    gate_refresh_job,
    release_refresh_job,
)
from orchestration.resources import (
    EvaluatorSuiteResource,
    GatePolicyResource,
    ModelGatewayResource,
    ProductionLogResource,
    ReleaseRegistryResource,
    SerializedDuckDBResource,
)
from orchestration.schedules import nightly_candidate_schedule, nightly_refresh_schedule
from orchestration.sensors import release_registry_sensor
from orchestration.settings import VAR_DIR, Settings, from_environment

#: In pipeline order.
GROUPS = [ingestion, simulation, evaluation, awareness, release]


def build_defs(settings: Settings, model_gateway: ModelGatewayResource | None = None) -> dg.Definitions:
    gateway = model_gateway or ModelGatewayResource(local_server_log=str(VAR_DIR / "local_model_server.log"))
    return dg.Definitions(
        assets=dg.load_assets_from_modules(GROUPS),
        asset_checks=dg.load_asset_checks_from_modules(GROUPS),
        jobs=[deployment_simulation_job, evaluator_validation_job, release_refresh_job, gate_refresh_job],
        sensors=[release_registry_sensor],
        schedules=[nightly_refresh_schedule, nightly_candidate_schedule],
        executor=forkserver_multiprocess_executor,
        resources={
            "duckdb": SerializedDuckDBResource(database=str(settings.duckdb_path)),
            "production_log": ProductionLogResource(
                path=str(settings.production_log),
                window_days=settings.window_days,
                **{
                    bound: value
                    for bound in ("min_year", "max_year", "max_conversation_chars")
                    if (value := getattr(settings, bound)) is not None
                },
            ),
            "release_registry": ReleaseRegistryResource(path=str(settings.release_registry)),
            "model_gateway": gateway,
            "evaluator_suite": EvaluatorSuiteResource(names=settings.evaluators),
            "gate_policy": GatePolicyResource(path=str(settings.gate_policy)),
        },
    )


defs = build_defs(from_environment())
