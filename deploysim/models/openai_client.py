"""Any OpenAI-compatible chat endpoint, through the official async SDK."""

from __future__ import annotations

import os

import openai

from deploysim.models.types import ChatRequest, ErrorClass, ModelCallError, ModelOutput
from deploysim.registry import OpenAIBackend


def classify(error: Exception) -> ModelCallError:
    """Map an SDK error (raised after the SDK's own retries) to a recorded error class."""
    message = f"{type(error).__name__}: {error}"[:500]
    if isinstance(error, openai.RateLimitError):
        code = getattr(error, "code", None) or ""
        if code == "insufficient_quota" or "quota" in str(error).lower():
            return ModelCallError(ErrorClass.FATAL, message, stops_run=True)
        return ModelCallError(ErrorClass.RATE_LIMIT, message)
    if isinstance(error, openai.AuthenticationError | openai.PermissionDeniedError | openai.NotFoundError):
        return ModelCallError(ErrorClass.FATAL, message, stops_run=True)
    if isinstance(error, openai.BadRequestError | openai.UnprocessableEntityError):
        # Context too long or an invalid request: this prefix can never succeed, the rest still can.
        return ModelCallError(ErrorClass.FATAL, message)
    if isinstance(error, openai.APIStatusError) and error.status_code < 500 and error.status_code != 408:
        return ModelCallError(ErrorClass.FATAL, message)
    # Timeouts, connection resets, 5xx and responses the SDK could not parse.
    return ModelCallError(ErrorClass.TRANSIENT, message)


class OpenAICompatibleClient:
    """Retries, backoff and Retry-After come from the SDK; failures come back classified."""

    cacheable = True

    def __init__(self, backend: OpenAIBackend, *, timeout_s: float = 120.0, max_retries: int = 4) -> None:
        api_key = "not-needed"
        if backend.api_key_env:
            api_key = os.environ.get(backend.api_key_env, "")
            if not api_key:
                raise ModelCallError(
                    ErrorClass.FATAL,
                    f"environment variable {backend.api_key_env} is not set; it must hold the API key "
                    f"for {backend.base_url}",
                    stops_run=True,
                )
        self.backend = backend
        self.endpoint = f"openai:{backend.base_url.rstrip('/')}#{backend.model}"
        self.usd_per_million_input_tokens = backend.usd_per_million_input_tokens
        self.usd_per_million_output_tokens = backend.usd_per_million_output_tokens
        self._client = openai.AsyncOpenAI(
            base_url=backend.base_url, api_key=api_key, timeout=timeout_s, max_retries=max_retries
        )

    async def generate(self, request: ChatRequest) -> ModelOutput:
        params = request.sampling
        extra = {"tools": request.tools} if request.tools else {}
        try:
            completion = await self._client.chat.completions.create(
                model=self.backend.model,
                messages=request.messages,  # type: ignore[arg-type]
                temperature=params.temperature,
                top_p=params.top_p,
                max_tokens=params.max_tokens,
                seed=params.seed,
                **extra,
            )
        except openai.OpenAIError as error:
            raise classify(error) from error
        if not completion.choices:
            raise ModelCallError(ErrorClass.TRANSIENT, "response has no choices")
        choice = completion.choices[0]
        tool_calls = [call.model_dump() for call in choice.message.tool_calls or []] or None
        if not choice.message.content and not tool_calls and choice.finish_reason is None:
            # Some servers answer an interrupted request with an empty body and no error.
            raise ModelCallError(ErrorClass.TRANSIENT, "empty completion without finish_reason")
        usage = completion.usage
        return ModelOutput(
            content=choice.message.content,
            tool_calls=tool_calls,
            finish_reason=choice.finish_reason,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
        )

    async def aclose(self) -> None:
        await self._client.close()
