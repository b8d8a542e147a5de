"""Prefill-only scoring: run the decoder body, read two label logits at each item's end.

Contract: `ScoringEngine.score(requests)` takes token ids (a shared prefix and its items, prompt
pieces already applied) and returns one array of P(yes | prefix, item) per request, in item order.
It never generates and never computes the full-vocabulary head: the last hidden state of each item
is multiplied by the yes/no rows of the output embedding only.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from transformers import PreTrainedModel


@dataclass(frozen=True)
class ScoreRequest:
    """One query's prefix and its items, as token ids."""

    prefix: Sequence[int]
    items: Sequence[Sequence[int]]


class ScoringEngine:
    def __init__(self, model: PreTrainedModel, yes_id: int, no_id: int, token_budget: int = 4096) -> None:
        self.body = model.get_decoder()
        head = model.get_output_embeddings()
        rows = head.weight[[yes_id, no_id]].detach()
        # score = softmax([l_yes, l_no])[0] = sigmoid(l_yes - l_no): one dot product per item.
        self.direction = (rows[0] - rows[1]).float()
        bias = getattr(head, "bias", None)
        self.offset = float(bias[yes_id] - bias[no_id]) if bias is not None else 0.0
        self.device = self.direction.device
        self.token_budget = token_budget
        self.pad_id = 0

    @torch.inference_mode()
    def _score_rows(self, rows: list[list[int]]) -> np.ndarray:
        width = max(map(len, rows))
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row)
            mask[i, : len(row)] = 1
        hidden = self.body(input_ids=ids.to(self.device), attention_mask=mask.to(self.device)).last_hidden_state
        last = hidden[torch.arange(len(rows)), mask.sum(1).to(self.device) - 1].float()
        return torch.sigmoid(last @ self.direction + self.offset).cpu().numpy()

    def score(self, requests: Sequence[ScoreRequest]) -> list[np.ndarray]:
        rows = [[*r.prefix, *item] for r in requests for item in r.items]
        order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
        scores = np.empty(len(rows), dtype=np.float32)
        batch: list[int] = []
        for i in order:
            if batch and len(rows[i]) * (len(batch) + 1) > self.token_budget:
                scores[batch] = self._score_rows([rows[j] for j in batch])
                batch = []
            batch.append(i)
        if batch:
            scores[batch] = self._score_rows([rows[j] for j in batch])
        bounds = np.cumsum([0] + [len(r.items) for r in requests])
        return [scores[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
