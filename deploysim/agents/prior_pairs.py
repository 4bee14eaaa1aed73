"""Prior tool-call/response pairs: exact hits by canonical arguments, near hits as examples for a simulator.

Keyed by tool name and ``canonical_arguments``. A key recorded with several outputs (state changed between
calls, e.g. a reservation read before and after its cancellation) answers with the output recorded most
often, the earliest among equals, and says how many distinct outputs it has seen.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from deploysim.agents.canonical import canonical_arguments
from deploysim.agents.trajectories import RecordedCall


@dataclass(frozen=True)
class PriorPair:
    tool: str
    key: str
    output: str
    source: str
    #: How many recorded calls share this tool and key, and how many distinct outputs they returned.
    recorded: int = 1
    variants: int = 1


@dataclass(frozen=True)
class NearHit:
    pair: PriorPair
    similarity: float


class PriorPairs:
    def __init__(self, calls: Iterable[RecordedCall]) -> None:
        grouped: dict[tuple[str, str], list[RecordedCall]] = defaultdict(list)
        for call in calls:
            try:
                key = canonical_arguments(call.arguments)
            except ValueError:
                continue
            grouped[(call.tool, key)].append(call)
        self._pairs: dict[tuple[str, str], PriorPair] = {}
        self._by_tool: dict[str, list[PriorPair]] = defaultdict(list)
        for (tool, key), recorded in grouped.items():
            counts = Counter(call.output for call in recorded)
            output = max(counts, key=lambda text: (counts[text], -_first(recorded, text)))
            chosen = recorded[_first(recorded, output)]
            pair = PriorPair(
                tool, key, output, f"{chosen.source}, call {chosen.position}", len(recorded), len(counts)
            )
            self._pairs[(tool, key)] = pair
            self._by_tool[tool].append(pair)

    def __len__(self) -> int:
        return len(self._pairs)

    def tools(self) -> list[str]:
        return sorted(self._by_tool)

    def lookup(self, tool: str, arguments: str | dict[str, Any]) -> PriorPair | None:
        return self._pairs.get((tool, canonical_arguments(arguments)))

    def nearest(self, tool: str, arguments: str | dict[str, Any], k: int = 3) -> list[NearHit]:
        """Up to ``k`` distinct recorded argument sets of the same tool, most similar first."""
        wanted = _leaves(json.loads(canonical_arguments(arguments)))
        scored = [
            NearHit(pair, round(_similarity(wanted, _leaves(json.loads(pair.key))), 6))
            for pair in self._by_tool.get(tool, [])
        ]
        scored.sort(key=lambda hit: (-hit.similarity, hit.pair.key))
        return scored[:k]


def _first(recorded: list[RecordedCall], output: str) -> int:
    return next(index for index, call in enumerate(recorded) if call.output == output)


def _leaves(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_leaves(item, f"{path}.{key}" if path else key))
        return out
    if isinstance(value, list):
        out = {}
        for index, item in enumerate(value):
            out.update(_leaves(item, f"{path}[{index}]"))
        return out or {path: []}
    return {path: value}


def _leaf_similarity(left: Any, right: Any) -> float:
    if left == right and type(left) is type(right):
        return 1.0
    if isinstance(left, str) and isinstance(right, str):
        return SequenceMatcher(None, left, right).ratio()
    numbers = (int, float)
    if isinstance(left, numbers) and isinstance(right, numbers) and not isinstance(left, bool):
        scale = max(abs(left), abs(right))
        return 1.0 - abs(left - right) / scale if scale else 1.0
    return 0.0


def _similarity(left: dict[str, Any], right: dict[str, Any]) -> float:
    """Mean leaf similarity over the union of argument paths; a path only one side has scores 0."""
    paths = set(left) | set(right)
    if not paths:
        return 1.0
    shared = set(left) & set(right)
    return sum(_leaf_similarity(left[path], right[path]) for path in shared) / len(paths)
