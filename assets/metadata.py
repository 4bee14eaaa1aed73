"""Materialization metadata that a data engineer can read in the UI."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg

from deploysim.core.releases import Release
from deploysim.reporting.markdown import records_table


def release_metadata(release: Release, prior: Release) -> dict[str, Any]:
    return {"model_version": release.version, "prior_version": prior.version}


def markdown_table(rows: Sequence[Mapping[str, Any]]) -> dg.MetadataValue:
    return dg.MetadataValue.md(records_table(rows))
