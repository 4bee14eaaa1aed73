"""Stage 6: backtest the simulation on every past release known by the time of this one."""

from __future__ import annotations

import duckdb
from pydantic import BaseModel

from deploysim.backtest import backtest_pairs, summarize, with_calibration
from deploysim.store import replace_partition


class BacktestSummary(BaseModel):
    releases: list[str]
    summary: dict[str, float | int | None]
    pairs: list[dict]


def run_backtest(
    con: duckdb.DuckDBPyConnection, partition_key: str, release_order: list[str], min_n: int = 20
) -> BacktestSummary:
    """Uses only partitions up to this release, so a candidate's backtest never sees its own future.

    `release_order` lists the simulated releases oldest first; this partition must be among them.
    """
    known = release_order[: release_order.index(partition_key) + 1]
    rates = con.execute(
        "SELECT * FROM behavior_rates WHERE partition_key IN (SELECT unnest(?))", [known]
    ).df()
    pairs = with_calibration(backtest_pairs(rates, known, min_n=min_n))
    frame = pairs.copy()
    frame.insert(0, "partition_key", partition_key)
    replace_partition(con, "backtest", partition_key, frame)
    return BacktestSummary(
        releases=sorted(set(pairs["release"])) if len(pairs) else [],
        summary=summarize(pairs),
        pairs=pairs.round(3).to_dict("records"),
    )
