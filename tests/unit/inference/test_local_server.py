import socket

import pytest

from deploysim.inference.local_server import LocalModelError, serve_smollm2


def test_a_taken_port_gives_a_clear_error():
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        with (
            pytest.raises(LocalModelError, match=f"port {port} .* is taken"),
            serve_smollm2(f"http://127.0.0.1:{port}/v1", ready_timeout_s=5),
        ):
            pass
