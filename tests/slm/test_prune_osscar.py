"""`slm.prune.osscar`: the reported error is the real one; the search ends where no single swap helps,
reaches the exhaustive optimum where greedy descent alone misses it, and beats the magnitude baseline."""

import itertools

import pytest
import torch

from slm.prune.osscar import magnitude, output_error, select


def _layer(n: int, d: int, samples: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Correlated inputs X (as an MLP's gated activations are), a weight W, and H = X^T X."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(samples, n, generator=g) @ torch.randn(n, n, generator=g) / n**0.5
    w = torch.randn(d, n, generator=g)
    return x, w, x.T @ x


def _least_squares_error(x: torch.Tensor, w: torch.Tensor, kept: list[int]) -> float:
    """The support's error with the exactly re-fitted weights, from X itself."""
    target = x.double() @ w.double().T
    fitted = torch.linalg.lstsq(x.double()[:, kept], target).solution
    return float(((target - x.double()[:, kept] @ fitted) ** 2).sum() / (target**2).sum())


def test_reported_error_is_the_real_output_error() -> None:
    x, w, h = _layer(48, 8, 400, seed=0)
    chosen = select(w, h, 20)
    y, y_hat = x.double() @ w.double().T, x.double()[:, chosen.kept] @ chosen.weight.double().T
    assert chosen.error == pytest.approx(float(((y - y_hat) ** 2).sum() / (y**2).sum()), rel=1e-6)
    assert chosen.weight.shape == (8, 20) and chosen.kept.tolist() == sorted(chosen.kept.tolist())


def test_swaps_reach_the_exhaustive_optimum_where_greedy_descent_misses_it() -> None:
    x, w, h = _layer(10, 3, 200, seed=2)
    best = min(_least_squares_error(x, w, list(s)) for s in itertools.combinations(range(10), 4))
    assert select(w, h, 4, swaps=0).error > 1.2 * best
    assert select(w, h, 4).error == pytest.approx(best, rel=0.01)  # the 1% ridge costs a little exactness


@pytest.mark.parametrize("seed", range(5))
def test_the_result_is_a_local_optimum_no_single_swap_improves(seed: int) -> None:
    x, w, h = _layer(10, 3, 200, seed)
    chosen = select(w, h, 4)
    kept = set(chosen.kept.tolist())
    error = _least_squares_error(x, w, sorted(kept))
    swapped = [sorted(kept - {j} | {r}) for j in kept for r in set(range(10)) - kept]
    assert all(_least_squares_error(x, w, s) >= error * (1 - 1e-3) for s in swapped)
    assert chosen.error <= select(w, h, 4, swaps=0).error


def test_refitting_beats_the_magnitude_baseline() -> None:
    _, w, h = _layer(64, 16, 800, seed=2)
    for keep in (16, 32, 48):
        assert select(w, h, keep).error < magnitude(w, h, keep).error


def test_keeping_every_channel_changes_nothing() -> None:
    _, w, h = _layer(16, 4, 100, seed=3)
    chosen = select(w, h, 16)
    assert chosen.error == 0.0 and torch.equal(chosen.weight, w) and chosen.kept.tolist() == list(range(16))
    assert output_error(w, h, chosen.kept, w) == 0.0


def test_bad_shapes_and_sizes_are_refused() -> None:
    _, w, h = _layer(16, 4, 100, seed=4)
    with pytest.raises(ValueError, match="keep"):
        select(w, h, 0)
    with pytest.raises(ValueError, match="keep"):
        magnitude(w, h, 17)
    with pytest.raises(ValueError, match="gram"):
        select(w, h[:8, :8], 4)
