"""Token-budget packing: scoring requests (token ids) → batches the engine runs as they are.

Contract: `pack(requests, token_budget, items_per_row)` returns `PackedBatch`es that together hold every
item of every request exactly once. A *row* is one request's prefix followed by some of its items;
a batch lays its rows end to end in one flat token stream (no padding), and the attention keeps
rows and items apart (`slm.engine.attention`). Within a row, position ids restart after the prefix for
each item, so every item sits where it would sit scored alone after the prefix.

- Rows are sorted by tokens per item, so a batch holds items of similar length.
- A batch holds at most `token_budget` tokens. A request too long for what is left of a batch is
  split across rows (and batches); each row repeats the prefix.
- `items_per_row=1` is pairwise scoring (prefix + one item per row); `None` is multi-item.
- A row with a single item is one plain causal sequence (its prefix and item form one block).
- An item longer than the budget is scored alone in a batch of its own; it is never truncated here
  (the scorer bounds item length before packing).
- A prefix in `cached` (its keys and values kept from an earlier batch: `slm.engine.prefix_cache`) takes no
  tokens in the stream: the batch lists it in `past`, and its items attend to the past keys.

Ignores: tokenization, devices and tensors. Everything here is numpy and per item, never per token.
"""

from collections.abc import Container, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

Prefix = tuple[int, ...]


@dataclass(frozen=True)
class ScoreRequest:
    """One prefix (a query, or a posting in the job-first style) and its items, as token ids (prompt
    pieces already applied)."""

    prefix: Sequence[int]
    items: Sequence[Sequence[int]]


@dataclass(frozen=True)
class PackedBatch:
    """A flat token stream of rows, ready for the model, with the attention's block structure.

    A *block* is a run of query tokens and the keys they see: a prefix block sees its own tokens
    causally; an item block sees its row's prefix and itself causally. Blocks are the 4D mask in
    compact form: `slm.engine.attention` expands them into a dense additive mask or attends per block.

    The keys are the `past` prefixes' cached keys (`past_len` of them, in `past` order) followed by
    the stream, so a block's prefix start is a *key* position; its own tokens are stream positions.
    `fresh` lists the prefixes the stream computes (ids, stream start), for the engine to keep.
    """

    input_ids: np.ndarray  # (tokens,) int64
    position_ids: np.ndarray  # (tokens,) int64, restarting after the prefix for each item
    row_starts: np.ndarray  # (rows + 1,) token offsets of the rows in the stream
    block_start: np.ndarray  # (blocks,) first query token of each block
    block_len: np.ndarray  # (blocks,) query tokens in each block
    block_prefix_start: np.ndarray  # (blocks,) first key of the prefix the block also sees
    block_prefix_len: np.ndarray  # (blocks,) 0 for a prefix block or a one-item row
    score_at: np.ndarray  # (items,) stream index of each item's last token
    targets: np.ndarray  # (items,) index of each item in the request-major output
    past: tuple[Prefix, ...] = ()
    fresh: tuple[tuple[Prefix, int], ...] = ()

    @property
    def past_len(self) -> int:
        return sum(map(len, self.past))

    @property
    def tokens(self) -> int:
        return len(self.input_ids)


@dataclass
class _Row:
    prefix: tuple[int, int]  # (start, length): in the stream, or in the past keys if `cached`
    cached: bool = False
    items: list[tuple[int, int]] = field(default_factory=list)

    def blocks(self, past_len: int) -> list[tuple[int, int, int, int]]:
        """(start, length, prefix key start, prefix length) of each block of this row."""
        start, plen = self.prefix
        if self.cached:
            return [(item_start, length, start, plen) for item_start, length in self.items]
        if len(self.items) == 1:  # a one-item row is one causal sequence
            return [(start, plen + self.items[0][1], past_len + start, 0)]
        own = [(start, plen, past_len + start, 0)] if plen else []
        return own + [(item_start, length, past_len + start, plen) for item_start, length in self.items]


@dataclass
class _Builder:
    """Accumulates rows for one batch; `build` turns them into arrays in one pass."""

    ids: list[np.ndarray] = field(default_factory=list)
    positions: list[np.ndarray] = field(default_factory=list)
    rows: list[_Row] = field(default_factory=list)
    targets: list[int] = field(default_factory=list)
    past: dict[Prefix, int] = field(default_factory=dict)  # cached prefix -> its first key
    past_len: int = 0
    fresh: list[tuple[Prefix, int]] = field(default_factory=list)
    size: int = 0

    def open_row(self, prefix: np.ndarray, key: Prefix, cached: bool) -> None:
        if not cached:
            self.rows.append(_Row((self.size, len(prefix))))
            self.fresh.append((key, self.size))
            self._append(prefix, np.arange(len(prefix)))
            return
        if key not in self.past:
            self.past[key] = self.past_len
            self.past_len += len(key)
        self.rows.append(_Row((self.past[key], len(key)), cached=True))

    def add_item(self, item: np.ndarray, target: int) -> None:
        row = self.rows[-1]
        row.items.append((self.size, len(item)))
        self._append(item, np.arange(row.prefix[1], row.prefix[1] + len(item)))
        self.targets.append(target)

    def _append(self, ids: np.ndarray, positions: np.ndarray) -> None:
        self.ids.append(ids)
        self.positions.append(positions)
        self.size += len(ids)

    def build(self) -> PackedBatch:
        blocks = [b for row in self.rows for b in row.blocks(self.past_len)]
        blocks = np.array(blocks, dtype=np.int64).reshape(-1, 4)
        ends = [start + length for row in self.rows for start, length in row.items]
        return PackedBatch(
            input_ids=np.concatenate(self.ids).astype(np.int64, copy=False),
            position_ids=np.concatenate(self.positions).astype(np.int64, copy=False),
            row_starts=np.array([self._row_start(row) for row in self.rows] + [self.size], dtype=np.int64),
            block_start=blocks[:, 0],
            block_len=blocks[:, 1],
            block_prefix_start=blocks[:, 2],
            block_prefix_len=blocks[:, 3],
            score_at=np.array(ends, dtype=np.int64) - 1,
            targets=np.array(self.targets, dtype=np.int64),
            past=tuple(self.past),
            fresh=tuple(self.fresh),
        )

    @staticmethod
    def _row_start(row: _Row) -> int:
        return row.items[0][0] if row.cached else row.prefix[0]


@dataclass(frozen=True)
class _Chunk:
    """Items of one request bound for the same row(s), before they are placed into batches."""

    prefix: np.ndarray
    key: Prefix  # the prefix's ids as a tuple: the cache's key, computed once per request
    items: list[np.ndarray]
    targets: list[int]
    cached: bool

    @property
    def tokens_per_item(self) -> float:
        return sum(map(len, self.items)) / len(self.items)


def _chunks(requests: Sequence[ScoreRequest], items_per_row: int | None, cached: Container[Prefix]) -> list[_Chunk]:
    """Split requests into chunks of at most `items_per_row` items, each sorted by length."""
    chunks: list[_Chunk] = []
    offset = 0
    for request in requests:
        prefix = np.asarray(request.prefix, dtype=np.int64)
        key = tuple(request.prefix)
        items = [np.asarray(item, dtype=np.int64) for item in request.items]
        if any(len(item) == 0 for item in items):
            raise ValueError("an item has no tokens; there is no last position to score it at")
        order = sorted(range(len(items)), key=lambda i: (len(items[i]), i))
        step = items_per_row or max(len(order), 1)
        for lo in range(0, len(order), step):
            part = order[lo : lo + step]
            chunks.append(_Chunk(prefix, key, [items[i] for i in part], [offset + i for i in part], key in cached))
        offset += len(items)
    return sorted(chunks, key=lambda chunk: chunk.tokens_per_item)


def pack(
    requests: Sequence[ScoreRequest],
    token_budget: int,
    items_per_row: int | None = None,
    cached: Container[Prefix] = frozenset(),
) -> Iterator[PackedBatch]:
    """Batches of at most `token_budget` stream tokens (one oversized item alone may exceed it)."""
    if token_budget < 1 or (items_per_row is not None and items_per_row < 1):
        raise ValueError("token_budget and items_per_row must be positive")
    builder = _Builder()
    for chunk in _chunks(requests, items_per_row, cached):
        row_open = False
        for item, target in zip(chunk.items, chunk.targets, strict=True):
            need = len(item) + (0 if row_open or chunk.cached else len(chunk.prefix))
            if builder.size and builder.size + need > token_budget:
                yield builder.build()
                builder, row_open = _Builder(), False
            if not row_open:
                builder.open_row(chunk.prefix, chunk.key, chunk.cached)
                row_open = True
            builder.add_item(item, target)
    if builder.size:
        yield builder.build()
