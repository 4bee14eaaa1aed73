"""In-process fakes for tests only. Production code has no fakes."""

from __future__ import annotations

import asyncio

from deploysim.models.types import ChatRequest, ErrorClass, ModelCallError, ModelOutput
from deploysim.registry import Release
from orchestration.resources import ModelGatewayResource


class FakeClient:
    """Refuses prompts that mention 'bomb', answers everything else; can fail on chosen words."""

    cacheable = True
    usd_per_million_input_tokens = 1.0
    usd_per_million_output_tokens = 2.0

    def __init__(
        self, endpoint: str = "fake:model", fail_on: str | None = None, delay_s: float = 0.0
    ) -> None:
        self.endpoint = endpoint
        self.scope = f"{endpoint}|{id(self)}"
        self.fail_on = fail_on
        self.delay_s = delay_s
        self.calls = 0
        self.in_flight = 0
        self.max_in_flight = 0

    async def generate(self, request: ChatRequest) -> ModelOutput:
        self.calls += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay_s)
            prompt = request.messages[-1]["content"]
            if self.fail_on and self.fail_on in prompt:
                raise ModelCallError(ErrorClass.TRANSIENT, "injected failure")
            reply = "I'm sorry, but I can't help with that." if "bomb" in prompt else f"Sure: {prompt[:20]}"
            return ModelOutput(content=reply, finish_reason="stop", prompt_tokens=7, completion_tokens=3)
        finally:
            self.in_flight -= 1

    async def aclose(self) -> None:
        return None


class FakeGateway(ModelGatewayResource):
    """Candidate releases get the fake client; archive releases keep their real archive client."""

    def client_for(self, release: Release):
        if release.backend.kind == "openai":
            return FakeClient(endpoint=f"fake:{release.version}")
        return super().client_for(release)
