"""A fast loopback OpenAI chat-completions stub with a fixed latency, for client-side load benchmarks.

    python benchmarks/loopback_stub.py --latency-ms 100 --port 0

Binds 127.0.0.1, prints one line ``PORT <number>`` to stdout and serves until SIGTERM or SIGINT.

    POST /v1/chat/completions  a chat.completion, sent exactly --latency-ms after the request arrived
    GET  /v1/models            a model list
    GET  /stats                {"requests": n, "in_flight": k, "max_in_flight": m}; ``?reset=1`` zeroes them

The server is raw asyncio (``asyncio.Protocol``, HTTP/1.1 keep-alive, Content-Length bodies only) on
uvloop when importable, so that the server, not the client under test, is never the bottleneck: it
sustains several thousand requests per second on one core. The latency is a timer (``loop.call_later``),
never a sleep, so waiting requests cost nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

MODEL_NAME = "stub-model"
# The assistant's answer is fixed and short: the benchmark measures the call path, not payload handling.
ANSWER = "This is a stub answer."
ANSWER_TOKENS = 6
MAX_HEADER_BYTES = 64 * 1024

_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
}


class Stats:
    """Counters shared by every connection (one event loop, so no locking is needed)."""

    requests = 0
    in_flight = 0
    max_in_flight = 0
    next_id = 0


def _response(status: int, body: bytes, keep_alive: bool) -> bytes:
    """A complete HTTP/1.1 response with a Content-Length body."""
    connection = b"keep-alive" if keep_alive else b"close"
    head = (
        b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: %s\r\n\r\n"
        % (status, _REASONS[status].encode(), len(body), connection)
    )
    return head + body


def _completion_body(request_body: bytes) -> bytes:
    """A valid chat.completion for the request, echoing its model name."""
    model = MODEL_NAME
    prompt_chars = len(request_body)
    try:
        payload = json.loads(request_body)
        model = str(payload.get("model") or MODEL_NAME)
        # About four characters a token: close enough for clients that only sum usage.
        prompt_chars = sum(len(str(message.get("content") or "")) for message in payload.get("messages", []))
    except (ValueError, AttributeError, TypeError):
        pass  # A malformed body still gets an answer: the stub is not a validator.
    prompt_tokens = max(1, prompt_chars // 4)
    Stats.next_id += 1
    completion = {
        "id": f"chatcmpl-stub{Stats.next_id:012d}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": ANSWER},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": ANSWER_TOKENS,
            "total_tokens": prompt_tokens + ANSWER_TOKENS,
        },
    }
    return json.dumps(completion, separators=(",", ":")).encode()


_MODELS_BODY = json.dumps(
    {"object": "list", "data": [{"id": MODEL_NAME, "object": "model", "created": 0, "owned_by": "stub"}]}
).encode()


class StubProtocol(asyncio.Protocol):
    """One HTTP/1.1 connection: parses requests from a byte buffer and answers them in order."""

    def __init__(self, latency_s: float) -> None:
        self.latency_s = latency_s
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        # Responses of pipelined requests must leave in request order, and timers that fall due at the
        # same instant are not ordered, so each request holds a one-item slot here, filled when it is due.
        self.pending: deque[list[bytes | None]] = deque()
        self.close_after_flush = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None and not self.close_after_flush:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEADER_BYTES:
                    self._reply_now(400, b'{"error":"header too large"}', keep_alive=False)
                return
            head = bytes(self.buffer[:end]).decode("latin-1")
            request_line, *header_lines = head.split("\r\n")
            parts = request_line.split(" ")
            if len(parts) != 3:
                self._reply_now(400, b'{"error":"bad request line"}', keep_alive=False)
                return
            method, target, version = parts
            headers = {}
            for line in header_lines:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            if "chunked" in headers.get("transfer-encoding", "").lower():
                # Chunked request bodies are out of scope; every OpenAI SDK sends Content-Length.
                self._reply_now(411, b'{"error":"Content-Length required"}', keep_alive=False)
                return
            length = int(headers.get("content-length", "0") or 0)
            if len(self.buffer) < end + 4 + length:
                return  # The body has not fully arrived yet.
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            connection = headers.get("connection", "").lower()
            keep_alive = connection != "close" and (version == "HTTP/1.1" or connection == "keep-alive")
            self._handle(method, target, body, keep_alive)
            if not keep_alive:
                self.close_after_flush = True

    def _handle(self, method: str, target: str, body: bytes, keep_alive: bool) -> None:
        path, _, query = target.partition("?")
        if path == "/v1/chat/completions":
            if method != "POST":
                self._reply_now(405, b'{"error":"use POST"}', keep_alive)
                return
            Stats.requests += 1
            Stats.in_flight += 1
            Stats.max_in_flight = max(Stats.max_in_flight, Stats.in_flight)
            slot: list[bytes | None] = [None]
            self.pending.append(slot)
            # Only the delay is deferred; the body is built now, so the timer callback stays trivial.
            response = _response(200, _completion_body(body), keep_alive)
            self.loop.call_later(self.latency_s, self._complete, slot, response)
        elif path == "/v1/models" and method == "GET":
            self._reply_now(200, _MODELS_BODY, keep_alive)
        elif path == "/stats" and method == "GET":
            stats = {
                "requests": Stats.requests,
                "in_flight": Stats.in_flight,
                "max_in_flight": Stats.max_in_flight,
            }
            if "reset=1" in query:
                Stats.requests = 0
                Stats.max_in_flight = Stats.in_flight
            self._reply_now(200, json.dumps(stats).encode(), keep_alive)
        else:
            self._reply_now(404, b'{"error":"not found"}', keep_alive)

    def _reply_now(self, status: int, body: bytes, keep_alive: bool) -> None:
        self.pending.append([_response(status, body, keep_alive)])
        if not keep_alive:
            self.close_after_flush = True
        self._flush()

    def _complete(self, slot: list[bytes | None], response: bytes) -> None:
        Stats.in_flight -= 1
        slot[0] = response
        self._flush()

    def _flush(self) -> None:
        """Send every response at the head of the queue that is due, in request order."""
        out = []
        while self.pending and self.pending[0][0] is not None:
            out.append(self.pending.popleft()[0])
        if self.transport is None or self.transport.is_closing():
            return
        if out:
            self.transport.write(b"".join(out))  # type: ignore[arg-type]
        if self.close_after_flush and not self.pending:
            self.transport.close()


async def serve(latency_ms: float, port: int) -> None:
    """Serve on 127.0.0.1:port (0 picks a free port) until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    latency_s = latency_ms / 1000.0
    # A deep backlog: hundreds of clients connect at once when a load test starts.
    server = await loop.create_server(lambda: StubProtocol(latency_s), "127.0.0.1", port, backlog=4096)
    bound_port = server.sockets[0].getsockname()[1]
    print(f"PORT {bound_port}", flush=True)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()


def start_stub(latency_ms: float, timeout_s: float = 20.0) -> tuple[subprocess.Popen, str]:
    """Launch the stub as a subprocess; return it and its base URL ``http://127.0.0.1:PORT/v1``.

    The caller owns the process: ``proc.terminate(); proc.wait()`` stops it.
    """
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--latency-ms", str(latency_ms), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    # Wait for the PORT line with a deadline, so a stub that dies or hangs on start fails loudly.
    ready, _, _ = select.select([proc.stdout], [], [], timeout_s)
    line = proc.stdout.readline() if ready else ""
    if not line.startswith("PORT "):
        proc.kill()
        proc.wait()
        raise RuntimeError(f"loopback stub did not start (got {line!r})")
    return proc, f"http://127.0.0.1:{int(line.split()[1])}/v1"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency-ms", type=float, default=100.0, help="delay before each completion")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        uvloop = None
    if uvloop is not None and os.environ.get("STUB_NO_UVLOOP") != "1":
        uvloop.run(serve(args.latency_ms, args.port))
    else:
        asyncio.run(serve(args.latency_ms, args.port))


if __name__ == "__main__":
    main()
