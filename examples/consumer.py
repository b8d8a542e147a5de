"""Read ranked results, as a search front end waiting for its queries' answers would.

    python examples/consumer.py                          # print every result, until Ctrl-C
    python examples/consumer.py --wait ex-1 ex-2         # exit 0 once both are in (1 after --timeout)

Results on `ranked-results` are keyed by `request_id`; a redelivered query gives an equal result,
so a reader keeps the first per request id. What a consumer needs:
- its own `group.id` (never the worker's group): each group reads every result;
- `auto.offset.reset=earliest`: a new group starts from the beginning of the topic. With the default
  `latest` it starts at the end as of its first assignment, so results published while it was
  joining (seconds) are never seen;
- a short `session.timeout.ms` (6 s here): the group's first join takes up to the session timeout
  on some brokers (the dev broker Tansu took 23 s with the default 45 s); Apache Kafka adds its
  `group.initial.rebalance.delay.ms` (3 s by default) instead.
The result's `traceparent` header continues the query's trace. Plain confluent-kafka.
"""

import argparse
import json
import sys
import time
import uuid

from confluent_kafka import Consumer
from connection import add_connection_args, client_config, topic

# Short, since a new group's first join can take up to this (Tansu); 6 s is the lowest Apache Kafka
# accepts by default (its group.min.session.timeout.ms).
SESSION_TIMEOUT_MS = 6000


def describe(result: dict, trace: str | None) -> str:
    ranked = ", ".join(f"{r['job_id']} {r['score']:.3f}" for r in result["results"])
    unscored = "".join(f", {u['job_id']} unscored ({u['reason']})" for u in result["unscored"])
    degraded = f" [degraded: {result['degraded']}]" if result.get("degraded") else ""
    return f"{result['request_id']}: {ranked}{unscored}{degraded} traceparent={trace}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wait", nargs="*", default=[], metavar="REQUEST_ID", help="exit once these are in")
    parser.add_argument("--timeout", type=float, default=60.0, help="with --wait: give up after this many seconds")
    parser.add_argument("--group", default=f"example-reader-{uuid.uuid4().hex[:8]}", help="consumer group")
    add_connection_args(parser)
    args = parser.parse_args()
    consumer = Consumer(
        {
            **client_config(args),
            "group.id": args.group,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": SESSION_TIMEOUT_MS,
        }
    )
    consumer.subscribe([topic("results", "ranked-results")])
    waiting, deadline = set(args.wait), time.monotonic() + args.timeout
    seen: set[str] = set()
    try:
        while not args.wait or (waiting and time.monotonic() < deadline):
            for message in consumer.consume(100, 0.5):
                if message.error() or message.key().decode() in seen:
                    continue
                seen.add(message.key().decode())
                trace = dict(message.headers() or []).get("traceparent")
                print(describe(json.loads(message.value()), trace.decode() if trace else None), flush=True)
                waiting.discard(message.key().decode())
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()
    if waiting:
        print(f"no result within {args.timeout:.0f} s for: {sorted(waiting)}", file=sys.stderr)
    return 1 if waiting else 0


if __name__ == "__main__":
    sys.exit(main())
