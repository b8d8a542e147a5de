"""Prefix cache: the keys and values of prefixes already run, so a repeated prefix is not run again.

Contract: `PrefixCache(max_bytes)` maps a prefix's token ids to its keys and values at every layer,
as the attention saw them (rotary positions 0..length-1 applied). A prefix attends only to itself,
so these are the same in every row and batch that shares it; only its items are new work. With the
job-first prompt the prefix is a posting, shared by every query that lists it: a warm cache leaves
~13 tokens per (query, posting) pair to run instead of ~90 (the posting adds ~75).

The least recently used prefixes go first once the entries exceed `max_bytes`; a prefix larger
than the whole bound is never kept. Hits and misses are counted for the worker's metrics.

Ignores: which model made the keys (one cache per engine), devices (entries stay where the model
ran), and thread safety (an engine scores on one thread).
"""

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence

import torch

from slm.engine.attention import LayerKeys
from slm.engine.packing import Prefix

PrefixKeys = tuple[LayerKeys, ...]  # one (keys, values) pair per layer


def entry_bytes(keys: PrefixKeys) -> int:
    return sum(t.numel() * t.element_size() for pair in keys for t in pair)


class PrefixCache:
    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 1:
            raise ValueError("a prefix cache needs a positive size")
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Prefix, PrefixKeys] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def hit_ratio(self) -> float:
        return self.hits / max(self.hits + self.misses, 1)

    def clear(self) -> None:
        self._entries.clear()
        self.bytes = self.hits = self.misses = 0

    def lookup(self, prefixes: Iterable[Prefix]) -> dict[Prefix, PrefixKeys]:
        """The cached entries among `prefixes` (each counted once as a hit or a miss)."""
        found: dict[Prefix, PrefixKeys] = {}
        for prefix in dict.fromkeys(prefixes):
            entry = self._entries.get(prefix)
            if entry is None:
                self.misses += 1
                continue
            self._entries.move_to_end(prefix)
            found[prefix] = entry
            self.hits += 1
        return found

    def put(self, prefix: Prefix, keys: PrefixKeys) -> None:
        size = entry_bytes(keys)
        if not prefix or size > self.max_bytes or prefix in self._entries:
            return
        self._entries[prefix] = keys
        self.bytes += size
        while self.bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self.bytes -= entry_bytes(evicted)


def stack_past(past: Sequence[Prefix], found: Mapping[Prefix, PrefixKeys]) -> tuple[LayerKeys, ...]:
    """Per layer, the keys and values of a batch's past prefixes laid end to end (its key order)."""
    if not past:
        return ()
    entries = [found[prefix] for prefix in past]
    layers = range(len(entries[0]))
    return tuple((torch.cat([e[i][0] for e in entries], 1), torch.cat([e[i][1] for e in entries], 1)) for i in layers)


def split_kept(fresh: Sequence[tuple[Prefix, int]], kept: dict[int, LayerKeys]) -> list[tuple[Prefix, PrefixKeys]]:
    """Each fresh prefix with its own copy of the keys collected per layer (in `fresh` order).

    A prefix's keys and values of every layer live in one block of memory (the entry's tensors are
    views of it): an entry is one allocation of ~1-10 MB, which the allocator maps and unmaps whole,
    where ~40 KB tensors per layer, freed in eviction order, fragmented the heap (the worker's RSS
    grew without bound with the cache full).
    """
    layers = [kept[i] for i in sorted(kept)]
    out, offset = [], 0
    for prefix, _ in fresh:
        span = slice(offset, offset + len(prefix))
        first = layers[0][0][:, span]
        block = first.new_empty((len(layers), 2, *first.shape))
        for i, (k, v) in enumerate(layers):
            block[i, 0].copy_(k[:, span])
            block[i, 1].copy_(v[:, span])
        out.append((prefix, tuple((block[i, 0], block[i, 1]) for i in range(len(layers)))))
        offset += len(prefix)
    return out
