import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import Field, PrivateAttr

from deploysim.store.tables import ensure_schema
from deploysim.store.turns import IN_MEMORY, turn

#: Database files (path, inode) whose schema this process has already ensured.
_ENSURED: set[tuple[str, int]] = set()


class SerializedDuckDBResource(DuckDBResource):
    """The pipeline's DuckDB: it owns the schema and the call journal, and its connections take turns
    across processes, so concurrent runs wait rather than fail.

    Dagster's op-level pools would serialise the same steps, but a run whose steps all wait for a pool slot
    re-checks it in a loop that never sleeps; a connection waiting here sleeps between tries.
    """

    turn_timeout_s: float | None = Field(
        default=None,
        description="Give up waiting for another process's turn after this long (default: wait).",
    )
    _holder: str = PrivateAttr(default="")
    _log: dg.DagsterLogManager | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._holder = f"run {context.run_id} (pid {os.getpid()})" if context.run_id else f"pid {os.getpid()}"
        self._log = context.log

    @property
    def journal_dir(self) -> Path | None:
        """Completed model calls are journalled beside the database until their batch is committed."""
        return None if self.database in IN_MEMORY else Path(f"{self.database}.journal")

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if self.database not in IN_MEMORY:
            Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        with (
            turn(
                self.database,
                holder=self._holder or f"pid {os.getpid()}",
                on_wait=self._waiting,
                timeout_s=self.turn_timeout_s,
            ),
            ExitStack() as stack,
        ):
            connection = stack.enter_context(super().get_connection())
            # The parent closes the connection only when the block succeeds; the turn must not end first.
            stack.callback(connection.close)
            identity = (self.database, 0 if self.database in IN_MEMORY else os.stat(self.database).st_ino)
            if self.database in IN_MEMORY or identity not in _ENSURED:
                ensure_schema(connection)
                _ENSURED.add(identity)
            yield connection

    def _waiting(self, holder: str) -> None:
        message = f"Waiting for DuckDB {self.database}: {holder} is using it."
        (self._log or dg.get_dagster_logger()).info(message)
