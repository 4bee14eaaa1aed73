import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import Field, PrivateAttr

from deploysim.duckdb_turns import turn


class SerializedDuckDBResource(DuckDBResource):
    """DuckDB whose connections take turns across processes, so concurrent runs wait rather than fail.

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

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
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
            yield connection

    def _waiting(self, holder: str) -> None:
        message = f"Waiting for DuckDB {self.database}: {holder} is using it."
        (self._log or dg.get_dagster_logger()).info(message)
