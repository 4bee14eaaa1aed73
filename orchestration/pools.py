#: DuckDB takes one writer at a time: every step that opens the database holds a slot of this pool.
#: The instance's dagster.yaml limits it to one (`concurrency: pools: default_limit: 1`).
DUCKDB_POOL = "duckdb"
