"""Any OpenAI-compatible chat endpoint, through the official async SDK."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import openai

from deploysim.inference.backends import OpenAIBackend
from deploysim.inference.chat_completion import to_output
from deploysim.inference.types import ChatRequest, ErrorClass, ModelCallError, ModelOutput

#: Statuses with which a server says it is overloaded; like 429 they cut the concurrency limit.
OVERLOAD_STATUSES = frozenset({429, 503, 529})


def retry_after_s(headers: httpx.Headers | None) -> float | None:
    """`retry-after-ms` (OpenAI, Azure), else `retry-after` in seconds or as an HTTP date."""
    if headers is None:
        return None
    try:
        if (ms := headers.get("retry-after-ms")) is not None:
            return max(0.0, float(ms) / 1000)
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            when = parsedate_to_datetime(value)
            return max(0.0, (when - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def classify(error: Exception) -> ModelCallError:
    """Map one failed attempt to a class: rate limit, transient (retried) or fatal (not)."""
    message = f"{type(error).__name__}: {error}"[:500]
    if isinstance(error, openai.APIStatusError):
        status = error.status_code
        wait = retry_after_s(error.response.headers)
        code = str(getattr(error, "code", None) or "")
        if status == 429:
            if code == "insufficient_quota" or "quota" in str(error).lower():
                return ModelCallError(ErrorClass.FATAL, message, stops_run=True)
            return ModelCallError(ErrorClass.RATE_LIMIT, message, retry_after_s=wait)
        if status in (401, 403, 404):
            # A bad key, a forbidden project or an unknown model: every further call fails the same way.
            return ModelCallError(ErrorClass.FATAL, message, stops_run=True)
        if status >= 500 or status in (408, 409):
            overloaded = status in OVERLOAD_STATUSES
            return ModelCallError(ErrorClass.TRANSIENT, message, retry_after_s=wait, overloaded=overloaded)
        # Context too long or an invalid request: this prefix can never succeed, the rest still can.
        return ModelCallError(ErrorClass.FATAL, message)
    if isinstance(error, openai.APIConnectionError | openai.APIResponseValidationError | ValueError):
        # Timeouts, resets, dropped connections, and bodies that are not the JSON they claim to be.
        return ModelCallError(ErrorClass.TRANSIENT, message)
    return ModelCallError(ErrorClass.FATAL, message)


def structured_output(response_format: dict[str, Any], dialect: str) -> dict[str, Any] | None:
    """An OpenAI json_schema response format in the endpoint's own dialect; None when it has none."""
    if dialect == "none" or response_format.get("type") != "json_schema":
        return None if dialect == "none" else response_format
    if dialect == "json_object":
        # llama.cpp's server rejects json_schema but turns a json_object's schema into a grammar.
        return {"type": "json_object", "schema": response_format["json_schema"]["schema"]}
    return response_format


class OpenAICompatibleClient:
    """One attempt per `generate` call: retries, backoff and concurrency belong to the engine, which sees
    every 429 and can slow the whole endpoint down, rather than to the SDK, which would hide them."""

    cacheable = True

    def __init__(
        self, backend: OpenAIBackend, *, timeout_s: float = 120.0, max_connections: int = 64
    ) -> None:
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
        self.endpoint = backend.address
        # The limiter is per (endpoint, key, model); a digest tells keys apart without holding them.
        self.scope = f"{self.endpoint}|key:{hashlib.sha256(api_key.encode()).hexdigest()[:12]}"
        self.usd_per_million_input_tokens = backend.usd_per_million_input_tokens
        self.usd_per_million_output_tokens = backend.usd_per_million_output_tokens
        self._client = openai.AsyncOpenAI(
            base_url=backend.base_url,
            api_key=api_key,
            timeout=timeout_s,
            max_retries=0,
            http_client=_http_client(max_connections),
        )

    def body(self, request: ChatRequest) -> dict[str, Any]:
        params = request.sampling
        body: dict[str, Any] = {
            "model": self.backend.model,
            "messages": request.messages,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_tokens,
        }
        if params.seed is not None:
            body["seed"] = params.seed
        if request.tools:
            body["tools"] = request.tools
        if request.response_format:
            response_format = structured_output(request.response_format, self.backend.structured_output)
            if response_format is not None:
                body["response_format"] = response_format
        return body

    async def generate(self, request: ChatRequest) -> ModelOutput:
        try:
            # The SDK's generic `post` keeps its auth, base URL and typed status errors but skips the
            # per-call TypedDict transform and model construction of `chat.completions.create`, which
            # cost about 1.5 ms of CPU per request: the difference between 400 and 1,000 requests/s.
            body = await self._client.post("/chat/completions", cast_to=dict, body=self.body(request))
        except (openai.OpenAIError, ValueError) as error:
            raise classify(error) from error
        return to_output(body)

    async def aclose(self) -> None:
        await self._client.close()


def _http_client(max_connections: int) -> Any:
    """aiohttp when installed (about half the CPU per request of httpx), with keep-alive for every slot
    the limiter may open, so a wide limit does not churn connections."""
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    try:
        return openai.DefaultAioHttpClient(limits=limits)
    except RuntimeError:  # the SDK was installed without its aiohttp extra
        return openai.DefaultAsyncHttpxClient(limits=limits)
