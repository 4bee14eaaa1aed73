"""One module per pipeline stage: plain functions over DuckDB that the Dagster assets call."""
