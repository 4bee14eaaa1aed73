from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from deploysim.ingestion.production_log import RawRecord, read_log


class ProductionLogResource(dg.ConfigurableResource):
    """A production log file or folder: JSONL, gzipped JSONL or Parquet in the documented format."""

    path: str
    #: A pending candidate's window: its prior's traffic over the last this many days (default: since the
    #: prior's release).
    window_days: float | None = None

    def read(self) -> Iterator[RawRecord]:
        return read_log(Path(self.path))
