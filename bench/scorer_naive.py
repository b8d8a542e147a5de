"""The baseline a user would write first: full causal-LM forward on padded batches, then read labels.

No packing, no shared prefix, no label-row shortcut: each (query, item) prompt is one row, rows are
right-padded to the longest in their batch of 32, the model computes logits over the whole
vocabulary at every position, and P(yes) = softmax(logits[last non-pad, [yes, no]])[0].
"""

from collections.abc import Sequence

import numpy as np
import torch
from transformers import PreTrainedModel

from slm.engine.packing import ScoreRequest

NAIVE_BATCH = 32
# The naive batch's full logits (batch x width x vocab x 4 bytes) must fit beside everyone else's
# work on a shared 24 GiB machine: halve the batch until they fit (Qwen3 with long items needs it).
MAX_LOGITS_BYTES = 4 * 2**30


def naive_batch(model: PreTrainedModel, requests: Sequence[ScoreRequest]) -> int:
    """32, or the largest power-of-two fraction of it whose fp32 logits fit MAX_LOGITS_BYTES."""
    width = max(len(r.prefix) + len(item) for r in requests for item in r.items)
    batch = NAIVE_BATCH
    while batch > 1 and batch * width * model.config.get_text_config().vocab_size * 4 > MAX_LOGITS_BYTES:
        batch //= 2
    return batch


@torch.inference_mode()
def naive_scores(
    model: PreTrainedModel, requests: Sequence[ScoreRequest], yes_id: int, no_id: int, batch: int = NAIVE_BATCH
) -> list[np.ndarray]:
    rows = [[*r.prefix, *item] for r in requests for item in r.items]
    pad = model.config.pad_token_id or 0
    scores = []
    for lo in range(0, len(rows), batch):
        chunk = rows[lo : lo + batch]
        ids = torch.full((len(chunk), max(map(len, chunk))), pad, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, row in enumerate(chunk):
            ids[i, : len(row)] = torch.tensor(row)
            mask[i, : len(row)] = 1
        logits = model(input_ids=ids, attention_mask=mask).logits
        last = logits[torch.arange(len(chunk)), mask.sum(1) - 1][:, [yes_id, no_id]]
        scores.append(torch.softmax(last.float(), dim=-1)[:, 0].numpy())
    flat = np.concatenate(scores) if scores else np.empty(0, dtype=np.float32)
    return np.split(flat, np.cumsum([len(r.items) for r in requests])[:-1])
