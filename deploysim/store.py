"""DuckDB tables of the pipeline. One row per conversation, prefix, response or score; never a partition."""

from __future__ import annotations

import duckdb
import pandas as pd

from deploysim.models.cache import CACHE_DDL

TABLES: dict[str, str] = {
    "conversations": """
        partition_key VARCHAR NOT NULL,
        conversation_id VARCHAR NOT NULL,
        model_version VARCHAR NOT NULL,
        started_at TIMESTAMPTZ NOT NULL,
        surface VARCHAR NOT NULL,
        locale VARCHAR NOT NULL,
        messages JSON NOT NULL,
        tools JSON,
        n_messages INTEGER NOT NULL,
        role_sequence VARCHAR NOT NULL,
        pii_entities INTEGER NOT NULL,
        PRIMARY KEY (partition_key, conversation_id)
    """,
    "quarantine": """
        partition_key VARCHAR,
        source VARCHAR NOT NULL,
        line_no INTEGER NOT NULL,
        conversation_id VARCHAR,
        reason VARCHAR NOT NULL,
        excerpt VARCHAR NOT NULL
    """,
    "prefixes": """
        partition_key VARCHAR NOT NULL,
        conversation_id VARCHAR NOT NULL,
        prefix_hash VARCHAR NOT NULL,
        surface VARCHAR NOT NULL,
        production_model VARCHAR NOT NULL,
        messages JSON NOT NULL,
        tools JSON,
        production_response JSON NOT NULL,
        PRIMARY KEY (partition_key, conversation_id)
    """,
    "regenerations": """
        partition_key VARCHAR NOT NULL,
        arm VARCHAR NOT NULL,
        model_version VARCHAR NOT NULL,
        conversation_id VARCHAR NOT NULL,
        prefix_hash VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        content VARCHAR,
        tool_calls JSON,
        redacted_entities JSON,
        finish_reason VARCHAR,
        error_class VARCHAR,
        error_message VARCHAR,
        prompt_tokens INTEGER,
        completion_tokens INTEGER,
        latency_ms DOUBLE,
        cached BOOLEAN NOT NULL,
        attempts INTEGER NOT NULL,
        PRIMARY KEY (partition_key, arm, conversation_id)
    """,
    "model_usage": """
        partition_key VARCHAR NOT NULL,
        arm VARCHAR NOT NULL,
        model_version VARCHAR NOT NULL,
        endpoint VARCHAR NOT NULL,
        prefixes INTEGER NOT NULL,
        ok INTEGER NOT NULL,
        calls INTEGER NOT NULL,
        cached_calls INTEGER NOT NULL,
        attempts INTEGER NOT NULL,
        prompt_tokens BIGINT NOT NULL,
        completion_tokens BIGINT NOT NULL,
        cost_usd DOUBLE NOT NULL,
        failures JSON NOT NULL,
        latency_p50_ms DOUBLE,
        latency_p95_ms DOUBLE,
        latency_p99_ms DOUBLE,
        wall_s DOUBLE NOT NULL,
        PRIMARY KEY (partition_key, arm)
    """,
    "scores": """
        partition_key VARCHAR NOT NULL,
        arm VARCHAR NOT NULL,
        model_version VARCHAR NOT NULL,
        conversation_id VARCHAR NOT NULL,
        surface VARCHAR NOT NULL,
        in_sample BOOLEAN NOT NULL,
        evaluator VARCHAR NOT NULL,
        evaluator_version VARCHAR NOT NULL,
        category VARCHAR NOT NULL,
        label BOOLEAN,
        detail VARCHAR,
        score DOUBLE,
        rationale VARCHAR,
        error VARCHAR
    """,
    "evaluator_validation": """
        partition_key VARCHAR,
        evaluator VARCHAR NOT NULL,
        evaluator_version VARCHAR NOT NULL,
        category VARCHAR NOT NULL,
        dataset VARCHAR NOT NULL,
        subset VARCHAR NOT NULL,
        n INTEGER NOT NULL,
        tp INTEGER NOT NULL,
        fp INTEGER NOT NULL,
        fn INTEGER NOT NULL,
        tn INTEGER NOT NULL,
        agreement DOUBLE,
        agreement_low DOUBLE,
        agreement_high DOUBLE,
        precision DOUBLE,
        precision_low DOUBLE,
        precision_high DOUBLE,
        sensitivity DOUBLE,
        sensitivity_low DOUBLE,
        sensitivity_high DOUBLE,
        specificity DOUBLE,
        specificity_low DOUBLE,
        specificity_high DOUBLE
    """,
    "behavior_rates": """
        partition_key VARCHAR NOT NULL,
        arm VARCHAR NOT NULL,
        model_version VARCHAR NOT NULL,
        evaluator VARCHAR NOT NULL,
        evaluator_version VARCHAR NOT NULL,
        category VARCHAR NOT NULL,
        surface VARCHAR NOT NULL,
        count INTEGER NOT NULL,
        n INTEGER NOT NULL,
        rate_per_100k DOUBLE NOT NULL,
        ci_low_per_100k DOUBLE,
        ci_high_per_100k DOUBLE,
        jeffreys_low_per_100k DOUBLE,
        jeffreys_high_per_100k DOUBLE,
        rule_of_three_upper_per_100k DOUBLE,
        corrected_per_100k DOUBLE,
        corrected_low_per_100k DOUBLE,
        corrected_high_per_100k DOUBLE
    """,
    "change_tests": """
        partition_key VARCHAR NOT NULL,
        category VARCHAR NOT NULL,
        n_paired INTEGER NOT NULL,
        candidate_count INTEGER NOT NULL,
        prior_count INTEGER NOT NULL,
        fisher_odds_ratio DOUBLE,
        fisher_p DOUBLE,
        candidate_only INTEGER NOT NULL,
        prior_only INTEGER NOT NULL,
        mcnemar_p DOUBLE,
        alpha DOUBLE NOT NULL,
        production_count INTEGER NOT NULL,
        fisher_p_bh DOUBLE,
        mcnemar_p_bh DOUBLE
    """,
    "backtest": """
        partition_key VARCHAR NOT NULL,
        release VARCHAR NOT NULL,
        prior_version VARCHAR NOT NULL,
        surface VARCHAR NOT NULL,
        category VARCHAR NOT NULL,
        forecast_per_100k DOUBLE NOT NULL,
        observed_per_100k DOUBLE NOT NULL,
        prior_observed_per_100k DOUBLE NOT NULL,
        prior_simulated_per_100k DOUBLE NOT NULL,
        forecast_n INTEGER NOT NULL,
        observed_n INTEGER NOT NULL,
        fold_error DOUBLE NOT NULL,
        persistence_fold_error DOUBLE NOT NULL,
        predicted_direction INTEGER NOT NULL,
        observed_direction INTEGER NOT NULL,
        moved BOOLEAN NOT NULL,
        calibration_factor DOUBLE,
        calibrated_per_100k DOUBLE,
        calibrated_fold_error DOUBLE
    """,
    "eval_awareness": """
        partition_key VARCHAR NOT NULL,
        probe_version VARCHAR NOT NULL,
        probed_model VARCHAR NOT NULL,
        suite VARCHAR NOT NULL,
        item_id VARCHAR NOT NULL,
        phrasing VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        label VARCHAR,
        confidence DOUBLE,
        error VARCHAR,
        PRIMARY KEY (partition_key, suite, item_id, phrasing)
    """,
    "eval_awareness_verdicts": """
        partition_key VARCHAR NOT NULL PRIMARY KEY,
        probe_version VARCHAR NOT NULL,
        probed_model VARCHAR NOT NULL,
        verdict VARCHAR NOT NULL,
        summary VARCHAR NOT NULL,
        replayed_share DOUBLE,
        production_share DOUBLE,
        fisher_p DOUBLE,
        mcnemar_p DOUBLE,
        n_pairs INTEGER NOT NULL
    """,
    "release_gates": """
        partition_key VARCHAR PRIMARY KEY,
        verdict VARCHAR NOT NULL,
        gate JSON NOT NULL,
        markdown VARCHAR NOT NULL
    """,
}


def column_definitions(table: str) -> list[tuple[str, str]]:
    """(name, type) of each declared column, constraints left out."""
    definitions = []
    for line in TABLES[table].strip().splitlines():
        if line.strip().startswith("PRIMARY"):
            continue
        name, *rest = line.strip().rstrip(",").split()
        definitions.append((name, " ".join(rest).replace("NOT NULL", "").replace("PRIMARY KEY", "").strip()))
    return definitions


def columns_of(table: str) -> list[str]:
    return [name for name, _ in column_definitions(table)]


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables; a database from an older release gains the columns added since."""
    for name, columns in TABLES.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({columns})")
        existing = dict(
            con.execute(
                "SELECT column_name, is_nullable FROM information_schema.columns WHERE table_name = ?", [name]
            ).fetchall()
        )
        required = {
            line.split()[0]
            for line in columns.strip().splitlines()
            if "NOT NULL" in line or "PRIMARY" in line
        }
        for line in columns.strip().splitlines():  # PRIMARY KEY (a, b): key columns are NOT NULL too
            if line.strip().startswith("PRIMARY KEY"):
                required |= {c.strip() for c in line.split("(", 1)[1].rstrip("),").split(",")}
        for column, kind in column_definitions(name):
            if column not in existing:
                con.execute(f"ALTER TABLE {name} ADD COLUMN {column} {kind}")
            elif column not in required and existing[column] == "NO":
                con.execute(f"ALTER TABLE {name} ALTER COLUMN {column} DROP NOT NULL")
    con.execute(CACHE_DDL)


def replace_partition(
    con: duckdb.DuckDBPyConnection, table: str, partition_key: str | None, frame: pd.DataFrame
) -> int:
    """Swap a partition's rows in one transaction, so a rerun never leaves duplicates or half a partition."""
    if table not in TABLES:
        raise KeyError(table)
    columns = columns_of(table)
    missing = set(columns) - set(frame.columns)
    if missing and len(frame):
        raise ValueError(f"{table}: frame lacks columns {sorted(missing)}")
    con.execute("BEGIN TRANSACTION")
    try:
        if partition_key is None:
            con.execute(f"DELETE FROM {table} WHERE partition_key IS NULL")
        else:
            con.execute(f"DELETE FROM {table} WHERE partition_key = ?", [partition_key])
        if len(frame):
            con.register("_incoming", frame[columns])
            names = ", ".join(columns)
            con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM _incoming")
            con.unregister("_incoming")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return len(frame)
