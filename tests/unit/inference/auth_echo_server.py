"""A loopback chat-completions server whose replies may depend on the request's headers, e.g. an error
body that echoes the Authorization header back, as some gateways do."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.stub_openai_server import Hang, Reply

Respond = Callable[[dict[str, str], dict[str, Any], int], Reply | Hang]


class Recorder:
    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []
        self.bodies: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    @property
    def calls(self) -> int:
        return len(self.bodies)


def echo_auth(status: int) -> Respond:
    """Every request answered with `status` and a body that repeats the request's auth headers."""

    def respond(headers: dict[str, str], body: dict[str, Any], number: int) -> Reply:
        echoed = {k: v for k, v in headers.items() if k.lower() in ("authorization", "api-key")}
        message = f"request {number} refused; you sent Authorization: {headers.get('authorization', '')}"
        return status, {}, {"error": {"message": message, "headers": echoed, "type": "echo"}}

    return respond


@contextmanager
def auth_echo_server(respond: Respond) -> Iterator[tuple[str, Recorder]]:
    """Serve `respond(headers, body, call_number)` on 127.0.0.1; yields the base_url and the recorder."""
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with recorder.lock:
                recorder.headers.append(headers)
                recorder.bodies.append(body)
                number = len(recorder.bodies)
            reply = respond(headers, body, number)
            if isinstance(reply, Hang):
                time.sleep(reply.seconds)
                reply = reply.reply
            status, extra, payload = reply
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in extra.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True  # a hanging handler must not hold the test's exit
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", recorder
    finally:
        server.shutdown()
        server.server_close()
