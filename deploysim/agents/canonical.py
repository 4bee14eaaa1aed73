"""Canonical forms: of a call's arguments (the prior-pairs key) and of a tool's output (fidelity comparison).

Arguments: parsed from JSON if given as text; object keys sorted; every string stripped with inner runs of
whitespace collapsed to one space; an integral float written as an integer (``250.0`` -> ``250``); list
order kept, because it carries meaning (flight legs, passengers).

Outputs: if both texts parse as JSON they are compared as values (key order and spacing ignored, ``5 ==
5.0``), after renaming the keys in ``RENAMED_KEYS`` on both sides; otherwise as text, stripped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from deploysim.core.hashing import canonical_json

#: Upstream renamed ``address.province`` to ``address.state`` in users.json (tau-bench commit 404f33e,
#: January 2025), after the trajectories were recorded (November 2024): the same value under a new name.
RENAMED_KEYS: Mapping[str, str] = {"province": "state"}


def parse_arguments(arguments: str | Mapping[str, Any] | None) -> dict[str, Any]:
    if arguments is None:
        return {}
    if isinstance(arguments, Mapping):
        return dict(arguments)
    parsed = json.loads(arguments) if arguments.strip() else {}
    if not isinstance(parsed, dict):
        raise ValueError("tool arguments must be a JSON object")
    return parsed


def canonical_value(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, Mapping):
        return {str(key): canonical_value(item) for key, item in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [canonical_value(item) for item in value]
    return value


def canonical_arguments(arguments: str | Mapping[str, Any] | None) -> str:
    """The key text of a call's arguments: equal for calls that differ only in form."""
    return canonical_json(canonical_value(parse_arguments(arguments)))


def _renamed(value: Any, renames: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {renames.get(key, key): _renamed(item, renames) for key, item in value.items()}
    if isinstance(value, list):
        return [_renamed(item, renames) for item in value]
    return value


def canonical_output(text: str | None, renames: Mapping[str, str] = RENAMED_KEYS) -> tuple[str, Any]:
    """What two outputs must share to count as the same; see the module docstring."""
    if text is None:
        return ("text", "")
    try:
        return ("json", _renamed(json.loads(text), renames))
    except ValueError:
        return ("text", text.strip())


def outputs_match(
    simulated: str | None, recorded: str | None, renames: Mapping[str, str] = RENAMED_KEYS
) -> bool:
    return canonical_output(simulated, renames) == canonical_output(recorded, renames)
