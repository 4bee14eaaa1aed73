"""What a materialization was computed from: the upstream materializations of the same partition it read,
and the run's lineage facts they carried (sample, endpoints, evaluators, spend), so every downstream page in
the UI answers "from what?" without walking the graph."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import dagster as dg

from assets.metadata import markdown_table

#: Facts recorded where they arise and carried down the chain to the gate.
CARRIED = (
    "sample.seed",
    "sample.size",
    "endpoint",
    "prior.endpoint",
    "simulation.total_tokens",
    "simulation.cost_usd",
    "evaluator_versions",
    "judge_endpoint",
)


def lineage(context: dg.AssetExecutionContext) -> dict[str, Any]:
    """`computed_from` (one row per upstream asset) plus the carried facts found upstream."""
    rows: list[dict[str, Any]] = []
    carried: dict[str, Any] = {}
    partition = context.partition_key
    for key in sorted(context.assets_def.dependency_keys, key=lambda k: k.to_user_string()):
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition]), limit=1
        ).records
        if not records:
            # An unpartitioned upstream (evaluator validation) counts; another version's partition does not.
            latest = context.instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key), limit=1)
            records = [r for r in latest.records if r.partition_key is None]
        if not records:
            rows.append({"asset": key.to_user_string(), "partition": partition, "run": "never materialized"})
            continue
        record = records[0]
        metadata = record.asset_materialization.metadata if record.asset_materialization else {}
        row_count = metadata.get("dagster/row_count")
        when = datetime.fromtimestamp(record.timestamp, UTC)
        rows.append(
            {
                "asset": key.to_user_string(),
                "partition": record.partition_key or "-",
                "run": record.run_id,
                "materialized_at": when.isoformat(timespec="seconds"),
                "rows": row_count.value if row_count is not None else "-",
            }
        )
        for name in CARRIED:
            if name in metadata and name not in carried:
                carried[name] = metadata[name]
    return {"computed_from": markdown_table(rows), **carried}
