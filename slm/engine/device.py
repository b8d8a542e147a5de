"""Device plumbing for the engine: host→device uploads and optional CUDA graphs.

- `make_uploader(device)`: CPU shares numpy memory with torch (no copy); CUDA stages all of a
  batch's index arrays in one pinned host buffer and sends them in one non-blocking copy. The buffer
  is reused batch after batch (it only grows, to a power of two), guarded by an event so a batch
  never overwrites bytes the previous copy is still reading.
- `GraphedBody`: captures the decoder once per bucketed token count (powers of two up to the token
  budget) with static input buffers, and replays it. Inputs are padded to the bucket by
  `pad_to_bucket`: pad tokens attend only to themselves, so real tokens are unchanged. Graphs
  take the dense-mask attention (static shapes); the block layout's shapes vary per batch. A model
  with sliding-window layers takes one mask per layer type (`slm.engine.attention.dense_mask`): each
  is a static buffer of the graph, padded alike.

Nothing here runs on this project's CI machines (no GPU), except `pad_to_bucket`, `bucket_for`
and the CPU uploader, which the tests cover.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from slm.engine.attention import Mask

Uploader = Callable[..., tuple[torch.Tensor, ...]]
# Smallest graph bucket: below it, launch overhead is what graphs save, and one bucket covers it.
MIN_BUCKET = 256


def make_uploader(device: torch.device) -> Uploader:
    return PinnedUploader(device) if device.type == "cuda" else _share


def _share(*arrays: np.ndarray) -> tuple[torch.Tensor, ...]:
    return tuple(torch.from_numpy(a) for a in arrays)


class PinnedUploader:
    """Int64 arrays → device tensors through one reusable pinned buffer and one async copy."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.host = torch.empty(0, dtype=torch.int64)
        self.copied: torch.cuda.Event | None = None

    def __call__(self, *arrays: np.ndarray) -> tuple[torch.Tensor, ...]:
        sizes = [len(a) for a in arrays]
        total = sum(sizes)
        if self.copied is not None:
            self.copied.synchronize()
        if total > self.host.numel():
            self.host = torch.empty(1 << (total - 1).bit_length(), dtype=torch.int64, pin_memory=True)
        np.concatenate(arrays, out=self.host.numpy()[:total])
        on_device = self.host[:total].to(self.device, non_blocking=True)
        self.copied = torch.cuda.Event()
        self.copied.record()
        return tuple(on_device.split(sizes))


def bucket_for(tokens: int, largest: int) -> int | None:
    """The power-of-two bucket (at least MIN_BUCKET) holding `tokens`, or None above `largest`."""
    bucket = max(MIN_BUCKET, 1 << max(tokens - 1, 0).bit_length())
    return bucket if bucket <= largest else None


def map_mask(mask: Mask, change: Callable[[torch.Tensor], torch.Tensor]) -> Mask:
    """`change` applied to the mask, or to each layer type's."""
    return {kind: change(m) for kind, m in mask.items()} if isinstance(mask, dict) else change(mask)


def mask_tensors(mask: Mask) -> tuple[torch.Tensor, ...]:
    """The mask's tensors in a fixed order (layer types sorted)."""
    return tuple(mask[kind] for kind in sorted(mask)) if isinstance(mask, dict) else (mask,)


def pad_to_bucket(
    ids: torch.Tensor, positions: torch.Tensor, mask: Mask, bucket: int
) -> tuple[torch.Tensor, torch.Tensor, Mask]:
    """Pad (1, T) ids/positions and (1, 1, T, T) masks to `bucket`; pads see only themselves."""
    extra = bucket - ids.shape[1]
    ids = torch.nn.functional.pad(ids, (0, extra))
    positions = torch.nn.functional.pad(positions, (0, extra))
    return ids, positions, map_mask(mask, lambda m: _pad_mask(m, bucket))


def _pad_mask(mask: torch.Tensor, bucket: int) -> torch.Tensor:
    padded = mask.new_full((1, 1, bucket, bucket), torch.finfo(mask.dtype).min)
    padded[..., : mask.shape[2], : mask.shape[3]] = mask
    padded[0, 0].diagonal()[mask.shape[2] :] = 0
    return padded


@dataclass
class _Graph:
    graph: torch.cuda.CUDAGraph
    ids: torch.Tensor
    positions: torch.Tensor
    mask: Mask
    out: torch.Tensor


class GraphedBody:
    """Decoder forward over static, bucketed shapes replayed from CUDA graphs (CUDA only)."""

    def __init__(self, body: torch.nn.Module, largest: int) -> None:
        self.body = body
        self.largest = largest
        self.graphs: dict[int, _Graph] = {}

    def __call__(self, ids: torch.Tensor, positions: torch.Tensor, mask: Mask) -> torch.Tensor:
        """Final hidden states (T, hidden) of a (1, T) stream."""
        tokens = ids.shape[1]
        bucket = bucket_for(tokens, self.largest)
        if bucket is None:
            return self._forward(ids, positions, mask)[0]
        graph = self.graphs.get(bucket) or self._capture(bucket, mask)
        padded_ids, padded_positions, padded_mask = pad_to_bucket(ids, positions, mask, bucket)
        statics = (graph.ids, graph.positions, *mask_tensors(graph.mask))
        for static, value in zip(statics, (padded_ids, padded_positions, *mask_tensors(padded_mask)), strict=True):
            static.copy_(value, non_blocking=True)
        graph.graph.replay()
        return graph.out[0, :tokens]

    def _forward(self, ids: torch.Tensor, positions: torch.Tensor, mask: Mask) -> torch.Tensor:
        return self.body(input_ids=ids, position_ids=positions, attention_mask=mask, use_cache=False).last_hidden_state

    def _capture(self, bucket: int, like: Mask) -> _Graph:
        """Capture the bucket's graph, its static mask buffers shaped after `like` (its dtype, its layer types)."""
        device = next(self.body.parameters()).device
        ids = torch.zeros((1, bucket), dtype=torch.int64, device=device)
        positions = torch.zeros_like(ids)
        mask = map_mask(like, lambda m: torch.zeros((1, 1, bucket, bucket), dtype=m.dtype, device=device))
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):  # warm-up outside the graph: lazy inits must not be captured
            self._forward(ids, positions, mask)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            out = self._forward(ids, positions, mask)
        self.graphs[bucket] = _Graph(graph, ids, positions, mask, out)
        return self.graphs[bucket]
