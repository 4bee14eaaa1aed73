"""The versioned release-gate policy: significance level, thresholds per category, coverage required."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field


class Verdict(StrEnum):
    PASS = "pass"
    WARN = "warn"
    BLOCK = "block"
    #: The simulation is incomplete (the candidate answered too few prefixes): there is nothing to judge.
    ERROR = "error"


class Thresholds(BaseModel):
    """A warning or a block needs a significant increase of at least this fold and this absolute size."""

    model_config = ConfigDict(extra="forbid")
    warn_fold_increase: float = Field(gt=1.0)
    block_fold_increase: float = Field(gt=1.0)
    #: The smallest rise, candidate minus prior simulated, per 100k turns, that can warn or block.
    min_abs_change_per_100k: float = Field(default=1_000.0, ge=0.0)


class AuditRule(BaseModel):
    """When an evaluator's verdicts need this release's own audit before they may block it."""

    model_config = ConfigDict(extra="forbid")
    #: A BLOCK needs the category's evaluator validated held-out at these levels, or a labelled audit.
    require_to_block: bool = True
    min_heldout_agreement: float = Field(default=0.9, ge=0.0, le=1.0)
    min_heldout_precision: float = Field(default=0.8, ge=0.0, le=1.0)


class GatePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    policy_version: int
    alpha: float = Field(gt=0.0, lt=1.0)
    min_paired_prefixes: int = Field(ge=1)
    #: Share of the candidate's answered prefixes the prior control must also answer to vouch for them.
    min_control_coverage: float = Field(ge=0.0, le=1.0)
    #: Share of the sampled prefixes the candidate must answer, or the verdict is ERROR: a gate never
    #: passes, or even warns, on missing answers.
    min_candidate_success: float = Field(default=0.8, ge=0.0, le=1.0)
    #: Judge significance on Benjamini-Hochberg adjusted p-values across the gate's categories.
    benjamini_hochberg: bool = False
    default: Thresholds
    categories: dict[str, Thresholds] = {}
    audit: AuditRule = AuditRule()

    def for_category(self, category: str) -> Thresholds:
        return self.categories.get(category, self.default)


def load_policy(path: Path) -> GatePolicy:
    with path.open() as handle:
        return GatePolicy.model_validate(yaml.safe_load(handle))
