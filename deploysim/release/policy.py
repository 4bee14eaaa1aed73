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


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")
    warn_fold_increase: float = Field(gt=1.0)
    block_fold_increase: float = Field(gt=1.0)


class GatePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    policy_version: int
    alpha: float = Field(gt=0.0, lt=1.0)
    min_paired_prefixes: int = Field(ge=1)
    #: Share of the candidate's answered prefixes the prior control must also answer to vouch for them.
    min_control_coverage: float = Field(ge=0.0, le=1.0)
    #: Judge significance on Benjamini-Hochberg adjusted p-values across the gate's categories.
    benjamini_hochberg: bool = False
    default: Thresholds
    categories: dict[str, Thresholds] = {}

    def for_category(self, category: str) -> Thresholds:
        return self.categories.get(category, self.default)


def load_policy(path: Path) -> GatePolicy:
    with path.open() as handle:
        return GatePolicy.model_validate(yaml.safe_load(handle))
