"""Connector fidelity: replay recorded agent trajectories through the tool layer and compare outputs.

Each trajectory gets a fresh rollout; its calls run in recorded order, so its own earlier writes are in the
overlay when a later read runs. Read-only calls are scored against the recorded output under
``canonical.outputs_match``; writes are scored too, separately. Every mismatch gets a class from
``mismatch_class`` so a report can explain each one.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from deploysim.agents.canonical import RENAMED_KEYS, canonical_output, outputs_match
from deploysim.agents.connectors import READ_ONLY
from deploysim.agents.simulator import Provenance, ToolLayer
from deploysim.agents.trajectories import RecordedCall, trajectory_calls
from deploysim.agents.writes import WRITES


@dataclass(frozen=True)
class Mismatch:
    source: str
    position: int
    tool: str
    arguments: str
    kind: str
    detail: str


@dataclass
class FidelityReport:
    reads: int = 0
    reads_matched: int = 0
    reads_exact: int = 0
    #: Reads that saw the rollout's own earlier writes, and how many of those matched.
    reads_overlay: int = 0
    reads_overlay_matched: int = 0
    #: Matched writes that a fresh rollout (no earlier writes) would have answered differently.
    writes_needing_overlay: int = 0
    writes: int = 0
    writes_matched: int = 0
    by_tool: Counter[str] = field(default_factory=Counter)
    matched_by_tool: Counter[str] = field(default_factory=Counter)
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def read_rate(self) -> float:
        return self.reads_matched / self.reads if self.reads else 0.0

    @property
    def write_rate(self) -> float:
        return self.writes_matched / self.writes if self.writes else 0.0

    def classes(self, *, writes: bool = False) -> Counter[str]:
        return Counter(m.kind for m in self.mismatches if (m.tool in WRITES) == writes)


def replay(
    trajectories: Iterable[Mapping[str, Any]],
    layer: ToolLayer,
    renames: Mapping[str, str] = RENAMED_KEYS,
) -> FidelityReport:
    """``renames``: the key renames the comparison forgives; pass ``{}`` for the strict figure."""
    report = FidelityReport()
    for calls in trajectory_calls(trajectories):
        rollout = layer.rollout()
        for call in calls:
            result = rollout.call(call.tool, call.arguments)
            _score(report, call, result.output, renames)
            if call.tool in READ_ONLY and result.provenance is Provenance.OVERLAY:
                report.reads_overlay += 1
                report.reads_overlay_matched += outputs_match(result.output, call.output, renames)
            if call.tool in WRITES and outputs_match(result.output, call.output, renames):
                alone = layer.rollout().call(call.tool, call.arguments).output
                report.writes_needing_overlay += not outputs_match(alone, call.output, renames)
    return report


def _score(
    report: FidelityReport, call: RecordedCall, simulated: str | None, renames: Mapping[str, str]
) -> None:
    matched = outputs_match(simulated, call.output, renames)
    if call.tool in READ_ONLY:
        report.reads += 1
        report.by_tool[call.tool] += 1
        report.reads_matched += matched
        report.matched_by_tool[call.tool] += matched
        report.reads_exact += simulated == call.output
    elif call.tool in WRITES:
        report.writes += 1
        report.writes_matched += matched
    if not matched:
        kind, detail = mismatch_class(simulated, call.output, renames)
        report.mismatches.append(
            Mismatch(call.source, call.position, call.tool, call.arguments, kind, detail)
        )


def mismatch_class(
    simulated: str | None, recorded: str, renames: Mapping[str, str] = RENAMED_KEYS
) -> tuple[str, str]:
    """A short class name and the first differing path with both values."""
    left, right = canonical_output(simulated, renames), canonical_output(recorded, renames)
    left_error, right_error = _is_error(simulated), _is_error(recorded)
    if left_error and right_error:
        return "different error", f"{simulated!r} vs recorded {recorded!r}"
    if left_error != right_error:
        return "error vs result", f"{(simulated or '')[:120]!r} vs recorded {recorded[:120]!r}"
    if left[0] != right[0]:
        return "json vs text", f"{(simulated or '')[:120]!r} vs recorded {recorded[:120]!r}"
    path, ours, theirs = _first_difference(left[1], right[1])
    return f"value differs at {_generic(path)}", f"{path}: {ours!r} vs recorded {theirs!r}"


def _is_error(text: str | None) -> bool:
    return (text or "").startswith("Error")


def _first_difference(left: Any, right: Any, path: str = "$") -> tuple[str, Any, Any]:
    if isinstance(left, dict) and isinstance(right, dict):
        for key in sorted(set(left) | set(right)):
            if key not in left or key not in right:
                return f"{path}.{key}", left.get(key, "<absent>"), right.get(key, "<absent>")
            if left[key] != right[key]:
                return _first_difference(left[key], right[key], f"{path}.{key}")
    if isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            return f"{path}.length", len(left), len(right)
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            if a != b:
                return _first_difference(a, b, f"{path}[{index}]")
    return path, _short(left), _short(right)


def _short(value: Any) -> Any:
    text = json.dumps(value)
    return value if len(text) <= 120 else text[:117] + "..."


def _generic(path: str) -> str:
    """A path with list indices and record ids folded, so one cause counts as one class."""
    parts = []
    for part in path.replace("[", ".[").split("."):
        if part.startswith("["):
            parts.append("[]")
        elif any(char.isdigit() for char in part) and part not in {"$"}:
            parts.append("<id>")
        else:
            parts.append(part)
    return ".".join(parts).replace(".[]", "[]")
