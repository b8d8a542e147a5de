"""Health and metrics over HTTP: /healthz (the loop is alive), /readyz (able to serve), /metrics.

Liveness fails when the loop thread has not polled for `STALL_S` (a wedged process should be
restarted); readiness fails while `ready()` names problems (`worker.readiness`: no partitions yet, a
stage retrying, Redis or the broker not answering), and the body lists them. The port is bound at
construction, so a taken port fails before the model loads; requests are served from `start()`.
Plain stdlib server thread.
"""

import contextlib
import errno
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from worker.startup import StartupError, variable

# Longer than any single poll+dispatch cycle, including a rebalance drain.
STALL_S = 60.0


class HealthServer:
    def __init__(
        self,
        host: str,
        port: int,
        heartbeat: Callable[[], float],
        ready: Callable[[], list[str]],
        metrics: Callable[[], bytes],
    ) -> None:
        def alive() -> tuple[bool, bytes]:
            ok = time.monotonic() - heartbeat() < STALL_S
            return ok, b"ok\n" if ok else b"stalled: the consume loop has not polled\n"

        def readiness() -> tuple[bool, bytes]:
            problems = ready()
            return not problems, "".join(f"not ready: {p}\n" for p in problems).encode() or b"ready\n"

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
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the scraper gave up waiting
                    self.wfile.write(body)

            def log_message(self, *_args: object) -> None:  # scrapes are not worth a log line
                pass

        self.server = _bind(host, port, Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, name="health", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _bind(host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    try:
        return ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        raise StartupError(
            f"{variable('http_port')}: port {port} on {host} is already in use (another worker on this host?); "
            f"set {variable('http_port')} to a free port, or 0 to turn the health server off"
        ) from exc
