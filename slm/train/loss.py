"""Losses over one query's list of candidates, from the scorer's logits (l_yes - l_no per item).

- `listwise_loss`: softmax cross-entropy between the model's distribution over the list and the
  target distribution proportional to each item's gain, 2^grade - 1 (the NDCG gains of
  `slm.eval.metrics`): a relevant posting carries 3x the mass of a sibling, negatives none.
  Shift-invariant, it ranks but does not calibrate.
- `pointwise_loss`: binary cross-entropy of sigmoid(logit) against grade / max grade (a sibling is
  half relevant), which anchors scores in [0, 1] as P(relevant).
- `list_loss`: listwise + `bce_weight` x pointwise, what the trainer minimises.

A list without any positive-gain item has no target distribution: its listwise term is 0.
Ignores batching (one list at a time) and where logits come from.
"""

import torch
import torch.nn.functional as F

MAX_GRADE = 2  # a query's own occupation; siblings are 1 (`slm.data.onet`)


def gains(grades: torch.Tensor) -> torch.Tensor:
    return torch.exp2(grades.float()) - 1.0


def listwise_loss(logits: torch.Tensor, grades: torch.Tensor) -> torch.Tensor:
    g = gains(grades)
    total = g.sum()
    if total <= 0:
        return logits.sum() * 0.0  # keeps the graph (and the device) without moving the weights
    return -(g / total * torch.log_softmax(logits, dim=-1)).sum()


def pointwise_loss(logits: torch.Tensor, grades: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, grades.float() / MAX_GRADE)


def list_loss(logits: torch.Tensor, grades: torch.Tensor, bce_weight: float) -> torch.Tensor:
    return listwise_loss(logits, grades) + bce_weight * pointwise_loss(logits, grades)
