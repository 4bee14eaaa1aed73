import dagster as dg

from evaluators import Evaluator, load_evaluators


class EvaluatorSuiteResource(dg.ConfigurableResource):
    """Which evaluators grade responses, by registry name."""

    names: list[str] = ["refusal"]  # noqa: RUF012 - pydantic copies field defaults

    def load(self) -> list[Evaluator]:
        return load_evaluators(self.names)
