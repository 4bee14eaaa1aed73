from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from deploysim.core.conversation import ContractLimits
from deploysim.ingestion.production_log import LogScan, RawRecord, read_scan, scan_log


class ProductionLogResource(dg.ConfigurableResource):
    """A production log file or folder: JSONL, NDJSON, JSON, gzipped or not, or Parquet, in the documented
    format; other files in a folder are listed as skipped."""

    path: str
    #: A pending candidate's window: its prior's traffic over the last this many days (default: since the
    #: prior's release).
    window_days: float | None = None
    #: Rows outside these bounds are quarantined at ingest (defaults: deploysim.core.conversation).
    min_year: int = ContractLimits.min_year
    max_year: int = ContractLimits.max_year
    max_conversation_chars: int = ContractLimits.max_conversation_chars

    @property
    def limits(self) -> ContractLimits:
        return ContractLimits(
            min_year=self.min_year,
            max_year=self.max_year,
            max_conversation_chars=self.max_conversation_chars,
        )

    def scan(self) -> LogScan:
        return scan_log(Path(self.path))

    def read(self, scan: LogScan | None = None) -> Iterator[RawRecord]:
        return read_scan(scan or self.scan())
