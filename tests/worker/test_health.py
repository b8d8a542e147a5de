"""Health endpoints: liveness follows the loop's heartbeat, readiness lists its problems, /metrics is Prometheus."""

import time
import urllib.error
import urllib.request

import pytest

from worker.health import STALL_S, HealthServer
from worker.startup import StartupError


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


@pytest.fixture()
def state() -> dict:
    return {"heartbeat": time.monotonic(), "problems": ["redis: TimeoutError: Timeout reading from socket"]}


def test_status_codes_follow_state(state: dict) -> None:
    server = HealthServer(
        "127.0.0.1", 0, lambda: state["heartbeat"], lambda: state["problems"], lambda: b"rankstream_results_total 3.0\n"
    )
    server.start()
    try:
        assert get(server.port, "/healthz")[0] == 200
        assert get(server.port, "/readyz") == (503, "not ready: redis: TimeoutError: Timeout reading from socket\n")
        state["problems"] = []
        assert get(server.port, "/readyz") == (200, "ready\n")
        state["heartbeat"] = time.monotonic() - STALL_S - 1
        assert get(server.port, "/healthz")[0] == 503
        assert get(server.port, "/metrics") == (200, "rankstream_results_total 3.0\n")
        assert get(server.port, "/nope")[0] == 404
    finally:
        server.stop()


def test_a_taken_port_names_the_variable_that_moves_it() -> None:
    first = HealthServer("127.0.0.1", 0, time.monotonic, list, bytes)
    try:
        with pytest.raises(StartupError, match="RANKSTREAM_HTTP_PORT: port .* is already in use") as caught:
            HealthServer("127.0.0.1", first.port, time.monotonic, list, bytes)
        assert "set RANKSTREAM_HTTP_PORT to a free port" in str(caught.value)
    finally:
        first.server.server_close()
