"""A real HTTP server on loopback that speaks the chat-completions API, for tests. It records every body."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = tuple[int, dict[str, str], dict[str, Any] | str]


class Drop:
    """Close the connection without answering, as a crashed proxy would."""


@dataclass(frozen=True)
class Hang:
    """Answer only after `seconds`, longer than the client's attempt timeout."""

    seconds: float
    reply: Reply


def completion(content: str, prompt_tokens: int = 10, completion_tokens: int = 5) -> dict[str, Any]:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 0,
        "model": "stub",
        "choices": [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


class StubServer:
    def __init__(self, respond: Callable[[dict[str, Any], int], Reply | Drop | Hang]) -> None:
        self.respond = respond
        self.bodies: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    @property
    def calls(self) -> int:
        return len(self.bodies)


@contextmanager
def stub_openai_server(
    respond: Callable[[dict[str, Any], int], Reply | Drop | Hang],
) -> Iterator[tuple[str, StubServer]]:
    """Serve `respond(body, call_number)` on 127.0.0.1; yields the base_url and the recorder."""
    state = StubServer(respond)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # /v1/models, the health check
            self._send(200, {}, {"object": "list", "data": [{"id": "stub", "object": "model"}]})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with state._lock:
                state.bodies.append(body)
                number = len(state.bodies)
            reply = state.respond(body, number)
            if isinstance(reply, Drop):
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if isinstance(reply, Hang):
                time.sleep(reply.seconds)
                reply = reply.reply
            status, headers, payload = reply
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                self._send(status, headers, payload)

        def _send(self, status: int, headers: dict[str, str], payload: dict[str, Any] | str) -> None:
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", state
    finally:
        server.shutdown()
        server.server_close()
