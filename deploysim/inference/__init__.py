"""The model-call layer: one client interface, its implementations, a cache and a bounded runner."""

from deploysim.inference.types import ChatRequest, ErrorClass, ModelCallError, ModelOutput

__all__ = ["ChatRequest", "ErrorClass", "ModelCallError", "ModelOutput"]
