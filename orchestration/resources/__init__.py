from orchestration.resources.evaluator_suite import EvaluatorSuiteResource
from orchestration.resources.gate_policy import GatePolicyResource
from orchestration.resources.model_gateway import ModelGatewayResource
from orchestration.resources.production_log import ProductionLogResource
from orchestration.resources.release_registry import ReleaseRegistryResource
from orchestration.resources.serialized_duckdb import SerializedDuckDBResource

__all__ = [
    "EvaluatorSuiteResource",
    "GatePolicyResource",
    "ModelGatewayResource",
    "ProductionLogResource",
    "ReleaseRegistryResource",
    "SerializedDuckDBResource",
]
