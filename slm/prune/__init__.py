"""Structured pruning of a scoring model: MLP neurons and attention heads (OSSCAR), or whole layers.

Data path: calibrate (`slm.prune.calibrate`: on served prompts, Gram matrices of the inputs of each
MLP's down projection and each attention's output projection; for layer dropping, each layer's score
error when skipped) -> select (`slm.prune.osscar`: which neurons or heads, re-fitted weights;
`slm.prune.depth`: which layers) -> apply (`slm.prune.apply`: narrower or fewer layers, a model
directory any HF loader reads).
"""

from slm.prune.apply import (
    METHODS,
    Method,
    Pruned,
    non_embedding_parameters,
    parameters,
    prune_dir,
    prune_model,
    pruned_width,
    save_model,
)
from slm.prune.osscar import Selection, magnitude, select, select_units

__all__ = [
    "METHODS",
    "Method",
    "Pruned",
    "Selection",
    "magnitude",
    "non_embedding_parameters",
    "parameters",
    "prune_dir",
    "prune_model",
    "pruned_width",
    "save_model",
    "select",
    "select_units",
]
