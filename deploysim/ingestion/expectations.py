"""Table-level data-quality expectations on a window of conversations, run with Great Expectations 1.x.

GX takes seconds to import, so it is imported inside the functions, never at module load.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from pydantic import BaseModel

from deploysim.core.conversation import ROLE_ORDER_PATTERN

CONVERSATION_COLUMNS = [
    "partition_key",
    "conversation_id",
    "model_version",
    "started_at",
    "surface",
    "locale",
    "messages",
    "tools",
    "n_messages",
    "role_sequence",
    "pii_entities",
]


class ExpectationOutcome(BaseModel):
    expectation: str
    column: str | None
    success: bool
    unexpected_count: int | None
    partial_unexpected: list[Any] = []


class QualityReport(BaseModel):
    suite: str
    success: bool
    rows: int
    outcomes: list[ExpectationOutcome]

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]


def _validate(frame: pd.DataFrame, suite_name: str, expectations: list[Any]) -> QualityReport:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas(f"{suite_name}_source")
        .add_dataframe_asset(suite_name)
        .add_batch_definition_whole_dataframe("whole_table")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    suite = gx.ExpectationSuite(name=suite_name)
    for expectation in expectations:
        suite.add_expectation(expectation)
    result = batch.validate(suite)
    outcomes = []
    for item in result.results:
        config = item.expectation_config
        details = item.result or {}
        outcomes.append(
            ExpectationOutcome(
                expectation=config.type,
                column=config.kwargs.get("column"),
                success=bool(item.success),
                unexpected_count=details.get("unexpected_count"),
                partial_unexpected=[str(v)[:80] for v in details.get("partial_unexpected_list", [])[:5]],
            )
        )
    return QualityReport(suite=suite_name, success=bool(result.success), rows=len(frame), outcomes=outcomes)


def validate_conversations(frame: pd.DataFrame) -> QualityReport:
    """Schema, unique ids, non-empty messages and a valid role order for one window of conversations."""
    import great_expectations.expectations as gxe

    # GX reroutes Python warnings into logging; keep its chatter out of run logs.
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    expectations = [
        gxe.ExpectTableColumnsToMatchSet(column_set=CONVERSATION_COLUMNS, exact_match=True),
        gxe.ExpectColumnValuesToBeUnique(column="conversation_id"),
        gxe.ExpectColumnValuesToNotBeNull(column="messages"),
        gxe.ExpectColumnValuesToBeBetween(column="n_messages", min_value=2),
        gxe.ExpectColumnValuesToMatchRegex(column="role_sequence", regex=ROLE_ORDER_PATTERN),
        gxe.ExpectColumnValuesToNotBeNull(column="model_version"),
        gxe.ExpectColumnValuesToNotBeNull(column="started_at"),
    ]
    return _validate(frame, "conversations", expectations)
