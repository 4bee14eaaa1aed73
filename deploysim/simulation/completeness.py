"""The regeneration stage's contract: every sampled prefix ends as exactly one row per arm."""

from __future__ import annotations

import duckdb
from pydantic import BaseModel

from deploysim.core.arms import SIMULATED, Arm


class Completeness(BaseModel):
    prefixes: int
    missing_results: int
    duplicated_results: int

    @property
    def complete(self) -> bool:
        return self.prefixes > 0 and self.missing_results == 0 and self.duplicated_results == 0


def regeneration_completeness(
    con: duckdb.DuckDBPyConnection, partition_key: str, arms: tuple[Arm, ...] = SIMULATED
) -> Completeness:
    """Every sampled prefix must have exactly one result (response or recorded failure) in every arm."""
    prefixes, missing, duplicated = con.execute(
        """
        WITH expected AS (
            SELECT p.conversation_id, a.arm FROM prefixes p, (SELECT unnest($2) AS arm) a
            WHERE p.partition_key = $1
        ), got AS (
            SELECT conversation_id, arm, count(*) AS n FROM regenerations
            WHERE partition_key = $1 GROUP BY ALL
        )
        SELECT (SELECT count(*) FROM prefixes WHERE partition_key = $1),
               (SELECT count(*) FROM expected LEFT JOIN got USING (conversation_id, arm) WHERE got.n IS NULL),
               (SELECT count(*) FROM got WHERE n > 1)
        """,
        [partition_key, [str(arm) for arm in arms]],
    ).fetchone()
    return Completeness(prefixes=prefixes, missing_results=missing, duplicated_results=duplicated)
