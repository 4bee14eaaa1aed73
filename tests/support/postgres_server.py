"""A throwaway PostgreSQL cluster for tests: initdb in a fresh temp dir, served on loopback, always removed.

PostgreSQL refuses to run as root, and CI runs as root, so under root the cluster is owned and served by an
unprivileged system user (`postgres` when the server package created it, else `nobody`). Authentication is
`trust`, which is safe only because the server listens on 127.0.0.1 alone and lives for one test.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
SUPERUSER = "dagster"
DB_NAME = "dagster"


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    username: str
    db_name: str
    log_path: Path

    @property
    def url(self) -> str:
        return f"postgresql://{self.username}@{self.host}:{self.port}/{self.db_name}"

    def postgres_db(self) -> dict[str, Any]:
        """The `postgres_db` block of a dagster.yaml storage section (no password: trust auth)."""
        return {"username": self.username, "hostname": self.host, "db_name": self.db_name, "port": self.port}


def find_bin_dir() -> Path | None:
    """PostgreSQL's server binaries: $PG_BIN, then PATH, then Debian's versioned dirs (newest first)."""
    candidates: list[Path] = []
    if os.environ.get("PG_BIN"):
        candidates.append(Path(os.environ["PG_BIN"]))
    if on_path := shutil.which("initdb"):
        candidates.append(Path(on_path).parent)

    def major(path: Path) -> int:
        match = re.fullmatch(r"\d+", path.parent.name)
        return int(match.group()) if match else -1

    # Debian and Ubuntu keep the server binaries off PATH.
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=major, reverse=True)
    for directory in candidates:
        if all((directory / tool).is_file() for tool in ("initdb", "postgres", "pg_isready", "createdb")):
            return directory
    return None


def _server_account() -> pwd.struct_passwd | None:
    """None when we may run the server ourselves; else the unprivileged account to run it as."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root, and there is no `postgres` or `nobody` account to run PostgreSQL as")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _stop(process: subprocess.Popen[bytes], timeout: float) -> None:
    """Fast shutdown (SIGINT), then immediate (SIGQUIT), then SIGKILL: never leave a server behind."""
    for sig, wait in ((signal.SIGINT, timeout), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0)):
        if process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _run(command: list[Any], env: dict[str, str], timeout: float, **kwargs: Any) -> None:
    """Run a PostgreSQL tool; on failure, raise with its own output, which says what went wrong."""
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, **kwargs)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(command[0]).name} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def _wait_ready(
    process: subprocess.Popen[bytes], bin_dir: Path, port: int, env: dict[str, str], timeout: float
) -> bool:
    """True once the server accepts connections; False if it exited (e.g. the port was taken) or timed out."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        probe = [bin_dir / "pg_isready", "-q", "-h", HOST, "-p", str(port), "-U", SUPERUSER]
        if subprocess.run(probe, env=env, timeout=timeout).returncode == 0:
            return True
        time.sleep(0.1)
    return False


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@contextmanager
def postgres_server(timeout: float = 30.0, attempts: int = 3) -> Iterator[PostgresServer]:
    """A new cluster with database `dagster` of superuser `dagster`; stopped and deleted afterwards."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise FileNotFoundError("PostgreSQL server binaries (initdb, postgres) not found; set PG_BIN")
    account = _server_account()
    # Under root the server account must reach the cluster dir: /tmp is world-traversable, while pytest's
    # tmp_path (and possibly $TMPDIR) is private to root.
    root = Path(tempfile.mkdtemp(prefix="pgtest-", dir="/tmp" if account else None))
    as_account: dict[str, Any] = {}
    if account is not None:
        os.chown(root, account.pw_uid, account.pw_gid)
        as_account = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    # A clean environment: no PG* variables of the caller's, and the C locale whatever the machine has.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "HOME": str(root)}
    data = root / "data"
    log_path = root / "server.log"
    process: subprocess.Popen[bytes] | None = None
    try:
        initdb = [bin_dir / "initdb", "-D", data, "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8"]
        _run([*initdb, "--no-locale", "--no-sync"], env, timeout, cwd=root, **as_account)
        port = 0
        for _ in range(attempts):  # another process may take the free port before the server binds it
            port = _free_port()
            server = [bin_dir / "postgres", "-D", data, "-p", str(port), "-c", f"listen_addresses={HOST}"]
            # No unix socket (its path length is limited), and no fsync: the data is thrown away.
            settings = ["-c", "unix_socket_directories=", "-c", "fsync=off", "-c", "full_page_writes=off"]
            with log_path.open("ab") as log:
                process = subprocess.Popen(
                    [*server, *settings],
                    cwd=root,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    **as_account,
                )
            if _wait_ready(process, bin_dir, port, env, timeout):
                break
            if process.poll() is None:
                raise TimeoutError(f"PostgreSQL was not ready within {timeout} s:\n{_tail(log_path)}")
        else:
            raise RuntimeError(f"PostgreSQL did not start:\n{_tail(log_path)}")
        _run([bin_dir / "createdb", "-h", HOST, "-p", str(port), "-U", SUPERUSER, DB_NAME], env, timeout)
        yield PostgresServer(host=HOST, port=port, username=SUPERUSER, db_name=DB_NAME, log_path=log_path)
    finally:
        if process is not None:
            _stop(process, timeout)
        shutil.rmtree(root, ignore_errors=True)
