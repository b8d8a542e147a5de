"""Health and metrics over HTTP: /healthz (the loop is alive), /readyz (able to serve), /metrics.

Liveness fails when the loop thread has not polled for `STALL_S` (a wedged process should be
restarted); readiness fails while a stage is retrying a dependency (Redis away) or before the
consumer has partitions, so a load balancer or an autoscaler can tell. Plain stdlib server thread.
"""

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Longer than any single poll+dispatch cycle, including a rebalance drain.
STALL_S = 60.0


class HealthServer:
    def __init__(
        self,
        host: str,
        port: int,
        heartbeat: Callable[[], float],
        ready: Callable[[], bool],
        metrics: Callable[[], bytes],
    ) -> None:
        def alive() -> tuple[bool, bytes]:
            ok = time.monotonic() - heartbeat() < STALL_S
            return ok, b"ok\n" if ok else b"stalled: the consume loop has not polled\n"

        def readiness() -> tuple[bool, bytes]:
            ok = ready()
            return ok, b"ready\n" if ok else b"not ready: no partitions yet, or a dependency is away\n"

        routes = {"/healthz": alive, "/readyz": readiness, "/metrics": lambda: (True, metrics())}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (stdlib name)
                path = self.path.split("?")[0]
                route = routes.get(path)
                ok, body = route() if route else (False, b"not found\n")
                self.send_response(200 if ok else (404 if route is None else 503))
                self.send_header("Content-Type", "text/plain; version=0.0.4" if path == "/metrics" else "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:  # scrapes are not worth a log line
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, name="health", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
