"""Traces across the Kafka hops, end to end: a real broker, Redis, worker and an in-test OTLP/HTTP receiver.

A query and a malformed query go in with W3C traceparent headers; the result and the dead letter
come out carrying the same trace ids in their own traceparent headers, and the worker's spans of
both traces reach the receiver: consume, batch wait, context fetch, score (with its batch span
linked to it), send.
"""

from confluent_kafka import Message

from tests.integration.conftest import Cluster
from tests.integration.test_end_to_end import wait_for
from tests.otlp import HttpReceiver, ReceivedSpan

QUERY_TRACE, BAD_TRACE = "0af7651916cd43dd8448eb211c80319c", "5b8efff798038103d269b633813fc60c"
UPSTREAM_SPAN = "b7ad6b7169203331"
# Spans leave the worker in batches every 200 ms here (OpenTelemetry's default is 5 s).
BATCH_DELAY_MS = "200"


def traceparent(trace_id: str) -> list[tuple[str, bytes]]:
    return [("traceparent", f"00-{trace_id}-{UPSTREAM_SPAN}-01".encode())]


def carried(message: Message) -> tuple[str, str]:
    """(trace id, parent span id) of a message's traceparent header."""
    _, trace_id, span_id, _ = dict(message.headers())["traceparent"].decode().split("-")
    return trace_id, span_id


def of_trace(spans: list[ReceivedSpan], trace_id: str) -> dict[str, ReceivedSpan]:
    return {s.name: s for s in spans if s.trace_id == trace_id}


def test_a_query_trace_runs_from_its_input_header_to_its_result_header(cluster: Cluster) -> None:
    queries, results, dlq = (cluster.topics[t] for t in ("queries", "results", "dlq"))
    with HttpReceiver() as otlp:
        cluster.start_worker(
            "--role", "all", RANKSTREAM_OTLP_ENDPOINT=otlp.endpoint, OTEL_BSP_SCHEDULE_DELAY=BATCH_DELAY_MS
        )
        cluster.produce("postings", "j1", {"job_id": "j1", "title": "ICU nurse", "description": "Night shifts."})
        cluster.flush()
        wait_for(lambda: cluster.committed("postings", 4) == 1, "the posting stored")
        query = {"request_id": "r1", "query": "nurse", "candidate_job_ids": ["j1"]}
        cluster.produce("queries", "r1", query, traceparent(QUERY_TRACE))
        cluster.produce("queries", "bad", b"{not json", traceparent(BAD_TRACE))
        cluster.flush()

        (result,) = cluster.read("results", lambda ms: len(ms) >= 1)
        (letter,) = cluster.read("dlq", lambda ms: len(ms) >= 1)
        assert carried(result)[0] == QUERY_TRACE, "the result continues the query's trace"
        assert carried(letter)[0] == BAD_TRACE, "a dead letter keeps its message's trace"

        wanted = {f"process {queries}", "batch wait", "context fetch", "score", f"send {results}"}
        spans = otlp.wait_for(
            lambda got: wanted <= set(of_trace(got, QUERY_TRACE)) and f"send {dlq}" in of_trace(got, BAD_TRACE)
        )

    query_spans = of_trace(spans, QUERY_TRACE)
    process, send = query_spans[f"process {queries}"], query_spans[f"send {results}"]
    assert process.parent_span_id == UPSTREAM_SPAN
    assert {query_spans[n].parent_span_id for n in ("batch wait", "context fetch", "score", f"send {results}")} == {
        process.span_id
    }
    assert send.span_id == carried(result)[1], "the result's header names the span that sent it"
    assert (process.attributes["messaging.kafka.message.key"], process.attributes["messaging.system"]) == (
        "r1",
        "kafka",
    )
    assert process.attributes["messaging.consumer.group.name"] == cluster.env["RANKSTREAM_GROUP_ID"] + "-all"
    batch = next(s for s in spans if s.name == "score batch" and (QUERY_TRACE, process.span_id) in s.links)
    assert batch.attributes["rankstream.batch.requests"] == 1 and batch.attributes["rankstream.batch.tokens"] > 0

    bad_spans = of_trace(spans, BAD_TRACE)
    bad_process, bad_send = bad_spans[f"process {queries}"], bad_spans[f"send {dlq}"]
    assert bad_process.parent_span_id == UPSTREAM_SPAN and bad_send.parent_span_id == bad_process.span_id
    assert bad_send.span_id == carried(letter)[1] and bad_send.attributes["rankstream.dlq.reason"] == "invalid_json"
