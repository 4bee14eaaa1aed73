"""The `fake` backend's client: deterministic answers with no model behind them, for tests and dry runs."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from deploysim.inference.types import ChatRequest, ErrorClass, ModelCallError, ModelOutput

if TYPE_CHECKING:
    from deploysim.inference.backends import FakeBackend

REFUSAL = "I'm sorry, but I can't help with that."


class FakeClient:
    """Refuses prompts that mention the backend's `refuse_on` word, answers everything else."""

    cacheable = True
    usd_per_million_input_tokens = 1.0
    usd_per_million_output_tokens = 2.0

    def __init__(self, backend: FakeBackend) -> None:
        self.backend = backend
        self.endpoint = backend.address
        self.scope = f"{self.endpoint}|{id(self)}"
        self.calls = 0
        self.in_flight = 0
        self.max_in_flight = 0

    async def generate(self, request: ChatRequest) -> ModelOutput:
        self.calls += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.backend.delay_s)
            prompt = request.messages[-1].get("content") or ""
            if self.backend.fail_on and self.backend.fail_on in prompt:
                raise ModelCallError(ErrorClass.TRANSIENT, "injected failure")
            reply = REFUSAL if self.backend.refuse_on in prompt else f"Sure: {prompt[:20]}"
            return ModelOutput(content=reply, finish_reason="stop", prompt_tokens=7, completion_tokens=3)
        finally:
            self.in_flight -= 1

    async def aclose(self) -> None:
        return None
