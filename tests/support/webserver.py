"""The Dagster webserver as a loopback subprocess, for tests that look at the real UI."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.paths import REPO


@dataclass(frozen=True)
class Webserver:
    url: str
    log: Path

    def log_tail(self, chars: int = 4000) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text[-chars:]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def dagster_webserver(env: dict[str, str], log: Path, timeout: float = 90.0) -> Iterator[Webserver]:
    """Start `dagster-webserver -w workspace.yaml` on a free loopback port; stop its process group after."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    executable = Path(sys.executable).parent / "dagster-webserver"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as sink:
        # A session of its own, so the code server it forks is stopped with it.
        process = subprocess.Popen(
            [str(executable), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout
        while not _answers(f"{url}/server_info"):
            if process.poll() is not None:
                raise RuntimeError(
                    f"dagster-webserver exited with {process.returncode}; its log {log}:\n"
                    + Webserver(url, log).log_tail()
                )
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"dagster-webserver did not answer on {url} within {timeout:.0f}s; its log {log}:\n"
                    + Webserver(url, log).log_tail()
                )
            time.sleep(0.25)
        yield Webserver(url, log)
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
