from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from deploysim.ingestion.production_log import RawRecord, read_log


class ProductionLogResource(dg.ConfigurableResource):
    """A production log file or folder: JSONL, gzipped JSONL or Parquet in the documented format."""

    path: str

    def read(self) -> Iterator[RawRecord]:
        return read_log(Path(self.path))
