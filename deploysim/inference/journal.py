"""An append-only journal of completed calls: a SIGKILL between batched DuckDB writes loses none."""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


class ResponseJournal:
    """Each completed call is appended (one line, flushed to the OS) before it joins a DuckDB batch.

    The file is held under an exclusive lock while its writer lives, so recovery replays only the
    journals of processes that died, never one still being written.
    """

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
        self._handle: IO[str] = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - lives with the run
        fcntl.flock(self._handle, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def append(self, record: dict[str, Any]) -> None:
        self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._handle.flush()

    def truncate(self) -> None:
        """Everything journalled so far is committed to DuckDB."""
        self._handle.truncate(0)

    def close(self) -> None:
        self._handle.close()
        self.path.unlink(missing_ok=True)


def orphaned_records(directory: Path) -> Iterator[list[dict[str, Any]]]:
    """The records of each journal whose writer is gone; the caller commits them, then the file goes."""
    if not directory.is_dir():
        return
    for path in sorted(directory.glob("*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live run's journal
            records = []
            for line in handle:
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # the line being written when the process was killed
            yield records
            path.unlink(missing_ok=True)
