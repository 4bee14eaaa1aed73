"""The model-call layer: one client interface, its implementations, a cache and a bounded runner."""

from deploysim.inference.types import (
    ChatRequest,
    EndpointRejected,
    ErrorClass,
    FailureKind,
    ModelCallError,
    ModelOutput,
)

__all__ = ["ChatRequest", "EndpointRejected", "ErrorClass", "FailureKind", "ModelCallError", "ModelOutput"]
