"""Creating the tables and swapping a partition's rows in one transaction."""

from __future__ import annotations

import duckdb
import pandas as pd

from deploysim.store.schema import TABLES


def columns_of(table: str) -> list[str]:
    return TABLES[table].names


def ensure_table(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Create one table; a database from an older release gains the columns added since, and loses
    NOT NULL where a column has become optional or is no longer written."""
    table = TABLES[name]
    con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({table.ddl})")
    existing = dict(
        con.execute(
            "SELECT column_name, is_nullable FROM information_schema.columns WHERE table_name = ?", [name]
        ).fetchall()
    )
    for column in table.columns:
        if column.name not in existing:
            con.execute(f"ALTER TABLE {name} ADD COLUMN {column.name} {column.type}")
        elif not column.required and existing[column.name] == "NO":
            con.execute(f"ALTER TABLE {name} ALTER COLUMN {column.name} DROP NOT NULL")
    for retired in set(existing) - set(table.names):
        # A column an older release wrote and this one no longer fills: kept, but no longer required.
        if existing[retired] == "NO" and retired not in table.primary_key:
            con.execute(f"ALTER TABLE {name} ALTER COLUMN {retired} DROP NOT NULL")


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for name in TABLES:
        ensure_table(con, name)


def replace_partition(
    con: duckdb.DuckDBPyConnection, table: str, partition_key: str | None, frame: pd.DataFrame
) -> int:
    """Swap a partition's rows in one transaction, so a rerun never leaves duplicates or half a partition."""
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
