"""Stable content hashes: the keys of the archive, the response cache and the sample."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def content_hash(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def prefix_hash(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> str:
    """The identity of a prefix: what the model sees, independent of where it is sent."""
    return content_hash({"messages": messages, "tools": tools or []})
