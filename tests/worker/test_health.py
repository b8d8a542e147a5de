"""Health endpoints: liveness follows the loop's heartbeat, readiness its dependencies, /metrics is Prometheus."""

import time
import urllib.error
import urllib.request

import pytest

from worker.health import STALL_S, HealthServer


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


@pytest.fixture()
def state() -> dict:
    return {"heartbeat": time.monotonic(), "ready": False}


def test_status_codes_follow_state(state: dict) -> None:
    server = HealthServer(
        "127.0.0.1", 0, lambda: state["heartbeat"], lambda: state["ready"], lambda: b"rankstream_results_total 3.0\n"
    )
    server.start()
    try:
        assert get(server.port, "/healthz")[0] == 200
        assert get(server.port, "/readyz")[0] == 503
        state["ready"] = True
        assert get(server.port, "/readyz")[0] == 200
        state["heartbeat"] = time.monotonic() - STALL_S - 1
        assert get(server.port, "/healthz")[0] == 503
        assert get(server.port, "/metrics") == (200, "rankstream_results_total 3.0\n")
        assert get(server.port, "/nope")[0] == 404
    finally:
        server.stop()
