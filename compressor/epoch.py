"""The store's epoch and the postings table's progress, kept in Redis beside the contexts.

Keys, in the store's namespace (`ContextStore.namespace`), which they carry as a hash tag: on a Redis
Cluster both live in one slot, so the epoch and its progress are read in one MULTI there too:
- `rankstream:epoch:{namespace}`, a hash: `id` (a fresh random id per build), `state` (`rebuilding`
  until the postings workers have applied every postings partition to its end, then `ready`) and
  `started_at` (epoch seconds). No key means no store: Redis is new or was wiped (restarted empty,
  FLUSHALL), and the postings workers build a new epoch by replaying the postings topic.
- `rankstream:progress:{namespace}:{epoch id}`, a hash: per postings partition, the offset of the
  last message applied in that epoch, its Kafka timestamp, and the partition's high watermark as the
  applying consumer's fetches last reported it (`"{offset}:{timestamp_ms}:{fetched_end}"`, -1 when
  unknown). It only moves forward (a Lua script compares and writes), so a zombie's late batch cannot move it back; a
  new epoch starts from nothing, so a replay's progress is its own.

`begin` creates an epoch only where there is none (whoever comes first wins, the others adopt it);
`restart` replaces it (`rankstream contexts rebuild`); `mark_ready` only marks the epoch it names, so
a rebuild started meanwhile stays rebuilding. `read` takes the epoch and its progress in one MULTI.
Ignores which worker wrote what: progress is the table's, not a worker's.
"""

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from compressor.client import StoreClient, tagged

EPOCH_PREFIX = "rankstream:epoch"
PROGRESS_PREFIX = "rankstream:progress"

EpochState = Literal["rebuilding", "ready"]

# Returns the epoch's id: the one stored, else a new one made from ARGV (id, started_at).
_BEGIN = """
local held = redis.call('HGET', KEYS[1], 'id')
if held then return held end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'state', 'rebuilding', 'started_at', ARGV[2])
return ARGV[1]
"""
# Returns 1 when the epoch ARGV[1] went from rebuilding to ready.
_MARK_READY = """
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'state') == 'ready' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'ready')
return 1
"""
# ARGV: pairs of partition, "offset:timestamp_ms"; a partition's entry only moves to a later offset.
_ADVANCE = """
for i = 1, #ARGV, 2 do
  local held = redis.call('HGET', KEYS[1], ARGV[i])
  local offset = tonumber(string.match(ARGV[i + 1], '^(-?%d+):'))
  if not held or tonumber(string.match(held, '^(-?%d+):')) < offset then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
return 1
"""


@dataclass(frozen=True)
class Applied:
    """The last message applied in a postings partition: its offset, its Kafka timestamp, and the
    partition's end as the consumer that applied it last saw it in a fetch response (-1: unknown)."""

    offset: int
    timestamp_ms: int
    fetched_end: int = -1

    def encode(self) -> str:
        return f"{self.offset}:{self.timestamp_ms}:{self.fetched_end}"

    @classmethod
    def decode(cls, raw: bytes) -> "Applied":
        offset, timestamp_ms, fetched_end = raw.decode().split(":")
        return cls(int(offset), int(timestamp_ms), int(fetched_end))


@dataclass(frozen=True)
class Epoch:
    id: str
    state: EpochState
    started_at: float  # epoch seconds


@dataclass(frozen=True)
class Progress:
    """The store as read at one moment: its epoch (None: no store) and, per partition, what that
    epoch has applied."""

    epoch: Epoch | None
    applied: Mapping[int, Applied]

    @property
    def ready(self) -> bool:
        return self.epoch is not None and self.epoch.state == "ready"


class EpochStore:
    def __init__(self, client: StoreClient, namespace: str) -> None:
        self.client = client
        self.key = epoch_key(namespace)
        self._progress_prefix = f"{PROGRESS_PREFIX}:{tagged(namespace)}"
        self._begin = client.register_script(_BEGIN)
        self._mark_ready = client.register_script(_MARK_READY)
        self._advance = client.register_script(_ADVANCE)

    def progress_key(self, epoch_id: str) -> str:
        return f"{self._progress_prefix}:{epoch_id}"

    def read(self) -> Progress:
        """The epoch and its progress, read together (two MULTIs when the epoch is new to us: its
        progress key is known only once its id is)."""
        fields = self.client.hmget(self.key, "id", "state", "started_at")
        if fields[0] is None:
            return Progress(None, {})
        epoch_id = fields[0].decode()
        pipe = self.client.pipeline(transaction=True)
        pipe.hmget(self.key, "id", "state", "started_at")
        pipe.hgetall(self.progress_key(epoch_id))
        fields, raw = pipe.execute()
        if fields[0] is None or fields[0].decode() != epoch_id:  # replaced or wiped in between
            return self.read()
        epoch = Epoch(epoch_id, "ready" if fields[1] == b"ready" else "rebuilding", float(fields[2] or 0))
        return Progress(epoch, {int(p): Applied.decode(v) for p, v in raw.items()})

    def begin(self) -> str:
        """The current epoch's id, creating a rebuilding one if there is none."""
        return self._begin(keys=[self.key], args=[uuid.uuid4().hex, time.time()]).decode()

    def restart(self) -> str:
        """Replace the epoch with a new, rebuilding one (its progress starts empty): a rebuild on demand."""
        epoch_id = uuid.uuid4().hex
        self.client.hset(self.key, mapping={"id": epoch_id, "state": "rebuilding", "started_at": time.time()})
        return epoch_id

    def mark_ready(self, epoch_id: str) -> bool:
        """Mark epoch `epoch_id` ready; False if it is not the current one or already ready."""
        return bool(self._mark_ready(keys=[self.key], args=[epoch_id]))

    def advance(self, epoch_id: str, applied: Mapping[int, Applied]) -> None:
        """Record what `epoch_id` has applied, per partition (never moving a partition back)."""
        if applied:
            args = [str(v) for p, a in applied.items() for v in (p, a.encode())]
            self._advance(keys=[self.progress_key(epoch_id)], args=args)


def epoch_key(namespace: str) -> str:
    return f"{EPOCH_PREFIX}:{tagged(namespace)}"
