"""De-identify the values of a JSON text, never its keys.

Tool-call arguments and tool outputs are JSON; their keys are names from a schema (``order_id``), which a
detector may take for a person or a place and mask into ``{"<PERSON_1>": "1042"}``, breaking the call.
A text that parses as a JSON object or array is therefore de-identified value by value: each string value
is decoded and handed over on its own (so an escaped newline no longer hides a phone number), and each
number as written; keys, punctuation and spacing are kept exactly, and an unchanged value keeps its
original spelling. Any other text is handed over whole.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_SPACE = re.compile(r"\s*")


def _value_tokens(text: str) -> list[tuple[int, int, bool]] | None:
    """(start, end, is_string) of every non-empty string value and every number, in order; None when the
    text is not a JSON object or array."""
    if text.lstrip()[:1] not in ("{", "["):
        return None
    try:
        json.loads(text)
    except ValueError:
        return None
    tokens: list[tuple[int, int, bool]] = []
    position = 0
    # In valid JSON every quote opens or closes a string, so strings are found left to right and
    # numbers can only stand in the gaps between them.
    for match in _STRING.finditer(text):
        tokens += _numbers_between(text, position, match.start())
        position = match.end()
        after = _SPACE.match(text, position).end()  # type: ignore[union-attr]
        is_key = text[after : after + 1] == ":"
        if not is_key and match.end() - match.start() > 2:
            tokens.append((match.start(), match.end(), True))
    return tokens + _numbers_between(text, position, len(text))


def _numbers_between(text: str, start: int, end: int) -> list[tuple[int, int, bool]]:
    return [(m.start(), m.end(), False) for m in _NUMBER.finditer(text, start, end)]


def is_json_container(text: str) -> bool:
    return _value_tokens(text) is not None


def text_units(text: str) -> list[str]:
    """What a detector is shown of `text`, in order: its JSON values, or the text itself."""
    tokens = _value_tokens(text)
    if tokens is None:
        return [text]
    return [json.loads(text[start:end]) if is_string else text[start:end] for start, end, is_string in tokens]


def map_units(text: str, replace: Callable[[str], str]) -> str:
    """`replace` applied to each of `text_units(text)`, in the same order, and written back in place."""
    tokens = _value_tokens(text)
    if tokens is None:
        return replace(text)
    parts: list[str] = []
    last = 0
    for start, end, is_string in tokens:
        token = text[start:end]
        value = json.loads(token) if is_string else token
        cleaned = replace(value)
        parts.append(text[last:start])
        # A masked number becomes a string: a placeholder is not a number.
        parts.append(token if cleaned == value else json.dumps(cleaned, ensure_ascii=token.isascii()))
        last = end
    parts.append(text[last:])
    return "".join(parts)
