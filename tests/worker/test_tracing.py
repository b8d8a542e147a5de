"""Traces: an input's W3C context is continued into its outputs' headers and exported over OTLP (HTTP, gRPC).

Real exporters talk to in-test OTLP receivers (`tests.otlp`); the worker-level path, through Kafka
and back, is tests/integration/test_traces.py.
"""

import time
from datetime import UTC, datetime

import pytest
from opentelemetry.sdk.resources import Resource

from tests.otlp import GrpcReceiver, HttpReceiver
from worker.kafka import Source
from worker.settings import Settings
from worker.tracing import NO_TRACING, Tracing

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
RESOURCE = Resource.create({"service.name": "rankstream"})
CONSUMER, PRODUCER = 5, 4  # opentelemetry.proto's Span.SpanKind
SAMPLED = 0x01  # the trace-flags bit (W3C); others (0x02, "random trace id") may be set too


def consumed(traceparent: str | None = None) -> Source:
    headers = (("traceparent", traceparent.encode()),) if traceparent else ()
    now = datetime.now(UTC)
    return Source("search-queries", 2, 41, b"r-1", b"{}", time.monotonic(), now, headers)


def parse(headers: list[tuple[str, bytes]]) -> tuple[str, str, bool]:
    """(trace id, parent span id, sampled) of the traceparent among `headers`."""
    _, trace_id, span_id, flags = dict(headers)["traceparent"].decode().split("-")
    return trace_id, span_id, bool(int(flags, 16) & SAMPLED)


def one_hop(tracing: Tracing, source: Source) -> list[tuple[str, bytes]]:
    """Consume, fetch, send: the output's headers."""
    traced = tracing.process(source)
    with tracing.step(traced.span, "context fetch", {"rankstream.candidates": 3}):
        pass
    span, headers = tracing.send(traced.span, "ranked-results", b"r-1", [("rankstream.dlq.reason", b"x")])
    span.end()
    traced.span.end()
    return headers


@pytest.mark.parametrize("receiver, protocol", [(HttpReceiver, "http/protobuf"), (GrpcReceiver, "grpc")])
def test_a_continued_trace_is_exported_and_carried_to_the_output(receiver: type, protocol: str) -> None:
    with receiver() as otlp:
        tracing = Tracing.create(Settings(otlp_endpoint=otlp.endpoint, otlp_protocol=protocol), RESOURCE, "g1")
        headers = one_hop(tracing, consumed(f"00-{TRACE_ID}-{PARENT_ID}-01"))
        tracing.shutdown()
        spans = {s.name: s for s in otlp.wait_for(lambda got: len(got) == 3)}
    trace_id, send_id, sampled = parse(headers)
    assert (trace_id, sampled) == (TRACE_ID, True) and ("rankstream.dlq.reason", b"x") in headers
    process, fetch, send = spans["process search-queries"], spans["context fetch"], spans["send ranked-results"]
    assert {s.trace_id for s in spans.values()} == {TRACE_ID}
    assert (process.parent_span_id, process.kind) == (PARENT_ID, CONSUMER)
    assert fetch.parent_span_id == process.span_id == send.parent_span_id
    assert (send.span_id, send.kind) == (send_id, PRODUCER), "the output's header names its send span"
    assert process.attributes == {
        "messaging.system": "kafka",
        "messaging.operation.name": "process",
        "messaging.operation.type": "process",
        "messaging.destination.name": "search-queries",
        "messaging.destination.partition.id": "2",
        "messaging.kafka.offset": 41,
        "messaging.consumer.group.name": "g1",
        "messaging.kafka.message.key": "r-1",
    }
    assert process.service == "rankstream"


def test_shared_work_is_one_span_linked_to_each_message() -> None:
    with HttpReceiver() as otlp:
        tracing = Tracing.create(Settings(otlp_endpoint=otlp.endpoint), RESOURCE, "g1")
        a, b = tracing.process(consumed()), tracing.process(consumed(f"00-{TRACE_ID}-{PARENT_ID}-01"))
        with tracing.shared("score", [a.span, b.span], {"rankstream.batch.requests": 2}):
            pass
        a.span.end(), b.span.end()
        tracing.shutdown()
        spans = otlp.wait_for(lambda got: len(got) == 5)
    batch = next(s for s in spans if s.name == "score batch")
    process = [s for s in spans if s.name.startswith("process")]
    children = [s for s in spans if s.name == "score"]
    assert set(batch.links) == {(p.trace_id, p.span_id) for p in process}
    assert batch.parent_span_id == "" and batch.attributes == {"rankstream.batch.requests": 2}
    assert {(c.trace_id, c.parent_span_id) for c in children} == {(p.trace_id, p.span_id) for p in process}
    assert all(c.links == ((batch.trace_id, batch.span_id),) for c in children)


def test_without_an_endpoint_the_trace_still_passes_through() -> None:
    tracing = Tracing.create(Settings(), RESOURCE, "g1")
    assert parse(one_hop(tracing, consumed(f"00-{TRACE_ID}-{PARENT_ID}-01")))[::2] == (TRACE_ID, True)
    new_trace, _, sampled = parse(one_hop(tracing, consumed()))
    assert new_trace != TRACE_ID and not sampled, "no new trace is sampled when nothing exports"
    passed_on = one_hop(NO_TRACING, consumed(f"00-{TRACE_ID}-{PARENT_ID}-01"))
    assert parse(passed_on) == (TRACE_ID, PARENT_ID, True), "no spans: the input's context goes on unchanged"
    assert "traceparent" not in dict(one_hop(NO_TRACING, consumed()))


def test_sampling_applies_to_new_traces_and_continued_ones_follow_their_flag() -> None:
    with HttpReceiver() as otlp:
        tracing = Tracing.create(Settings(otlp_endpoint=otlp.endpoint, trace_sample_ratio=0.0), RESOURCE, "g1")
        assert not parse(one_hop(tracing, consumed()))[2]
        one_hop(tracing, consumed(f"00-{TRACE_ID}-{PARENT_ID}-01"))
        tracing.shutdown()
        spans = otlp.wait_for(lambda got: len(got) == 3)
    assert {s.trace_id for s in spans} == {TRACE_ID}
