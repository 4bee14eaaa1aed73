"""Any OpenAI-compatible chat endpoint, through the official async SDK."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import openai

from deploysim.inference.backends import OpenAIBackend
from deploysim.inference.chat_completion import to_output
from deploysim.inference.secrets import scrub_secrets, strip_credentials
from deploysim.inference.types import ChatRequest, ErrorClass, FailureKind, ModelCallError, ModelOutput

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


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and everything behind it: causes, contexts and a connector's wrapped OS error."""
    stack, seen = [error], set()
    while stack:
        current = stack.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for link in (current.__cause__, current.__context__, getattr(current, "os_error", None)):
            if isinstance(link, BaseException):
                stack.append(link)


def _connection_kind(error: BaseException) -> tuple[FailureKind, BaseException | None]:
    """Refused and unresolvable hosts first: the SDK may wrap either in a timeout, which would mislead."""
    chain = list(_chain(error))
    for link in chain:
        if isinstance(link, ConnectionRefusedError):
            return FailureKind.CONNECTION_REFUSED, link
    for link in chain:
        if isinstance(link, socket.gaierror) or "DNSError" in type(link).__name__:
            return FailureKind.DNS_FAILURE, link
    for link in chain:
        if isinstance(link, TimeoutError | httpx.TimeoutException | openai.APITimeoutError):
            return FailureKind.TIMEOUT, None
    root = chain[-1] if len(chain) > 1 else None
    return FailureKind.CONNECTION_ERROR, root


def _key_hint(api_key_env: str | None) -> str:
    if api_key_env:
        return f"check {api_key_env}"
    return "the registry names no api_key_env for it: set one"


def classify(
    error: Exception,
    *,
    api_key_env: str | None = None,
    model: str | None = None,
    secrets: Iterable[str | None] = (),
) -> ModelCallError:
    """Map one failed attempt to a class (rate limit, transient: retried; fatal: not) and a kind, whose
    name starts the recorded message. Auth, quota and unknown-model errors stop the run."""
    secrets = tuple(secrets)

    def failure(
        error_class: ErrorClass, kind: FailureKind, cause: BaseException = error, **extra: Any
    ) -> ModelCallError:
        text = f"{kind}: {type(cause).__name__}: {cause}"
        return ModelCallError(error_class, scrub_secrets(text, secrets)[:500], kind=kind, **extra)

    if isinstance(error, openai.APIStatusError):
        status = error.status_code
        wait = retry_after_s(error.response.headers)
        code = str(getattr(error, "code", None) or "")
        text = str(error).lower()
        if status == 429:
            if code == "insufficient_quota" or "quota" in text:
                rejection = f"has no quota left for the key (429): {_key_hint(api_key_env)}"
                return failure(ErrorClass.FATAL, FailureKind.QUOTA, stops_run=True, rejection=rejection)
            return failure(ErrorClass.RATE_LIMIT, FailureKind.RATE_LIMITED, retry_after_s=wait)
        if status in (401, 403):
            rejection = f"rejected the key ({status}): {_key_hint(api_key_env)}"
            return failure(ErrorClass.FATAL, FailureKind.AUTH, stops_run=True, rejection=rejection)
        if status == 404:
            # Every further call fails the same way: an unknown model, or no such route at that URL.
            if code == "model_not_found" or "model" in text:
                rejection = f"does not know model {model!r} (404): check the model name in the registry"
                return failure(
                    ErrorClass.FATAL, FailureKind.UNKNOWN_MODEL, stops_run=True, rejection=rejection
                )
            rejection = "has no chat-completions route (404): check the base URL in the registry"
            return failure(ErrorClass.FATAL, FailureKind.NOT_FOUND, stops_run=True, rejection=rejection)
        if status == 408:
            return failure(ErrorClass.TRANSIENT, FailureKind.TIMEOUT, retry_after_s=wait)
        if status >= 500 or status == 409:
            overloaded = status in OVERLOAD_STATUSES
            return failure(
                ErrorClass.TRANSIENT, FailureKind.SERVER_ERROR, retry_after_s=wait, overloaded=overloaded
            )
        # Context too long or an invalid request: this prefix can never succeed, the rest still can.
        return failure(ErrorClass.FATAL, FailureKind.BAD_REQUEST)
    if isinstance(error, openai.APIConnectionError):
        # The root names the host and what failed; the SDK's own text may say "timed out" for either.
        kind, root = _connection_kind(error)
        return failure(ErrorClass.TRANSIENT, kind, root or error)
    if isinstance(error, openai.APIResponseValidationError | ValueError):
        # A body that is not the JSON it claims to be: the next attempt may well be whole.
        return failure(ErrorClass.TRANSIENT, FailureKind.MALFORMED_RESPONSE)
    return failure(ErrorClass.FATAL, FailureKind.OTHER)


def _missing_credentials(backend: OpenAIBackend, detail: str, rejection: str) -> ModelCallError:
    message = f"{FailureKind.AUTH}: {detail} ({backend.address})"
    return ModelCallError(
        ErrorClass.FATAL, message, stops_run=True, kind=FailureKind.AUTH, rejection=rejection
    )


def _credentials(backend: OpenAIBackend) -> tuple[str, dict[str, str], tuple[str, ...]]:
    """The API key, extra headers and every secret value of an endpoint.

    The key comes from the environment variable the registry names. Credentials inside the base URL
    (user:password@) are sent as basic auth, as httpx would; the URL itself is used without them.
    """
    api_key, headers, secrets = "not-needed", {}, list(backend.credentials)
    if backend.api_key_env:
        api_key = os.environ.get(backend.api_key_env, "")
        if not api_key:
            raise _missing_credentials(
                backend,
                f"environment variable {backend.api_key_env} is not set; it must hold the API key",
                f"has no key: {backend.api_key_env} is not set",
            )
        secrets.append(api_key)
    parts = urlsplit(backend.base_url)
    if parts.username is not None or parts.password is not None:
        if backend.api_key_env:
            raise _missing_credentials(
                backend,
                "the base URL carries user:password@ and the registry names a key as well",
                f"has two credentials, user:password@ in its base URL and the key in "
                f"{backend.api_key_env}: keep one",
            )
        pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
        token = base64.b64encode(pair.encode()).decode()
        headers["Authorization"] = f"Basic {token}"
        secrets.append(token)
    return api_key, headers, tuple(dict.fromkeys(secrets))


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
        self.backend = backend
        self.endpoint = backend.address
        api_key, headers, secrets = _credentials(backend)
        #: Values no stored or logged text may contain.
        self.secrets = secrets
        # The limiter is per (endpoint, key, model); a digest tells keys apart without holding them.
        digest = hashlib.sha256("\n".join((api_key, *secrets)).encode()).hexdigest()[:12]
        self.scope = f"{self.endpoint}|key:{digest}"
        self.usd_per_million_input_tokens = backend.usd_per_million_input_tokens
        self.usd_per_million_output_tokens = backend.usd_per_million_output_tokens
        self._client = openai.AsyncOpenAI(
            base_url=strip_credentials(backend.base_url),
            api_key=api_key,
            default_headers=headers or None,
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
            failure = classify(
                error, api_key_env=self.backend.api_key_env, model=self.backend.model, secrets=self.secrets
            )
        else:
            try:
                return to_output(body)
            except ModelCallError as error:
                error.message = scrub_secrets(error.message, self.secrets)
                failure = error
        # Raised outside the handler, with no chain: the SDK's error holds the unscrubbed body.
        failure.__cause__ = failure.__context__ = None
        raise failure

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
