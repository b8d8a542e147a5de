"""Structured pruning of a scoring model's MLPs (OSSCAR local search on calibration statistics).

Data path: calibrate (`slm.prune.calibrate`: Gram matrices of each MLP's down-projection inputs on
served prompts) -> select (`slm.prune.osscar`: which neurons, re-fitted weights) -> apply
(`slm.prune.apply`: narrower layers, a model directory any HF loader reads).
"""

from slm.prune.apply import Method, parameters, prune_dir, prune_model, pruned_width
from slm.prune.osscar import Selection, magnitude, select

__all__ = ["Method", "Selection", "magnitude", "parameters", "prune_dir", "prune_model", "pruned_width", "select"]
