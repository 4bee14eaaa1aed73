import dagster as dg
from pydantic import Field

from deploysim.core.grading import Evaluator
from deploysim.inference.backends import OpenAIBackend, SamplingParams
from evaluators import load_evaluators
from evaluators.judge import JudgeRuntime
from evaluators.registry import OFFLINE
from orchestration.settings import DATA_DIR


class EvaluatorSuiteResource(dg.ConfigurableResource):
    """Which evaluators grade responses, by registry name, and the judge model the `judge_*` ones call.

    The judge is configured like any endpoint: base URL, model, and the name of the environment variable
    that holds its key (read when the client is built; never logged or stored).
    """

    names: list[str] = Field(default_factory=lambda: list(OFFLINE))
    #: Human-labelled sets the evaluators are validated against (see data/validation/NOTICE.md).
    validation_dir: str = str(DATA_DIR / "validation")
    judge_base_url: str | None = None
    judge_model: str | None = None
    judge_api_key_env: str | None = None
    judge_max_tokens: int = Field(default=300, ge=16)
    judge_usd_per_million_input_tokens: float = Field(default=0.0, ge=0.0)
    judge_usd_per_million_output_tokens: float = Field(default=0.0, ge=0.0)

    @property
    def uses_judge(self) -> bool:
        return any(name.startswith("judge_") for name in self.names)

    def judge_backend(self) -> OpenAIBackend | None:
        if not (self.judge_base_url and self.judge_model):
            return None
        return OpenAIBackend(
            base_url=self.judge_base_url,
            model=self.judge_model,
            api_key_env=self.judge_api_key_env,
            sampling=SamplingParams(temperature=0.0, max_tokens=self.judge_max_tokens),
            usd_per_million_input_tokens=self.judge_usd_per_million_input_tokens,
            usd_per_million_output_tokens=self.judge_usd_per_million_output_tokens,
        )

    def load(self, judge: JudgeRuntime | None = None) -> list[Evaluator]:
        return load_evaluators(self.names, judge)
