import dagster as dg

from assets.backtest_calibration import backtest_calibration
from assets.behavior_rates import behavior_rates
from assets.checks.conversations_contain_no_strict_pii import conversations_contain_no_strict_pii
from assets.checks.conversations_satisfy_contract import conversations_satisfy_contract
from assets.checks.every_prefix_has_one_result_per_arm import every_prefix_has_one_result_per_arm
from assets.checks.every_response_is_graded import every_response_is_graded
from assets.conversation_sample import conversation_sample
from assets.deidentified_conversations import deidentified_conversations
from assets.eval_awareness_report import eval_awareness_report
from assets.evaluator_scores import evaluator_scores
from assets.evaluator_validation import evaluator_validation
from assets.regenerated_responses import regenerated_responses
from assets.release_gate import release_gate
from deploysim.settings import VAR_DIR, Settings, from_environment
from orchestration.deployment_simulation_job import (
    deployment_simulation_job,
    evaluator_validation_job,
    release_refresh_job,
)
from orchestration.nightly_candidate_schedule import nightly_candidate_schedule
from orchestration.nightly_refresh_schedule import nightly_refresh_schedule
from orchestration.release_registry_sensor import release_registry_sensor
from orchestration.resources import (
    EvaluatorSuiteResource,
    GatePolicyResource,
    ModelGatewayResource,
    ProductionLogResource,
    ReleaseRegistryResource,
    SerializedDuckDBResource,
)
from orchestration.step_executor import forkserver_multiprocess_executor

ASSETS = [
    deidentified_conversations,
    conversation_sample,
    regenerated_responses,
    evaluator_scores,
    evaluator_validation,
    eval_awareness_report,
    behavior_rates,
    backtest_calibration,
    release_gate,
]
ASSET_CHECKS = [
    conversations_satisfy_contract,
    conversations_contain_no_strict_pii,
    every_prefix_has_one_result_per_arm,
    every_response_is_graded,
]


def build_defs(settings: Settings, model_gateway: ModelGatewayResource | None = None) -> dg.Definitions:
    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    gateway = model_gateway or ModelGatewayResource(local_server_log=str(VAR_DIR / "local_model_server.log"))
    return dg.Definitions(
        assets=ASSETS,
        asset_checks=ASSET_CHECKS,
        jobs=[deployment_simulation_job, evaluator_validation_job, release_refresh_job],
        sensors=[release_registry_sensor],
        schedules=[nightly_refresh_schedule, nightly_candidate_schedule],
        executor=forkserver_multiprocess_executor,
        resources={
            "duckdb": SerializedDuckDBResource(database=str(settings.duckdb_path)),
            "production_log": ProductionLogResource(path=str(settings.production_log)),
            "release_registry": ReleaseRegistryResource(path=str(settings.release_registry)),
            "model_gateway": gateway,
            "evaluator_suite": EvaluatorSuiteResource(names=settings.evaluators),
            "gate_policy": GatePolicyResource(path=str(settings.gate_policy)),
        },
    )


defs = build_defs(from_environment())
