"""DuckDB takes one writing process at a time: processes take turns on an advisory lock beside the file.

A second process that opens a database another holds fails with "Could not set lock". Holding an exclusive
`flock` on `<database>.lock` for as long as a connection is open turns that failure into a wait; a waiting
process sleeps between cheap non-blocking tries (four a second), so waiting costs no CPU to speak of.
Connections within one process share the lock (DuckDB shares one database instance per process), so
nested or concurrent connections in a process never wait on themselves. A process that dies releases it.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

IN_MEMORY = ("", ":memory:")


class TurnTimeout(TimeoutError):
    """Another process held the database for longer than the caller agreed to wait."""


@dataclass
class _Turn:
    handle: IO[str]
    depth: int


_TURNS: dict[str, _Turn] = {}
_GUARD = threading.Lock()


def lock_path(database: str | Path) -> Path:
    return Path(f"{Path(database).resolve()}.lock")


def holder_of(database: str | Path) -> str:
    """Who holds the database now, as the holder wrote it; empty when nobody has said."""
    try:
        return json.loads(lock_path(database).read_text() or "{}").get("holder", "")
    except (OSError, ValueError):
        return ""


@contextmanager
def turn(
    database: str | Path,
    *,
    holder: str,
    on_wait: Callable[[str], None] | None = None,
    timeout_s: float | None = None,
    poll_s: float = 0.25,
) -> Iterator[None]:
    """Hold the database's turn for the block; wait (up to `timeout_s`, or for ever) while another has it.

    `on_wait` hears once who holds it. `holder` is written into the lock file for the next waiter to read.
    """
    if str(database) in IN_MEMORY:
        yield
        return
    key = str(lock_path(database))
    with _GUARD:
        held = _TURNS.get(key)
        if held is not None:
            held.depth += 1
    if held is None:
        held = _acquire(Path(key), holder, on_wait, timeout_s, poll_s)
        with _GUARD:
            # Another thread of this process may have taken the turn while this one waited for it.
            existing = _TURNS.get(key)
            if existing is None:
                _TURNS[key] = held
            else:
                existing.depth += 1
                _release_handle(held.handle)
                held = existing
    try:
        yield
    finally:
        with _GUARD:
            held.depth -= 1
            if held.depth == 0:
                del _TURNS[key]
                _release_handle(held.handle)


def _acquire(
    path: Path,
    holder: str,
    on_wait: Callable[[str], None] | None,
    timeout_s: float | None,
    poll_s: float,
) -> _Turn:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")  # noqa: SIM115 - held open for the turn, closed by _release_handle
    started = time.monotonic()
    told = False
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if not told and on_wait is not None:
                on_wait(holder_of(path.with_suffix("")) or "another process")
                told = True
            if timeout_s is not None and time.monotonic() - started >= timeout_s:
                handle.close()
                raise TurnTimeout(
                    f"DuckDB database {path.with_suffix('')} was held by "
                    f"{holder_of(path.with_suffix('')) or 'another process'} for more than {timeout_s:.0f} s"
                ) from None
            time.sleep(poll_s)
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps({"holder": holder, "pid": os.getpid()}))
    handle.flush()
    return _Turn(handle, depth=1)


def _release_handle(handle: IO[str]) -> None:
    handle.seek(0)
    handle.truncate()  # the next waiter must not read a holder that has gone
    handle.flush()
    fcntl.flock(handle, fcntl.LOCK_UN)
    handle.close()
