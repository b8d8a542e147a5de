"""The context store: compressed contexts in Redis, one hash per (compressor, tokenizer, job).

Key: `rankstream:ctx:{namespace}:{job_id}`, where namespace = "{compressor name@version}:{tokenizer id}",
so a compressor or tokenizer change writes new keys beside the old ones during a rollout.
Fields: `text`, `ids` (token ids as packed little-endian uint32), `compressor` (who wrote the text:
the namespace's compressor, or the extractive fallback of an abstractive one), `hash` (of the
posting's content), `updated_at` (epoch microseconds, empty when the producer sent none).

Writes are conditional on the event's `EventOrder` (a Lua script makes the check and the write atomic;
sent as EVAL, not EVALSHA: a cluster pipeline cannot reload a script a node lacks, and a promoted
replica has none):
a write older than the stored entry is ignored. Older means an earlier `updated_at` when both carry
one; otherwise (equal times, or a side without one) an offset at or before the stored one in the same
partition: Kafka keys postings by job_id, so a job's events keep their log order in one partition, and
a replay or a zombie worker finishing a batch whose partition moved on writes nothing. Every delete
leaves a tombstone (only the order fields and `deleted`, kept for TOMBSTONE_TTL_S), so an older upsert
delivered after it cannot bring the posting back. Stored order fields: `updated_at` (epoch
microseconds), `partition`, `offset` (each empty when unknown).
Reads of all of a query's candidates take one round trip (`fetch`: one pipeline, split by node on a
Redis Cluster, whose last command reads the store's epoch state, `compressor.epoch`, so a candidate
missing from a store being rebuilt or wiped is told apart from one never posted: on one node the
epoch is read after the contexts, and a wipe before either read leaves no epoch); an entry whose ids
are not whole uint32s reads as missing rather than failing the whole request.
Every command and script touches one key, so the same calls serve one node and a cluster (contexts
spread over its masters by job id). A cluster master restarted empty, without a replica or
persistence, loses its slots' contexts while the epoch, on another master, survives: the store
cannot tell that from deletions (docs/ARCHITECTURE.md, "Redis Cluster").
An unchanged re-post is not rewritten but touched: its `updated_at` advances and its TTL restarts,
unless a fallback wrote its context: such an entry offers no hash, so the re-post is compressed again
(the summarizer gets another try).
"""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from compressor.client import StoreClient, StorePipeline
from compressor.epoch import epoch_key
from schemas import JobPosting, UnscoredReason

KEY_PREFIX = "rankstream:ctx"
# Kafka's default retention (7 days): a replay of the topic cannot reach past a tombstone this old.
TOMBSTONE_TTL_S = 7 * 24 * 3600
_IDS_DTYPE = np.dtype("<u4")  # vocabularies stay far below 2**32; fixed byte order for any reader

# Every script's ARGV starts with the event's order: updated_at, partition, offset ('' when unknown),
# then a TTL. `stale` is true when the stored entry is at or after that order.
_STALE = """
local function known(v) return v and v ~= '' end
local function stale(key, at, part, off)
  local s = redis.call('HMGET', key, 'updated_at', 'partition', 'offset')
  if known(s[1]) and at ~= '' and tonumber(s[1]) ~= tonumber(at) then return tonumber(s[1]) > tonumber(at) end
  if known(s[2]) and known(s[3]) and part ~= '' and off ~= '' and s[2] == part then
    return tonumber(s[3]) >= tonumber(off)
  end
  return false
end
"""
# Returns 1 when written, 0 when stale. ARGV: order (3), ttl, then field pairs.
_CONDITIONAL_HSET = (
    _STALE
    + """
if stale(KEYS[1], ARGV[1], ARGV[2], ARGV[3]) then return 0 end
redis.call('DEL', KEYS[1])  -- drops a tombstone's fields and its expiry
redis.call('HSET', KEYS[1], 'updated_at', ARGV[1], 'partition', ARGV[2], 'offset', ARGV[3], unpack(ARGV, 5))
if tonumber(ARGV[4]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[4]) end
return 1
"""
)
# Returns 1 when deleted (a tombstone left), 0 when stale. ARGV: order (3), tombstone ttl.
_CONDITIONAL_DELETE = (
    _STALE
    + """
if stale(KEYS[1], ARGV[1], ARGV[2], ARGV[3]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'updated_at', ARGV[1], 'partition', ARGV[2], 'offset', ARGV[3], 'deleted', '1')
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
"""
)
# Returns 1 when a context is stored. ARGV: order (3), ttl. Moves the order forward, never back.
_TOUCH = (
    _STALE
    + """
if redis.call('HEXISTS', KEYS[1], 'text') == 0 then return 0 end
if not stale(KEYS[1], ARGV[1], ARGV[2], ARGV[3]) then
  redis.call('HSET', KEYS[1], 'updated_at', ARGV[1], 'partition', ARGV[2], 'offset', ARGV[3])
end
if tonumber(ARGV[4]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[4]) end
return 1
"""
)


@dataclass(frozen=True)
class Context:
    """A stored context: what the scorer reads for one candidate."""

    text: str
    token_ids: list[int]


@dataclass(frozen=True)
class Fetched:
    """A query's candidates as read, and whether the store was ready (its epoch present and built)
    and reachable at all."""

    contexts: list[Context | None]
    store_ready: bool
    reachable: bool = True

    @classmethod
    def unavailable(cls, candidates: int) -> "Fetched":
        """Nothing read: the store did not answer."""
        return cls([None] * candidates, store_ready=False, reachable=False)

    @property
    def missing_reason(self) -> UnscoredReason:
        """Why a candidate without a context is unscored: never posted (or deleted) in a ready store;
        not known yet while the store is missing or being rebuilt, or not answering."""
        if not self.reachable:
            return "context_store_unavailable"
        return "missing_context" if self.store_ready else "context_store_rebuilding"


@dataclass(frozen=True)
class EventOrder:
    """Where a posting event stands among its job's events: the producer's `updated_at`, if any, and
    its place in the log (partition and offset), if it came from Kafka."""

    updated_at: datetime | None = None
    partition: int | None = None
    offset: int | None = None

    def args(self) -> list[str]:
        """The scripts' ARGV form: epoch microseconds, partition, offset; '' for each one unknown."""
        at = None if self.updated_at is None else int(self.updated_at.timestamp() * 1_000_000)
        return ["" if v is None else str(v) for v in (at, self.partition, self.offset)]


@dataclass(frozen=True)
class ContextEntry:
    """A context to write, with what the store needs to order and dedupe it."""

    job_id: str
    text: str
    token_ids: Sequence[int]
    content_hash: str
    order: EventOrder
    compressor: str | None = None  # who wrote the text, when not the store's compressor (a fallback)


def content_hash(posting: JobPosting) -> str:
    """A digest of everything the compressor reads; equal digests compress to equal contexts."""
    fields = posting.model_dump(
        include={"title", "description", "company", "location", "skills", "seniority", "work_type"}
    )
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:32]


def _context(text: bytes | None, ids: bytes | None) -> Context | None:
    if text is None or ids is None or len(ids) % _IDS_DTYPE.itemsize:
        return None
    try:
        return Context(text.decode(), np.frombuffer(ids, dtype=_IDS_DTYPE).tolist())
    except UnicodeDecodeError:
        return None


def _queue_script(pipe: StorePipeline, source: str, key: str, *args: str | int | bytes) -> None:
    """Queue a script on one key in a pipeline (EVAL: redis-py's cluster pipelines refuse EVALSHA)."""
    pipe.execute_command("EVAL", source, 1, key, *args)


class ContextStore:
    def __init__(
        self, client: StoreClient, compressor_id: str, tokenizer_id: str, ttl_seconds: int | None = None
    ) -> None:
        self.client = client
        self.compressor_id = compressor_id
        self.namespace = f"{compressor_id}:{tokenizer_id}"
        self.ttl_seconds = ttl_seconds or 0

    def key(self, job_id: str) -> str:
        return f"{KEY_PREFIX}:{self.namespace}:{job_id}"

    def get_many(self, job_ids: Sequence[str]) -> list[Context | None]:
        """Every candidate's context (None where missing), in one round trip."""
        return self.fetch(job_ids).contexts

    def fetch(self, job_ids: Sequence[str]) -> Fetched:
        """Every candidate's context, then the store's state, in one pipeline (one round trip per node)."""
        pipe = self.client.pipeline(transaction=False)
        for job_id in job_ids:
            pipe.hmget(self.key(job_id), "text", "ids")
        pipe.hget(epoch_key(self.namespace), "state")
        *rows, state = pipe.execute()
        return Fetched([_context(text, ids) for text, ids in rows], state == b"ready")

    def stored_hashes(self, job_ids: Sequence[str]) -> list[str | None]:
        """The content hash stored for each job, to skip compressing unchanged re-posts (None where
        nothing is stored or a fallback wrote the context)."""
        pipe = self.client.pipeline(transaction=False)
        for job_id in job_ids:
            pipe.hmget(self.key(job_id), "hash", "compressor")
        own = self.compressor_id.encode()
        return [h.decode() if h is not None and by == own else None for h, by in pipe.execute()]

    def put_many(self, entries: Sequence[ContextEntry]) -> list[bool]:
        """Write entries; False where a newer version was already stored."""
        pipe = self.client.pipeline(transaction=False)
        for e in entries:
            ids = np.asarray(e.token_ids, dtype=_IDS_DTYPE).tobytes()
            compressor = e.compressor or self.compressor_id
            fields = ["text", e.text, "ids", ids, "compressor", compressor, "hash", e.content_hash]
            _queue_script(pipe, _CONDITIONAL_HSET, self.key(e.job_id), *e.order.args(), self.ttl_seconds, *fields)
        return [bool(r) for r in pipe.execute()]

    def touch_many(self, job_ids: Sequence[str], orders: Sequence[EventOrder]) -> list[bool]:
        """For unchanged re-posts: advance the order and restart the TTL; False where nothing is stored."""
        pipe = self.client.pipeline(transaction=False)
        for job_id, order in zip(job_ids, orders, strict=True):
            _queue_script(pipe, _TOUCH, self.key(job_id), *order.args(), self.ttl_seconds)
        return [bool(r) for r in pipe.execute()]

    def delete_many(self, job_ids: Sequence[str], orders: Sequence[EventOrder]) -> list[bool]:
        """Delete entries, leaving tombstones; False where a newer event is stored."""
        pipe = self.client.pipeline(transaction=False)
        for job_id, order in zip(job_ids, orders, strict=True):
            _queue_script(pipe, _CONDITIONAL_DELETE, self.key(job_id), *order.args(), TOMBSTONE_TTL_S)
        return [bool(r) for r in pipe.execute()]
