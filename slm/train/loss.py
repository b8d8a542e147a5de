"""Losses over one query's list of candidates, from the scorer's logits (l_yes - l_no per item).

- `listwise_loss`: softmax cross-entropy between the model's distribution over the list and the
  target distribution proportional to each item's gain, 2^grade - 1 (the NDCG gains of
  `slm.eval.metrics`): a relevant posting carries 3x the mass of a sibling, negatives none.
  Shift-invariant, it ranks but does not calibrate.
- `pointwise_loss`: binary cross-entropy of sigmoid(logit) against grade / max grade (a sibling is
  half relevant), which anchors scores in [0, 1] as P(relevant).
- `distill_loss`: knowledge distillation from a teacher's logits on the same list (Hinton et al.,
  2015, listwise): KL(p_t || p_s) between the softmax distributions over the list of teacher and
  student logits divided by the temperature T, times T^2 (so the gradient's scale does not shrink as
  T grows). 0 when the student matches the teacher; shift-invariant like the listwise loss.
- `list_loss`: listwise + `bce_weight` x pointwise (+ `distill_weight` x distillation, given teacher
  logits), what the trainer minimises.

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


def distill_loss(logits: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """T^2 KL(softmax(teacher / T) || softmax(logits / T)) over one list; the teacher is a constant."""
    if temperature <= 0:
        raise ValueError(f"the distillation temperature must be positive, got {temperature}")
    target = torch.log_softmax(teacher.detach().float() / temperature, dim=-1)
    student = torch.log_softmax(logits / temperature, dim=-1)
    return temperature**2 * (target.exp() * (target - student)).sum()


def list_loss(
    logits: torch.Tensor,
    grades: torch.Tensor,
    bce_weight: float,
    teacher: torch.Tensor | None = None,
    distill_weight: float = 0.0,
    temperature: float = 1.0,
) -> torch.Tensor:
    loss = listwise_loss(logits, grades) + bce_weight * pointwise_loss(logits, grades)
    if teacher is None or distill_weight == 0:
        return loss
    return loss + distill_weight * distill_loss(logits, teacher, temperature)
