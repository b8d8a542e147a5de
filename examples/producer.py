"""Publish job postings, then search queries, as any producer of rankstream's input would.

    python examples/producer.py postings     # a few job postings, keyed by job_id
    python examples/producer.py queries      # two queries over them, keyed by request_id

Publish postings first: a query is answered from the contexts stored when it is scored, and a
candidate whose posting is not stored yet comes back unscored (`missing_context`). Each query goes
out with a W3C `traceparent` header, so its trace (when the worker exports traces) runs from here
to the result. The producer waits for the broker to acknowledge every message (`flush`) and exits 1
if one was not delivered. Plain confluent-kafka; works against `rankstream dev up` and Apache Kafka.
"""

import argparse
import json
import secrets
import sys

from confluent_kafka import Producer
from connection import add_connection_args, client_config, topic

POSTINGS = [
    {
        "job_id": "ex-nurse",
        "title": "Registered Nurse, ICU (Nights)",
        "description": "Care for critically ill patients on night shifts. BLS and ACLS required.",
        "location": "Denver, CO",
    },
    {
        "job_id": "ex-python",
        "title": "Python Backend Developer",
        "description": "Build REST APIs in Python with PostgreSQL and Kafka. Remote within the US.",
        "skills": ["Python", "PostgreSQL", "Kafka"],
    },
    {
        "job_id": "ex-barista",
        "title": "Barista",
        "description": "Prepare espresso drinks and serve customers in a busy downtown cafe.",
    },
]
QUERIES = [
    {
        "request_id": "ex-1",
        "query": "icu nurse night shift",
        "candidate_job_ids": ["ex-nurse", "ex-python", "ex-barista"],
    },
    {
        "request_id": "ex-2",
        "query": "remote python developer",
        "candidate_job_ids": ["ex-nurse", "ex-python", "ex-barista"],
    },
]


def traceparent() -> bytes:
    """A new W3C trace context: version, trace id, parent span id, sampled."""
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01".encode()


def messages(what: str) -> list[tuple[str, str, str, list[tuple[str, bytes]]]]:
    """(topic, key, JSON value, headers) of each message to send."""
    if what == "postings":
        return [(topic("postings", "job-postings"), p["job_id"], json.dumps(p), []) for p in POSTINGS]
    queries = topic("queries", "search-queries")
    return [(queries, q["request_id"], json.dumps(q), [("traceparent", traceparent())]) for q in QUERIES]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["postings", "queries"])
    add_connection_args(parser)
    args = parser.parse_args()
    # Idempotent with acks from all replicas: a retried send never duplicates a message.
    producer = Producer({**client_config(args), "enable.idempotence": True, "acks": "all"})
    failed = []
    outgoing = messages(args.what)
    for name, key, value, headers in outgoing:
        producer.produce(
            name, value, key, headers=headers, on_delivery=lambda err, _msg: failed.append(err) if err else None
        )
        print(f"sent {key} to {name}" + "".join(f" {h}={v.decode()}" for h, v in headers))
    undelivered = producer.flush(30)
    if failed or undelivered:
        print(f"not delivered: {len(failed) + undelivered} ({failed[:1]})", file=sys.stderr)
        return 1
    print(f"delivered {len(outgoing)} {args.what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
