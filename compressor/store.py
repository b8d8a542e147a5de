"""The context store: compressed contexts in Redis, one hash per (compressor, tokenizer, job).

Key: `rankstream:ctx:{namespace}:{job_id}`, where namespace = "{compressor name@version}:{tokenizer id}",
so a compressor or tokenizer change writes new keys beside the old ones during a rollout.
Fields: `text`, `ids` (token ids as packed little-endian uint32), `compressor` (who wrote the text:
the namespace's compressor, or the extractive fallback of an abstractive one), `hash` (of the
posting's content), `updated_at` (epoch microseconds, empty when the producer sent none).

Writes are conditional: an upsert older than the stored `updated_at` is ignored (a Lua script makes
the check and the write atomic). A timed delete leaves a tombstone (only `updated_at` and `deleted`,
kept for TOMBSTONE_TTL_S), so an older upsert delivered after it (a replay, an unkeyed producer)
cannot bring the posting back; an untimed delete just removes the entry.
Reads of all of a query's candidates take one pipelined round trip;
an entry whose ids are not whole uint32s reads as missing rather than failing the whole request.
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
import redis

from schemas import JobPosting

KEY_PREFIX = "rankstream:ctx"
# Kafka's default retention (7 days): a replay of the topic cannot reach past a tombstone this old.
TOMBSTONE_TTL_S = 7 * 24 * 3600
_IDS_DTYPE = np.dtype("<u4")  # vocabularies stay far below 2**32; fixed byte order for any reader

# Returns 1 when written, 0 when the stored entry is newer. ARGV: updated_at, ttl, then field pairs.
_CONDITIONAL_HSET = """
local stored = redis.call('HGET', KEYS[1], 'updated_at')
if stored and stored ~= '' and ARGV[1] ~= '' and tonumber(stored) > tonumber(ARGV[1]) then
  return 0
end
redis.call('DEL', KEYS[1])  -- drops a tombstone's fields and its expiry
redis.call('HSET', KEYS[1], 'updated_at', ARGV[1], unpack(ARGV, 3))
if tonumber(ARGV[2]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 1
"""
# Returns 1 when deleted, 0 when the stored entry is newer. ARGV: updated_at, tombstone ttl.
_CONDITIONAL_DELETE = """
local stored = redis.call('HGET', KEYS[1], 'updated_at')
if stored and stored ~= '' and ARGV[1] ~= '' and tonumber(stored) > tonumber(ARGV[1]) then
  return 0
end
redis.call('DEL', KEYS[1])
if ARGV[1] ~= '' then
  redis.call('HSET', KEYS[1], 'updated_at', ARGV[1], 'deleted', '1')
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 1
"""
# Returns 1 when the entry exists. ARGV: updated_at, ttl. Advances updated_at, never moves it back.
_TOUCH = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local stored = redis.call('HGET', KEYS[1], 'updated_at')
if ARGV[1] ~= '' and (not stored or stored == '' or tonumber(stored) < tonumber(ARGV[1])) then
  redis.call('HSET', KEYS[1], 'updated_at', ARGV[1])
end
if tonumber(ARGV[2]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 1
"""


@dataclass(frozen=True)
class Context:
    """A stored context: what the scorer reads for one candidate."""

    text: str
    token_ids: list[int]


@dataclass(frozen=True)
class ContextEntry:
    """A context to write, with what the store needs to order and dedupe it."""

    job_id: str
    text: str
    token_ids: Sequence[int]
    content_hash: str
    updated_at: datetime | None
    compressor: str | None = None  # who wrote the text, when not the store's compressor (a fallback)


def content_hash(posting: JobPosting) -> str:
    """A digest of everything the compressor reads; equal digests compress to equal contexts."""
    fields = posting.model_dump(
        include={"title", "description", "company", "location", "skills", "seniority", "work_type"}
    )
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:32]


def _micros(at: datetime | None) -> str:
    return "" if at is None else str(int(at.timestamp() * 1_000_000))


def _context(text: bytes | None, ids: bytes | None) -> Context | None:
    if text is None or ids is None or len(ids) % _IDS_DTYPE.itemsize:
        return None
    try:
        return Context(text.decode(), np.frombuffer(ids, dtype=_IDS_DTYPE).tolist())
    except UnicodeDecodeError:
        return None


class ContextStore:
    def __init__(
        self, client: redis.Redis, compressor_id: str, tokenizer_id: str, ttl_seconds: int | None = None
    ) -> None:
        self.client = client
        self.compressor_id = compressor_id
        self.namespace = f"{compressor_id}:{tokenizer_id}"
        self.ttl_seconds = ttl_seconds or 0
        self._hset = client.register_script(_CONDITIONAL_HSET)
        self._touch = client.register_script(_TOUCH)
        self._delete = client.register_script(_CONDITIONAL_DELETE)

    def key(self, job_id: str) -> str:
        return f"{KEY_PREFIX}:{self.namespace}:{job_id}"

    def get_many(self, job_ids: Sequence[str]) -> list[Context | None]:
        """Every candidate's context (None where missing), in one round trip."""
        pipe = self.client.pipeline(transaction=False)
        for job_id in job_ids:
            pipe.hmget(self.key(job_id), "text", "ids")
        return [_context(text, ids) for text, ids in pipe.execute()]

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
            self._hset(keys=[self.key(e.job_id)], args=[_micros(e.updated_at), self.ttl_seconds, *fields], client=pipe)
        return [bool(r) for r in pipe.execute()]

    def touch_many(self, job_ids: Sequence[str], updated_ats: Sequence[datetime | None]) -> list[bool]:
        """For unchanged re-posts: advance updated_at and restart the TTL; False where nothing is stored."""
        pipe = self.client.pipeline(transaction=False)
        for job_id, at in zip(job_ids, updated_ats, strict=True):
            self._touch(keys=[self.key(job_id)], args=[_micros(at), self.ttl_seconds], client=pipe)
        return [bool(r) for r in pipe.execute()]

    def delete_many(self, job_ids: Sequence[str], updated_ats: Sequence[datetime | None]) -> list[bool]:
        """Delete entries (a tombstone where the delete is timed); False where a newer upsert is stored."""
        pipe = self.client.pipeline(transaction=False)
        for job_id, at in zip(job_ids, updated_ats, strict=True):
            self._delete(keys=[self.key(job_id)], args=[_micros(at), TOMBSTONE_TTL_S], client=pipe)
        return [bool(r) for r in pipe.execute()]
