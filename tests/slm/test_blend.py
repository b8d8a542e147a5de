"""Blending model probabilities with first-stage scores, on hand-computed examples."""

import math

import numpy as np
import pytest

from slm.blend import blend, standardised


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_the_first_stage_is_z_scored_and_added_to_the_logit() -> None:
    # Scores 1 and 3: mean 2, std 1, z = -1 and +1; p = 0.5 is logit 0.
    np.testing.assert_allclose(blend([0.5, 0.5], [1.0, 3.0], 0.5), [_sigmoid(-0.5), _sigmoid(0.5)])
    # p = 0.8 is logit ln 4; a first stage scaled 10x gives the same z, so the same blend.
    expected = [_sigmoid(math.log(4) - 2.0), _sigmoid(0.0 + 2.0)]
    np.testing.assert_allclose(blend([0.8, 0.5], [10.0, 30.0], 2.0), expected)
    np.testing.assert_allclose(blend([0.8, 0.5], [1.0, 3.0], 2.0), expected)


def test_a_strong_enough_first_stage_overturns_the_model() -> None:
    probabilities, bm25 = [0.6, 0.5, 0.1], [2.0, 9.0, 1.0]
    assert np.argmax(blend(probabilities, bm25, 0.1)) == 0
    assert np.argmax(blend(probabilities, bm25, 2.0)) == 1


def test_weight_zero_equal_scores_and_extremes() -> None:
    assert blend([0.0, 1.0, 0.3], [5.0, 1.0, 2.0], 0.0).tolist() == [0.0, 1.0, 0.3]
    np.testing.assert_allclose(blend([0.2, 0.7], [4.0, 4.0], 3.0), [0.2, 0.7])
    assert standardised([4.0, 4.0]).tolist() == [0.0, 0.0]
    assert blend([], [], 1.0).tolist() == []  # a query without candidates
    extreme = blend([0.0, 1.0], [0.0, 1.0], 1.0)
    assert np.isfinite(extreme).all() and 0.0 < extreme[0] < extreme[1] < 1.0
    with pytest.raises(ValueError, match="2 probabilities but 1"):
        blend([0.1, 0.2], [1.0], 1.0)


def test_the_largest_finite_first_stage_scores_blend_to_finite_scores() -> None:
    extreme = [1.7e308, -1.7e308, 0.0]
    z = standardised(extreme)
    np.testing.assert_allclose(z, standardised([1.0, -1.0, 0.0]))
    blended = blend([0.5, 0.5, 0.5], extreme, 0.5)
    assert np.isfinite(blended).all()
    assert blended[0] > blended[2] > blended[1]
