"""How long a dead endpoint holds a run: one that never answers, and one that rejects the key.

    python benchmarks/failing_endpoints.py [--attempt-timeout 8] [--attempts 2] [--prefixes 1000]

Both are loopback stubs driven through the gateway's settings (the same environment variables the CLI's
`--attempt-timeout` and `--attempts` set) and the engine the pipeline uses. Prints the wall time, the
requests the stub saw, the progress lines while calls hung, and what was recorded.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the loopback stub lives with the tests

from deploysim.inference.backends import OpenAIBackend
from deploysim.inference.engine import run_requests
from deploysim.inference.types import ChatRequest, EndpointRejected
from orchestration.resources import ModelGatewayResource
from tests.support.stub_openai_server import Hang, completion, stub_openai_server


def _items(n: int) -> list[tuple[str, ChatRequest]]:
    return [(f"c{i}", ChatRequest(messages=[{"role": "user", "content": f"q {i}"}])) for i in range(n)]


def hanging(attempt_timeout: float, attempts: int) -> None:
    os.environ["DEPLOYSIM_ATTEMPT_TIMEOUT_S"] = str(attempt_timeout)
    os.environ["DEPLOYSIM_MAX_ATTEMPTS"] = str(attempts)
    with stub_openai_server(lambda body, n: Hang(attempt_timeout * 4, (200, {}, completion("late")))) as (
        url,
        server,
    ):
        endpoint = ModelGatewayResource().endpoint("cand", OpenAIBackend(base_url=url, model="stub"))
        lines: list[tuple[float, str]] = []
        results: list = []
        started = time.monotonic()
        run_requests(
            endpoint.client(),
            _items(4),
            cache=None,
            settings=endpoint.settings,
            on_result=results.append,
            progress=lambda p: lines.append((time.monotonic() - started, p.line("cand"))),
            total=4,
            name="cand",
        )
        print(
            f"hanging endpoint, 4 prefixes, attempt timeout {attempt_timeout:g} s x {attempts} attempts: "
            f"{time.monotonic() - started:.1f} s, {server.calls} requests"
        )
    for at, line in lines:
        print(f"  progress at {at:4.1f} s: {line}")
    print(f"  recorded: {results[0].error_message}")


def rejecting(prefixes: int) -> None:
    with stub_openai_server(lambda body, n: (401, {}, {"error": {"message": "bad key"}})) as (url, server):
        endpoint = ModelGatewayResource().endpoint("cand", OpenAIBackend(base_url=url, model="stub"))
        results: list = []
        started = time.monotonic()
        try:
            run_requests(
                endpoint.client(),
                _items(prefixes),
                cache=None,
                settings=endpoint.settings,
                on_result=results.append,
                name="cand",
            )
        except EndpointRejected as error:
            print(
                f"401 endpoint, {prefixes} prefixes: stopped after {time.monotonic() - started:.2f} s and "
                f"{server.calls} requests, {len(results)} rows recorded; message: {error}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--attempt-timeout", type=float, default=8.0)
    parser.add_argument("--attempts", type=int, default=2)
    parser.add_argument("--prefixes", type=int, default=1000)
    args = parser.parse_args()
    hanging(args.attempt_timeout, args.attempts)
    rejecting(args.prefixes)


if __name__ == "__main__":
    main()
