"""The simulated tool layer's grounded core: every call is answered without touching a live system.

Resolution order for a call: a connector (read-only, over the snapshot through the rollout's overlay), a
write tool (applied to the overlay only), an exact prior pair, else unresolved with the nearest prior pairs
as examples for a model-based simulator. Each result names its provenance.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from deploysim.agents.canonical import parse_arguments
from deploysim.agents.connectors import READ_ONLY
from deploysim.agents.overlay import Overlay
from deploysim.agents.prior_pairs import NearHit, PriorPairs
from deploysim.agents.snapshot import Snapshot
from deploysim.agents.writes import WRITES


class Provenance(StrEnum):
    #: A read-only connector over the snapshot alone.
    CONNECTOR = "connector"
    #: A read that saw this rollout's own writes, or a write applied to the overlay.
    OVERLAY = "overlay"
    #: The output recorded for the same tool and canonical arguments.
    PRIOR_PAIR = "prior_pair"
    #: Nothing grounded answers it; ``examples`` holds the nearest prior pairs.
    UNRESOLVED = "unresolved"


@dataclass(frozen=True)
class ToolResult:
    tool: str
    output: str | None
    provenance: Provenance
    #: For a prior pair, where it was recorded.
    source: str = ""
    examples: tuple[NearHit, ...] = field(default_factory=tuple)

    @property
    def is_error(self) -> bool:
        return (self.output or "").startswith("Error:")


def known_tools() -> list[str]:
    return sorted({*READ_ONLY, *WRITES})


class Rollout:
    """One replayed conversation's tool state: its overlay is its own, the snapshot is shared."""

    def __init__(self, snapshot: Snapshot, prior_pairs: PriorPairs | None, examples: int) -> None:
        self.state = Overlay(snapshot)
        self._prior_pairs = prior_pairs
        self._examples = examples

    def call(self, tool: str, arguments: str | Mapping[str, Any] | None = None) -> ToolResult:
        handler = READ_ONLY.get(tool) or WRITES.get(tool)
        if handler is None:
            return self._from_prior_pairs(tool, arguments)
        self.state.reset_touched()
        try:
            # A copy, so the overlay never aliases the caller's objects.
            kwargs = copy.deepcopy(parse_arguments(arguments))
            output = handler(self.state, **kwargs)
        except Exception as error:
            # The real environment reports any failure of a tool as its text.
            output = f"Error: {error}"
        overlaid = tool in WRITES or self.state.touched
        return ToolResult(tool, output, Provenance.OVERLAY if overlaid else Provenance.CONNECTOR)

    def _from_prior_pairs(self, tool: str, arguments: str | Mapping[str, Any] | None) -> ToolResult:
        if self._prior_pairs is None:
            return ToolResult(tool, None, Provenance.UNRESOLVED)
        try:
            key_arguments = parse_arguments(arguments)
        except ValueError as error:
            return ToolResult(tool, f"Error: {error}", Provenance.UNRESOLVED)
        hit = self._prior_pairs.lookup(tool, key_arguments)
        if hit is not None:
            return ToolResult(tool, hit.output, Provenance.PRIOR_PAIR, source=hit.source)
        examples = tuple(self._prior_pairs.nearest(tool, key_arguments, self._examples))
        return ToolResult(tool, None, Provenance.UNRESOLVED, examples=examples)


class ToolLayer:
    """Shared by every rollout of a run: the snapshot and the prior pairs are read-only."""

    def __init__(self, snapshot: Snapshot, prior_pairs: PriorPairs | None = None, examples: int = 3) -> None:
        self.snapshot = snapshot
        self.prior_pairs = prior_pairs
        self.examples = examples

    def rollout(self) -> Rollout:
        return Rollout(self.snapshot, self.prior_pairs, self.examples)
