"""Logs: librdkafka's lines reach Python logging rate-limited; JSON lines carry the current trace."""

import json
import logging
import time
from collections.abc import Iterator

import pytest
from confluent_kafka import Consumer
from opentelemetry.sdk.trace import TracerProvider

from tests.conftest import free_port
from worker.kafka import client_config
from worker.logs import KAFKA_LOG, JsonFormatter, RepeatFilter
from worker.settings import Settings

# A consumer facing a closed port for this long logged ~60 reconnect lines before the filter.
AWAY_S = 3.0


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture()
def kafka_lines() -> Iterator[list[str]]:
    handler = Collect()
    logger = logging.getLogger(KAFKA_LOG)
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)


def test_repeats_pass_once_per_window_then_say_how_many_they_stood_for() -> None:
    handler, logger = Collect(), logging.getLogger("test.repeats")
    logger.addHandler(handler)
    logger.addFilter(RepeatFilter(window_s=0.2))
    try:
        for attempt in range(5):
            logger.warning("connect to broker-1:9092 failed after %dms", attempt)
        logger.warning("another message")
        time.sleep(0.25)
        logger.warning("connect to broker-1:9092 failed after %dms", 99)
    finally:
        logger.removeHandler(handler)
    assert handler.lines == [
        "connect to broker-1:9092 failed after 0ms",
        "another message",
        "connect to broker-1:9092 failed after 99ms (4 similar lines in the last 0.2 s not shown)",
    ]


def test_librdkafka_logs_go_through_the_rate_limited_logger(kafka_lines: list[str]) -> None:
    settings = Settings(kafka_bootstrap_servers=f"127.0.0.1:{free_port()}")
    consumer = Consumer({**client_config(settings), "group.id": "nobody"})
    consumer.subscribe(["nothing"])
    deadline = time.monotonic() + AWAY_S
    while time.monotonic() < deadline:
        consumer.consume(10, 0.05)
    consumer.close()
    refused = [line for line in kafka_lines if "Connection refused" in line]
    assert 1 <= len(refused) <= 2, kafka_lines


def test_json_lines_carry_the_current_span() -> None:
    record = logging.LogRecord("worker.publish", logging.WARNING, __file__, 1, "dead-lettering %s", ("q[0]@7",), None)
    formatter = JsonFormatter("w-1")
    assert "trace_id" not in json.loads(formatter.format(record))
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("process") as span:
        line = json.loads(formatter.format(record))
    context = span.get_span_context()
    assert line["message"] == "dead-lettering q[0]@7" and line["level"] == "WARNING" and line["worker"] == "w-1"
    assert line["trace_id"] == f"{context.trace_id:032x}" and line["span_id"] == f"{context.span_id:016x}"
