"""A rollout's copy-on-write view of the snapshot: writes land in the overlay, reads see them first."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from deploysim.agents.snapshot import TABLES, Snapshot


class Overlay:
    """One rollout's state. The snapshot is shared by every rollout and never modified.

    A record is copied out of the snapshot the first time a write needs it; later reads in the same
    rollout return the copy. ``touched`` records whether the reads since the last ``reset_touched`` saw
    any overlaid record, which is how a read's provenance tells "connector" from "overlay".
    """

    def __init__(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self._records: dict[str, dict[str, Any]] = {name: {} for name in TABLES}
        self.touched = False

    def get(self, table: str, key: str) -> Any | None:
        overlaid = self._records[table]
        if key in overlaid:
            self.touched = True
            return overlaid[key]
        return self._snapshot.get(table, key)

    def contains(self, table: str, key: str) -> bool:
        return self.get(table, key) is not None

    def values(self, table: str) -> Iterator[Any]:
        """Every record in snapshot order, overlaid ones in place, new ones after."""
        overlaid = self._records[table]
        for key in self._snapshot.keys(table):
            if key in overlaid:
                self.touched = True
                yield overlaid[key]
            else:
                yield self._snapshot.get(table, key)
        for key, record in overlaid.items():
            if self._snapshot.get(table, key) is None:
                self.touched = True
                yield record

    def writable(self, table: str, key: str) -> Any:
        """The rollout's own copy of a record, made on first write."""
        overlaid = self._records[table]
        if key not in overlaid:
            original = self._snapshot.get(table, key)
            if original is None:
                raise KeyError(key)
            overlaid[key] = copy.deepcopy(original)
        self.touched = True
        return overlaid[key]

    def insert(self, table: str, key: str, record: Any) -> None:
        self._records[table][key] = record
        self.touched = True

    def reset_touched(self) -> None:
        self.touched = False

    def changed(self, table: str) -> dict[str, Any]:
        """The records this rollout wrote, by id (a copy, for inspection)."""
        return copy.deepcopy(self._records[table])
