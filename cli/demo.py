"""`rankstream demo`: the whole path on this machine, end to end.

Starts the local broker and Redis (if not already up), runs a worker in-process with the default
model (or the untrained base model, saying so, when the default has not been built), publishes the
sample postings and queries shipped in `cli/demo_data/`, prints each query's ranked results, and
stops what it started.
"""

import json
import threading
import time
import uuid
from pathlib import Path

from confluent_kafka import Consumer
from rich.console import Console
from rich.table import Table

from cli import dev
from compressor import ContextStore
from schemas import RankedResults
from slm.weights.bases import fetch_base
from worker.kafka import client_config, make_producer
from worker.service import build_loop, build_parts
from worker.settings import Settings
from worker.telemetry import Telemetry

DATA = Path(__file__).parent / "demo_data"
CONTEXTS_TIMEOUT_S = 60.0
RESULTS_TIMEOUT_S = 300.0  # the untrained base model on 2 cores needs ~1 s per query of 20 items
console = Console()


def _model_path(settings: Settings) -> Path:
    if (settings.model_path / "config.json").exists():
        return settings.model_path
    console.print(
        f"[yellow]No trained default model at {settings.model_path}: running the untrained base "
        "model SmolLM2-135M-Instruct (zero-shot; expect poor rankings). "
        "Build the default with `rankstream model build`.[/yellow]"
    )
    return fetch_base(settings.home)


def _read(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text().splitlines()]


def _publish_postings(settings: Settings, store: ContextStore) -> None:
    """Publish the sample postings and wait until their contexts are stored."""
    producer = make_producer(settings)
    postings = _read("postings.jsonl")
    for p in postings:
        producer.produce(settings.topic_postings, json.dumps(p).encode(), p["job_id"].encode())
    producer.flush(30)
    deadline = time.monotonic() + CONTEXTS_TIMEOUT_S
    while None in store.get_many([p["job_id"] for p in postings]) and time.monotonic() < deadline:
        time.sleep(0.1)


def _publish_queries(settings: Settings, run_id: str) -> dict[str, dict]:
    producer = make_producer(settings)
    queries = {}
    for query in _read("queries.jsonl"):
        query["request_id"] = f"{query['request_id']}-{run_id}"
        queries[query["request_id"]] = query
        producer.produce(settings.topic_queries, json.dumps(query).encode(), query["request_id"].encode())
    producer.flush(30)
    return queries


def _collect(settings: Settings, wanted: set[str]) -> dict[str, RankedResults]:
    consumer = Consumer(
        {
            **client_config(settings),
            "group.id": f"rankstream-demo-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "session.timeout.ms": settings.session_timeout_ms,
        }
    )
    consumer.subscribe([settings.topic_results])
    got: dict[str, RankedResults] = {}
    deadline = time.monotonic() + RESULTS_TIMEOUT_S
    while wanted - got.keys() and time.monotonic() < deadline:
        for message in consumer.consume(100, 0.5):
            if not message.error() and message.key() and message.key().decode() in wanted:
                got[message.key().decode()] = RankedResults.model_validate_json(message.value())
    consumer.close()
    return got


def _print(queries: dict[str, dict], results: dict[str, RankedResults]) -> None:
    postings = {p["job_id"]: p for p in _read("postings.jsonl")}
    for request_id, query in queries.items():
        table = Table(title=f'"{query["query"]}"', title_justify="left", show_edge=False)
        for column in ("rank", "score", "job", "company"):
            table.add_column(column)
        ranked = results.get(request_id)
        for item in ranked.results if ranked else []:
            job = postings[item.job_id]
            table.add_row(str(item.rank), f"{item.score:.3f}", job["title"], job["company"])
        console.print(table if ranked else f'[red]"{query["query"]}": no result[/red]')


def run_demo(settings: Settings) -> int:
    already_up = all(s.answers() for s in dev.services(settings))
    for line in dev.up(settings):
        console.print(line)
    settings = settings.model_copy(update={"model_path": _model_path(settings), "http_port": 0})
    parts = build_parts(settings, "all")
    loop = build_loop(settings, "all", parts, Telemetry(settings, settings.consumer_group("all")))
    worker = threading.Thread(target=loop.run, name="demo-worker")
    worker.start()
    results: dict[str, RankedResults] = {}
    try:
        _publish_postings(settings, parts.store)
        started = time.monotonic()
        queries = _publish_queries(settings, uuid.uuid4().hex[:8])
        results = _collect(settings, set(queries))
        console.print(
            f"model: {parts.scorer.name}, compressor: {parts.store.compressor_id}: "
            f"{len(results)}/{len(queries)} queries ranked in {time.monotonic() - started:.1f}s"
        )
        _print(queries, results)
    finally:
        loop.stop_requested.set()
        worker.join()
        if not already_up:
            for line in dev.down(settings):
                console.print(line)
    return 0 if results and len(results) == len(queries) else 1
