"""An endpoint that refuses every call (bad key, unknown model, no quota): the one line that says so, and
the results of the calls that were therefore never made."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from deploysim.inference.types import (
    CallResult,
    ChatRequest,
    EndpointRejected,
    ErrorClass,
    FailureKind,
    ModelCallError,
)
from deploysim.inference.usage import Usage


def not_attempted(item_id: str, reason: str) -> CallResult:
    return CallResult(item_id, None, ErrorClass.NOT_ATTEMPTED.value, f"{FailureKind.NOT_ATTEMPTED}: {reason}")


def record_not_attempted(
    items: Iterable[tuple[str, ChatRequest]],
    reason: str,
    on_result: Callable[[CallResult], None],
    endpoint: str,
    *,
    on_flush: Callable[[], None] | None = None,
    batch_size: int = 500,
) -> Usage:
    """Every item recorded as a failure never sent, e.g. when the endpoint's client could not be built."""
    usage = Usage(endpoint)
    for count, (item_id, _) in enumerate(items, start=1):
        usage.failures[ErrorClass.NOT_ATTEMPTED.value] += 1
        on_result(not_attempted(item_id, reason))
        if on_flush and count % batch_size == 0:
            on_flush()
    if on_flush:
        on_flush()
    return usage


def rejection(name: str, endpoint: str, error: ModelCallError) -> EndpointRejected:
    """The one line for a run-stopping error, naming the endpoint as a person knows it (`name`)."""
    what = error.rejection or f"stopped the run: {error.message}"
    return EndpointRejected(f"the endpoint for {name} {what}", endpoint=endpoint, kind=error.kind)
