"""The worker's logging: plain or JSON lines, trace ids in JSON, librdkafka's logs rate-limited.

`configure_logging(settings)` sets the root logger once per process: `RANKSTREAM_LOG_LEVEL`, and
`RANKSTREAM_LOG_FORMAT` `text` (one human line) or `json` (one object a line: time, level, logger,
message, worker, and the trace and span ids of the span current in the logging thread, if any).
`kafka_log()` is the logger the Kafka clients are given (librdkafka's `logger` option) and the consume
loop's client errors go to: a `RepeatFilter` on it lets one line of each distinct message through per
`REPEAT_WINDOW_S`, then the next one says how many it stood for. Messages are the same when they
differ only in numbers (timings, counts, ports). Ignores where lines go (stderr; the platform collects).
"""

import json
import logging
import re
import threading
import time
from datetime import UTC, datetime

from opentelemetry import trace

from worker.settings import Settings

# A broker that is away makes librdkafka log every reconnect (439 lines in 25 s were measured): one
# line per distinct message per 30 s keeps an outage readable, and still shows that it goes on.
REPEAT_WINDOW_S = 30.0
KAFKA_LOG = "rankstream.kafka"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_NUMBERS = re.compile(r"\d+")
_attach = threading.Lock()


class RepeatFilter(logging.Filter):
    """Drop a record whose message (numbers aside) passed within `window_s`; count it for the next."""

    def __init__(self, window_s: float = REPEAT_WINDOW_S) -> None:
        super().__init__()
        self.window_s = window_s
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[float, int]] = {}  # message shape -> (last passed at, dropped since)

    def filter(self, record: logging.LogRecord) -> bool:
        shape = _NUMBERS.sub("#", record.getMessage())
        now = time.monotonic()
        with self._lock:
            passed_at, dropped = self._seen.get(shape, (-float("inf"), 0))
            if now - passed_at < self.window_s:
                self._seen[shape] = (passed_at, dropped + 1)
                return False
            self._seen[shape] = (now, 0)
        if dropped:
            record.msg = f"{record.getMessage()} ({dropped} similar lines in the last {self.window_s:g} s not shown)"
            record.args = ()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line, with the current span's trace and span ids."""

    def __init__(self, worker_id: str) -> None:
        super().__init__()
        self.worker_id = worker_id

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "worker": self.worker_id,
        }
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            line["trace_id"] = trace.format_trace_id(context.trace_id)
            line["span_id"] = trace.format_span_id(context.span_id)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line)


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    json_lines = settings.log_format == "json"
    handler.setFormatter(JsonFormatter(settings.worker_id) if json_lines else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=settings.log_level, handlers=[handler], force=True)


def kafka_log() -> logging.Logger:
    """The Kafka clients' logger, rate-limited by a `RepeatFilter`."""
    log = logging.getLogger(KAFKA_LOG)
    with _attach:
        if not any(isinstance(f, RepeatFilter) for f in log.filters):
            log.addFilter(RepeatFilter())
    return log
