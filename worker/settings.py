"""The one settings object: every knob of the service, read from `RANKSTREAM_*` environment variables.

Frozen and passed down; no other module reads the environment. Secrets (Kafka SASL passwords, a
Redis URL with credentials) are SecretStr, so they never show in logs or reprs.
Kafka client options beyond the basics (security.protocol, sasl.*, ssl.*, ...) pass through as JSON:
    RANKSTREAM_KAFKA_OPTIONS='{"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN", ...}'
"""

import os
import socket
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from slm.blend import FIRST_STAGE_WEIGHT

Role = Literal["postings", "queries", "all"]


def _default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RANKSTREAM_", frozen=True, extra="ignore")

    # Where models, downloads, pids and logs live (generated, never committed).
    home: Path = Path(".rankstream")

    # --- Kafka ---
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_options: dict[str, SecretStr] = Field(default_factory=dict)
    # A prefix: each role consumes in a group of its own, `{group_id}-postings` or `{group_id}-queries`,
    # so scaling the query workers (KEDA) never rebalances, and drains, the postings workers. Role "all"
    # (development, the demo) consumes in `{group_id}-all`: run it alone, not beside role workers.
    group_id: str = "rankstream"
    topic_postings: str = "job-postings"
    topic_queries: str = "search-queries"
    topic_results: str = "ranked-results"
    topic_dlq: str = "rankstream-dlq"
    topic_partitions: int = Field(4, ge=1)  # used when `rankstream dev up` creates the topics
    # A failed member is noticed within this; ~6 s keeps group joins fast on small brokers.
    session_timeout_ms: int = 6000
    consume_batch: int = Field(64, ge=1)  # messages taken per poll
    # Cooperative rebalancing moves only the partitions that change owner, so a worker joining or
    # leaving does not stop the others; "range" or "roundrobin" for brokers without it.
    partition_assignment_strategy: str = "cooperative-sticky"
    # Static membership: a restarted worker with the same id (a StatefulSet pod name) gets its
    # partitions back without a rebalance, if it returns within the session timeout.
    group_instance_id: str | None = None

    # --- Redis ---
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    redis_ssl_ca_certs: Path | None = None  # with a rediss:// URL
    # A Redis Cluster: the URL names any node (a seed; the client finds the others), keys spread over
    # its masters by slot (`worker.redis_client`). Auth and TLS as for one node.
    redis_cluster: bool = False
    # Replicas per master of the local cluster `rankstream dev up` starts (3 masters); 1 tests failovers.
    redis_cluster_replicas: int = Field(0, ge=0, le=2)
    # How long a query's context fetch waits for a context store that does not answer (one node away,
    # a cluster master failing over or lost) before its candidates are answered unscored
    # `context_store_unavailable`: above a managed cluster's failover (ElastiCache's node timeout is 15 s,
    # then an election), so a failover delays answers and a lost master without a replica does not hold them.
    redis_wait_s: float = Field(30.0, gt=0)
    context_ttl_seconds: int | None = None  # None: contexts live until deleted

    # --- model ---
    model_path: Path = Field(default_factory=lambda data: data["home"] / "models" / "default")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    dtype: Literal["auto", "bfloat16", "float32"] = "auto"
    threads: int | None = None  # torch intra-op threads; None: torch's default (all cores)
    token_budget: int = Field(4096, ge=64)  # tokens per forward pass
    # torch.compile the norms' and MLPs' elementwise passes (`slm.engine`): ~1.1x items/s on 2 CPU cores,
    # ~7 s more at start, and a C++ compiler (the CPU image has g++). Off by default: starts stay short.
    compile: bool = False
    # Keys and values of prefixes already run (`slm.engine.prefix_cache`): with the job-first default model
    # a prefix is a posting, ~1.4 MB each for the default model (~9 MB for Qwen3-0.6B). 0 turns it off.
    # 512 keeps the default worker in a 2 GB container: ~1 GB of weights and libraries, the cache,
    # and ~0.3 GB of working set at the default token budget (measured: 2.3 GB with 1024).
    prefix_cache_mb: int = Field(384, ge=0)
    # Weight of a query's `candidate_scores` (z-scored) added to the model's logit (`slm.blend`);
    # 0 ranks by the model alone. The default suits the default model.
    first_stage_weight: float = Field(FIRST_STAGE_WEIGHT, ge=0)

    # --- compressor ---
    compressor: Literal["extractive", "abstractive"] = "extractive"
    # Tokens per context. None: the budget the model was trained with (its manifest), else 64.
    context_budget_tokens: int | None = Field(None, ge=16, le=1024)
    # The summarizer of the abstractive compressor; None: the base instruct model (fetched once).
    summarizer_path: Path | None = None
    # A summarizer batch slower than this falls back to extractive contexts for the batch.
    summarizer_timeout_s: float = Field(120.0, gt=0)

    # Postings compressed and written per batch: one Redis pipeline, one batched tokenizer call.
    postings_batch: int = Field(64, ge=1)

    # --- flow control ---
    # Requests waiting for the model before partitions are paused (backpressure).
    max_inflight_requests: int = Field(256, ge=1)
    # How long a request may linger for others to share its forward pass.
    batch_linger_ms: float = Field(5.0, ge=0)
    # A query's deadline when it carries none (ms after its Kafka timestamp); None: no deadline.
    # A query that cannot be scored by its deadline is answered on time, degraded (README).
    default_deadline_ms: int | None = Field(None, ge=1)
    # How long a query may wait for the postings table to catch up to its Kafka timestamp (`worker.gate`)
    # before it is scored anyway, its result saying `table_behind`: a few seconds cover a postings
    # batch or two behind and a worker starting on a backlog; 0 never waits.
    table_wait_ms: int = Field(3000, ge=0)
    commit_interval_s: float = Field(1.0, gt=0)
    # One bounded drain per stop: below Kubernetes' default 30 s grace period, so a pod is never
    # killed mid-drain.
    shutdown_timeout_s: float = Field(20.0, gt=0)

    # --- observability ---
    http_host: str = "0.0.0.0"
    http_port: int = 9100  # /healthz, /readyz, /metrics; 0 disables
    log_level: str = "INFO"
    # "json": one object a line with the trace and span ids (`worker.logs`), for log pipelines.
    log_format: Literal["text", "json"] = "text"
    # Traces (`worker.tracing`): the OTLP receiver's base URL (http://collector:4318 for http/protobuf,
    # http://collector:4317 for grpc); None: spans are neither recorded nor exported.
    otlp_endpoint: str | None = None
    otlp_protocol: Literal["http/protobuf", "grpc"] = "http/protobuf"
    # Share of new traces sampled; a trace continued from an input's traceparent follows its sampling flag.
    trace_sample_ratio: float = Field(1.0, ge=0, le=1)
    worker_id: str = Field(default_factory=_default_worker_id)

    def consumer_group(self, role: Role) -> str:
        return f"{self.group_id}-{role}"
