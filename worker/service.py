"""Assemble and run a worker: settings in, exit code out.

Role "postings" loads only the tokenizer (contexts are stored with the scoring model's token ids);
"queries" and "all" load the model. SIGTERM and SIGINT (handled from the process's start,
`worker.__main__`) request a graceful stop: the loop drains in-flight work, commits, and the process
exits 0. Postings workers keep the store's epoch and rebuild
it by replay (`worker.rebuild`); queries wait at the table gate (`worker.gate`) for the postings table
to catch up to them. Each reads the table through a view of its own (`worker.table`).
"""

import logging
import threading
from dataclasses import dataclass

from compressor import DEFAULT_BUDGET_TOKENS, ContextStore
from compressor.abstractive import SUMMARY_MAX_NEW_TOKENS
from compressor.epoch import EpochStore
from compressor.factory import Compressor, compressor_id, make_compressor
from schemas import parse_posting_event, parse_search_query
from slm import Scorer
from slm.generate import load_generator
from slm.load import context_budget, model_name
from slm.tokens import TextEncoder
from slm.weights.bases import INSTRUCT_BASE, fetch_base
from worker.batch import Batcher
from worker.commit import OffsetTracker
from worker.context import ContextWriter, PendingPosting
from worker.gate import TableGate
from worker.health import HealthServer
from worker.kafka import make_admin, make_offsets_reader, make_producer
from worker.logs import configure_logging
from worker.loop import ConsumeLoop, Route
from worker.publish import Publisher
from worker.readiness import CHECK_TIMEOUT_S, loop_readiness
from worker.rebuild import Rebuilder
from worker.redis_client import redis_client
from worker.score import PendingQuery, QueryScorer
from worker.settings import Role, Settings
from worker.stage import Stage
from worker.startup import require_model_dir
from worker.table import TableView
from worker.telemetry import Telemetry
from worker.validate import Validator

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Parts:
    """What a worker is made of, built once from settings."""

    scorer: Scorer | None  # None for a postings-only worker: it needs the tokenizer, not the weights
    encoder: TextEncoder
    compressor: Compressor | None  # None for a queries-only worker: it reads contexts, never writes them
    store: ContextStore


def context_tokens(settings: Settings) -> int:
    """The configured budget, else the model's (its manifest), else the compressor's default."""
    budget = context_budget(settings.model_path, settings.context_budget_tokens)
    return DEFAULT_BUDGET_TOKENS if budget is None else budget


def summarizer_name(settings: Settings) -> str:
    return model_name(settings.summarizer_path) if settings.summarizer_path else INSTRUCT_BASE.name


def build_compressor(settings: Settings) -> Compressor:
    tokens = context_tokens(settings)
    if settings.compressor == "extractive":
        return make_compressor("extractive", tokens)
    path = settings.summarizer_path or fetch_base(settings.home)
    generate = load_generator(
        path,
        device=settings.device,
        dtype=settings.dtype,
        threads=settings.threads,
        max_new_tokens=SUMMARY_MAX_NEW_TOKENS,
        timeout_s=settings.summarizer_timeout_s,
    )
    return make_compressor("abstractive", tokens, generate, settings.summarizer_timeout_s, summarizer_name(settings))


def build_parts(settings: Settings, role: Role) -> Parts:
    scorer = (
        Scorer.load(
            settings.model_path,
            settings.device,
            settings.dtype,
            settings.threads,
            settings.token_budget,
            prefix_cache_mb=settings.prefix_cache_mb,
            compile=settings.compile,
        )
        if role != "postings"
        else None
    )
    encoder = TextEncoder(scorer.tokenizer) if scorer else TextEncoder.load(settings.model_path)
    compressor = build_compressor(settings) if role != "queries" else None
    return Parts(scorer, encoder, compressor, context_store(settings, encoder))


def context_store(settings: Settings, encoder: TextEncoder | None = None) -> ContextStore:
    """The store the settings name: its namespace is the configured compressor's and the model's
    tokenizer's (loaded when not given)."""
    encoder = encoder or TextEncoder.load(settings.model_path)
    namespace = compressor_id(settings.compressor, summarizer_name(settings))
    return ContextStore(redis_client(settings), namespace, encoder.id, settings.context_ttl_seconds)


def watch_prefix_cache(scorer: Scorer, telemetry: Telemetry) -> None:
    cache = scorer.prefix_cache
    if cache is not None:
        telemetry.gauge("rankstream_prefix_cache_bytes", "Bytes of prefix keys kept", lambda: float(cache.bytes))
        telemetry.gauge("rankstream_prefix_cache_hit_ratio", "Prefix lookups that found their keys", cache.hit_ratio)


def table_view(settings: Settings, store: ContextStore) -> TableView:
    """A view with a Redis client of its own that gives up after `CHECK_TIMEOUT_S`: the gate's thread
    also answers waiting queries at their deadlines, and a wedged Redis must not hold it for long."""
    epochs = EpochStore(redis_client(settings, CHECK_TIMEOUT_S), store.namespace)
    return TableView(epochs, make_offsets_reader(settings), settings.topic_postings)


def build_loop(settings: Settings, role: Role, parts: Parts, telemetry: Telemetry) -> ConsumeLoop:
    """The consume loop with a stage per topic of the role (queries behind the table gate)."""
    tracker = OffsetTracker()
    publisher = Publisher(
        make_producer(settings),
        tracker,
        telemetry.metrics,
        settings.topic_results,
        settings.topic_dlq,
        settings.worker_id,
        telemetry.tracing,
    )
    linger_s = settings.batch_linger_ms / 1e3
    routes: dict[str, Route] = {}
    compressor, encoder = parts.compressor, parts.encoder
    rebuilder, views = None, []
    if role in ("postings", "all") and compressor is not None:
        views.append(table_view(settings, parts.store))
        rebuilder = Rebuilder(EpochStore(parts.store.client, parts.store.namespace), views[-1], settings.topic_postings)
        writer = ContextWriter(
            lambda ps: compressor.compress_many_encoded(ps, encoder.encode),
            parts.store,
            publisher,
            tracker,
            telemetry.metrics,
            rebuilder.applied,
        )
        batcher = Batcher(lambda _: 1, settings.postings_batch, linger_s)
        postings = Stage("postings", batcher, writer.handle, writer.fail)
        routes[settings.topic_postings] = Route(
            Validator(parse_posting_event),
            PendingPosting,
            postings,
            rejected=lambda source: postings.submit(PendingPosting(source, None)),
        )
    if role in ("queries", "all") and parts.scorer is not None:
        scorer = QueryScorer(
            parts.scorer,
            parts.store,
            publisher,
            telemetry.metrics,
            context_tokens(settings),
            settings.first_stage_weight,
            telemetry.tracing,
            settings.redis_wait_s,
        )
        views.append(table_view(settings, parts.store))
        stage = Stage(
            "queries",
            Batcher(scorer.cost, settings.token_budget, linger_s, scorer.deadline_of),
            scorer.handle,
            scorer.fail,
            scorer.expire,
        )
        gate = TableGate(stage, views[-1].read, settings.table_wait_ms / 1e3, scorer.expire, telemetry.metrics)
        routes[settings.topic_queries] = Route(
            Validator(parse_search_query), lambda src, q: PendingQuery.of(src, q, settings.default_deadline_ms), gate
        )
        telemetry.gauge("rankstream_table_gate_waiting", "Queries waiting for the postings table", gate.waiting)
        watch_prefix_cache(parts.scorer, telemetry)
    if views:
        telemetry.gauge(
            "rankstream_context_store_rebuilding",
            "1 while the context store is missing or rebuilding",
            views[0].rebuilding,
        )
    return ConsumeLoop(settings, settings.consumer_group(role), routes, publisher, tracker, telemetry, rebuilder)


def run_worker(settings: Settings, role: Role, stop: threading.Event) -> int:
    """Run until `stop` is set (by SIGTERM or SIGINT: `worker.__main__` installs the handlers)."""
    configure_logging(settings)
    require_model_dir(settings.model_path)
    telemetry = Telemetry(settings, settings.consumer_group(role))
    health = None
    if settings.http_port:  # bound before the model loads, so a taken port fails at once
        health = HealthServer(
            settings.http_host,
            settings.http_port,
            lambda: loop.heartbeat,
            lambda: ready(),
            telemetry.prometheus_text,
        )
    parts = build_parts(settings, role)
    loop = build_loop(settings, role, parts, telemetry)
    checks = redis_client(settings, CHECK_TIMEOUT_S)
    epochs = EpochStore(checks, parts.store.namespace) if role != "postings" else None  # queries need the store
    ready = loop_readiness(loop, checks, make_admin(settings), epochs)
    loop.stop_requested = stop
    if health:
        health.start()  # serves from now on: `loop` and `ready` exist
    scoring = f" model={parts.scorer.name} compiled={parts.scorer.compiled}" if parts.scorer else ""
    log.info("worker %s started: role=%s topics=%s%s", settings.worker_id, role, list(loop.routes), scoring)
    try:
        code = loop.run()
    finally:
        if health:
            health.stop()
        telemetry.shutdown()
    log.info("worker %s stopped (exit %d)", settings.worker_id, code)
    return code
