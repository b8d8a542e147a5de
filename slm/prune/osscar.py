"""Which input channels of a linear layer to keep, and their new weights: OSSCAR's local search.

Contract: `select(weight, gram, keep) -> Selection` picks `keep` of the n input channels of `weight`
(d_out x n) and re-fits the kept columns so that the layer's output on calibration inputs X changes
least: it minimises ||X W^T - X_S V^T||^2 over the support S (|S| = keep) and the new weights V,
knowing X only through its Gram matrix H = X^T X (n x n). For an MLP the channels are the
intermediate neurons (the down projection's inputs): dropping one removes a row of the gate and up
projections and a column of the down projection, a structured cut that leaves dense, smaller
matmuls (Meng, Behdin, Wang, Mazumder, "OSSCAR: One-Shot Structured Pruning in Vision and Language
Models with Combinatorial Optimization", ICML 2024).

For a support S the best V is closed form, V^T = H_SS^-1 G_S with G = H W^T, and the error is
tr(W H W^T) - tr(G_S^T H_SS^-1 G_S). With P = H_SS^-1 and B = P G_S (so V^T = B):
- dropping channel j from S raises the error by ||B_j||^2 / P_jj (a rank-1 downdate of P and B);
- adding channel r lowers it by ||u_r||^2 / s_r, u_r = G_r - H_rS B, s_r = H_rr - H_rS P H_Sr.
The search starts from all channels and drops the cheapest ones in rounds (each round drops the
cheapest `1 / DROP_ROUNDS_SHARE` of what is left to drop, at least one, and re-fits exactly with one
block downdate), then swaps: add the channel with the largest gain, drop the cheapest; a swap is kept
while it lowers the error (it stops when the cheapest to drop is the one just added).

`select_units(weight, gram, units, buckets, keep)` is the same search over contiguous, equal units of
channels (an attention layer's query heads, or whole key/value groups of them, as the output
projection's inputs): the n channels are `units` blocks of n / units; `buckets` partitions the units
and `keep` units are kept in each (query heads within their key/value group, or groups among all).
Dropping unit J raises the error by tr(B_J^T P_JJ^-1 B_J) (a block downdate); the cheapest unit of a
bucket still over `keep` goes first, one at a time (a layer has at most a few dozen heads). Swaps then
exchange a kept and a removed unit of one bucket while that lowers the exactly re-fitted error.

`magnitude(weight, gram, keep)` is the baseline the benchmark compares against: keep the channels
with the largest activation-weighted column norms ||W_j|| * sqrt(H_jj), weights untouched.
Ignores: where the Gram matrices come from (`slm.prune.calibrate`) and changing the model
(`slm.prune.apply`). All arithmetic is float64 on the weight's device; results come back in float32.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import torch

# Ridge added to H's diagonal, relative to its mean: neurons that never fire on the calibration set
# make H singular; 1% (as SparseGPT and OSSCAR damp) keeps the inverse stable without biasing the fit.
DAMP = 0.01
# Drop rounds: each drops 1/8 of the channels still to go (the last ones one by one), so the greedy
# descent takes ~8 ln(n) block downdates instead of n rank-1 ones (13 s -> <1 s per SmolLM2 MLP);
# the swaps that follow repair what dropping several at once misjudges.
DROP_ROUNDS_SHARE = 8
# Swap rounds after the greedy descent. Each costs ~|S|^2 (|n - S| + d) flops; on SmolLM2's MLPs
# (1536 neurons) later swaps gain < 0.1% of the error each, so a few dozen capture what swaps give.
DEFAULT_SWAPS = 32
# A unit swap must raise the explained output by this share: below it, the float64 solves' rounding
# could trade two equally good heads back and forth.
SWAP_MIN_GAIN = 1e-9
# Removed channels tried per swap, best gain first: the best one alone is often dropped right back.
SWAP_CANDIDATES = 8


@dataclass(frozen=True)
class Selection:
    kept: torch.Tensor  # sorted indices of the kept channels (int64)
    weight: torch.Tensor  # the layer's new weight, d_out x keep (float32)
    error: float  # ||X W^T - X_S V^T||^2 / ||X W^T||^2 on the calibration inputs (undamped)


def select(weight: torch.Tensor, gram: torch.Tensor, keep: int, swaps: int = DEFAULT_SWAPS) -> Selection:
    """The support and re-fitted weights minimising the output error (greedy descent, then swaps)."""
    n = _check(weight, gram, keep)
    if keep == n:
        return Selection(torch.arange(n, device=weight.device), weight.float().clone(), 0.0)
    w = weight.double()
    h = _damped(gram.double())
    p = torch.cholesky_inverse(torch.linalg.cholesky(h))
    g = h @ w.T
    b = p @ g
    alive = torch.ones(n, dtype=torch.bool, device=w.device)
    while (left := int(alive.sum()) - keep) > 0:
        _drop(p, b, alive, _cheapest(p, b, alive, max(1, left // DROP_ROUNDS_SHARE)))
    for _ in range(swaps):
        if not _swap(h, g, p, b, alive):
            break
    kept = alive.nonzero().squeeze(1)
    return _selection(weight, gram, kept, b[kept].T)


def select_units(
    weight: torch.Tensor,
    gram: torch.Tensor,
    units: int,
    buckets: Sequence[Sequence[int]],
    keep: int,
    swaps: int = DEFAULT_SWAPS,
) -> Selection:
    """Keep `keep` units of each bucket (channel blocks of n / units), re-fitted; `kept` holds channels."""
    n = _check(weight, gram, weight.shape[1])
    if n % units or sorted(u for b in buckets for u in b) != list(range(units)):
        raise ValueError(f"{n} channels must split into {units} units, each in exactly one bucket")
    if not 1 <= keep <= min(len(b) for b in buckets):
        raise ValueError(f"keep must be in [1, {min(len(b) for b in buckets)}] units per bucket, got {keep}")
    size = n // units
    w = weight.double()
    h = _damped(gram.double())
    g = h @ w.T
    p = torch.cholesky_inverse(torch.linalg.cholesky(h))
    b = p @ g
    alive = torch.ones(n, dtype=torch.bool, device=w.device)
    kept = [list(bucket) for bucket in buckets]
    channels = [torch.arange(u * size, (u + 1) * size, device=w.device) for u in range(units)]
    while over := [bucket for bucket in kept if len(bucket) > keep]:
        costs = {u: _unit_cost(p, b, channels[u]) for bucket in over for u in bucket}
        cheapest = min(costs, key=costs.__getitem__)
        _drop(p, b, alive, channels[cheapest])
        next(bucket for bucket in kept if cheapest in bucket).remove(cheapest)
    for _ in range(swaps):
        if not _swap_unit(h, g, kept, buckets, channels):
            break
    support = torch.cat([channels[u] for u in sorted(u for bucket in kept for u in bucket)])
    return _selection(weight, gram, support, _refit(h, g, support).T)


def magnitude(weight: torch.Tensor, gram: torch.Tensor, keep: int) -> Selection:
    """The baseline: channels with the largest ||W_j|| * sqrt(H_jj), their weights unchanged."""
    _check(weight, gram, keep)
    norms = weight.double().norm(dim=0) * gram.double().diagonal().clamp(min=0).sqrt()
    kept = norms.topk(keep).indices.sort().values
    return _selection(weight, gram, kept, weight.double()[:, kept])


def output_error(weight: torch.Tensor, gram: torch.Tensor, kept: torch.Tensor, new: torch.Tensor) -> float:
    """||X W^T - X_S V^T||^2 / ||X W^T||^2 from H = X^T X alone."""
    w = weight.double()
    h = gram.double()
    diff = w.clone()
    diff[:, kept] -= new.double()
    total = float((w @ h * w).sum())
    return float((diff @ h * diff).sum()) / total if total > 0 else 0.0


def _check(weight: torch.Tensor, gram: torch.Tensor, keep: int) -> int:
    n = weight.shape[1]
    if gram.shape != (n, n):
        raise ValueError(f"gram must be {n} x {n} for a weight with {n} inputs, got {tuple(gram.shape)}")
    if not 1 <= keep <= n:
        raise ValueError(f"keep must be in [1, {n}], got {keep}")
    return n


def _damped(h: torch.Tensor) -> torch.Tensor:
    ridge = DAMP * h.diagonal().mean().clamp(min=1e-12)
    return h + ridge * torch.eye(h.shape[0], dtype=h.dtype, device=h.device)


def _cheapest(p: torch.Tensor, b: torch.Tensor, alive: torch.Tensor, count: int) -> torch.Tensor:
    """The `count` kept channels whose removal (each alone, with re-fitting) raises the error least."""
    cost = (b * b).sum(1) / p.diagonal().clamp(min=1e-300)
    return cost.masked_fill(~alive, float("inf")).topk(count, largest=False).indices


def _drop(p: torch.Tensor, b: torch.Tensor, alive: torch.Tensor, drop: torch.Tensor) -> None:
    """Remove channels from the support: P and B downdated in place (their rows and columns become
    0): P -= P_:J P_JJ^-1 P_J:, B -= P_:J P_JJ^-1 B_J."""
    cols = p[:, drop].clone()
    solved = torch.linalg.solve(cols[drop], torch.cat([cols.T, b[drop]], dim=1))
    b -= cols @ solved[:, p.shape[0] :]
    p -= cols @ solved[:, : p.shape[0]]
    alive[drop] = False


def _swap(h: torch.Tensor, g: torch.Tensor, p: torch.Tensor, b: torch.Tensor, alive: torch.Tensor) -> bool:
    """One improving swap, if any: try adding the `SWAP_CANDIDATES` best removed channels in turn;
    a swap holds when the cheapest channel to drop afterwards is another one."""
    for r in _best_additions(h, g, p, b, alive)[:SWAP_CANDIDATES].tolist():
        _add(h, g, p, b, alive, r)
        dropped = _cheapest(p, b, alive, 1)
        _drop(p, b, alive, dropped)
        if int(dropped[0]) != r:
            return True
    return False


def _best_additions(
    h: torch.Tensor, g: torch.Tensor, p: torch.Tensor, b: torch.Tensor, alive: torch.Tensor
) -> torch.Tensor:
    """Removed channels by how much adding each back (re-fitted) lowers the error, best first."""
    s_idx, r_idx = alive.nonzero().squeeze(1), (~alive).nonzero().squeeze(1)
    h_rs = h[r_idx][:, s_idx]
    u = g[r_idx] - h_rs @ b[s_idx]
    schur = (h[r_idx, r_idx] - (h_rs @ p[s_idx][:, s_idx] * h_rs).sum(1)).clamp(min=1e-300)
    return r_idx[((u * u).sum(1) / schur).argsort(descending=True)]


def _add(h: torch.Tensor, g: torch.Tensor, p: torch.Tensor, b: torch.Tensor, alive: torch.Tensor, r: int) -> None:
    """Add channel r to the support: with v = P H_:r (v_r = -1) and s = H_rr - H_rS P H_Sr,
    P += v v^T / s and B -= v u_r^T / s, u_r = G_r - H_rS B_S."""
    v = p @ h[:, r]
    v[r] = -1.0
    schur = (-(h[r] @ v)).clamp(min=1e-300)  # H_rr - H_rS P H_Sr, since v_r = -1
    u = g[r] - h[r] @ b
    p += torch.outer(v, v) / schur
    b -= torch.outer(v, u) / schur
    alive[r] = True


def _unit_cost(p: torch.Tensor, b: torch.Tensor, unit: torch.Tensor) -> float:
    """The error dropping the kept channels `unit` (re-fitted) adds: tr(B_J^T P_JJ^-1 B_J)."""
    return float((b[unit] * torch.linalg.solve(p[unit][:, unit], b[unit])).sum())


def _refit(h: torch.Tensor, g: torch.Tensor, support: torch.Tensor) -> torch.Tensor:
    """B_S = H_SS^-1 G_S: the kept channels' best weights (transposed)."""
    return torch.cholesky_solve(g[support], torch.linalg.cholesky(h[support][:, support]))


def _fit(h: torch.Tensor, g: torch.Tensor, support: torch.Tensor) -> float:
    """tr(G_S^T H_SS^-1 G_S): how much of the output the support explains (the error is the rest)."""
    return float((g[support] * _refit(h, g, support)).sum())


def _swap_unit(
    h: torch.Tensor,
    g: torch.Tensor,
    kept: list[list[int]],
    buckets: Sequence[Sequence[int]],
    channels: list[torch.Tensor],
) -> bool:
    """The best swap of a kept and a removed unit of one bucket, made if it lowers the error."""

    def support(units: list[int]) -> torch.Tensor:
        return torch.cat([channels[u] for u in sorted(units)])

    everyone = [u for bucket in kept for u in bucket]
    best, fit = None, _fit(h, g, support(everyone))
    for bucket, now in zip(buckets, kept, strict=True):
        for out in now:
            for into in set(bucket) - set(now):
                trial = _fit(h, g, support([into if u == out else u for u in everyone]))
                if trial > fit * (1 + SWAP_MIN_GAIN):
                    best, fit = (now, out, into), trial
    if best is None:
        return False
    now, out, into = best
    now[now.index(out)] = into
    return True


def _selection(weight: torch.Tensor, gram: torch.Tensor, kept: torch.Tensor, new: torch.Tensor) -> Selection:
    return Selection(kept, new.float().contiguous(), output_error(weight, gram, kept, new))
