"""The airline environment's state as one immutable snapshot: users, reservations and flights.

The bundled file is one gzipped JSON object ``{"users": {...}, "reservations": {...}, "flights": {...}}``.
Records keep the source's key order, because the tools print records with ``json.dumps`` in that order and a
simulated output should read exactly like the real one; the bytes are still reproducible (compact separators,
gzip mtime 0, no file name in the header).
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

TABLES = ("users", "reservations", "flights")


@dataclass(frozen=True)
class Snapshot:
    """Read-only tables keyed by id. Rollouts read it through an overlay and never write to it."""

    tables: Mapping[str, Mapping[str, Any]]

    def get(self, table: str, key: str) -> Any | None:
        return self.tables[table].get(key)

    def keys(self, table: str) -> Iterator[str]:
        return iter(self.tables[table])

    def size(self, table: str) -> int:
        return len(self.tables[table])


def snapshot_from_tables(tables: Mapping[str, Mapping[str, Any]]) -> Snapshot:
    missing = [name for name in TABLES if name not in tables]
    if missing:
        raise ValueError(f"snapshot lacks tables: {', '.join(missing)}")
    return Snapshot(MappingProxyType({name: MappingProxyType(dict(tables[name])) for name in TABLES}))


def compact_flights(flights: Mapping[str, Any]) -> dict[str, Any]:
    """Drop the per-date timings no connector can read.

    A date's full record is printed only when a flight is bookable that day (the searches, including the
    one-stop search's habit of printing the second leg's record for the first leg's date). On days when no
    flight at all is bookable, only the status matters (booking or rebooking onto it is refused).
    """
    bookable_days = {
        day
        for flight in flights.values()
        for day, record in flight["dates"].items()
        if record.get("status") == "available"
    }
    compact: dict[str, Any] = {}
    for number, flight in flights.items():
        dates = {
            day: record if day in bookable_days else {"status": record["status"]}
            for day, record in flight["dates"].items()
        }
        compact[number] = {**flight, "dates": dates}
    return compact


def snapshot_bytes(tables: Mapping[str, Mapping[str, Any]]) -> bytes:
    """The bundled file's exact bytes for these tables."""
    payload = {name: tables[name] for name in TABLES}
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as handle:
        handle.write(text.encode("utf-8"))
    return buffer.getvalue()


def load_snapshot(path: Path) -> Snapshot:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return snapshot_from_tables(json.load(handle))


def load_source_tables(env_dir: Path) -> dict[str, Any]:
    """The environment as published: ``users.json``, ``reservations.json``, ``flights.json``."""
    tables: dict[str, Any] = {}
    for name in TABLES:
        with (env_dir / f"{name}.json").open(encoding="utf-8") as handle:
            tables[name] = json.load(handle)
    return tables
