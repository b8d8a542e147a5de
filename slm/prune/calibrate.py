"""Calibration for pruning: what each MLP's down projection sees on the prompts the model serves.

Contract: `onet_calibration(onet, contexts, queries, seed)` draws `queries` train-split O*NET queries
with the contexts of their BM25 top 50 (what the worker scores for a query: the same compressor and
token budget). `mlp_grams(scorer, calibration)` runs them through the scorer's own engine (its
prompt style, packing and block attention, the model's serving dtype) and returns, per decoder
layer, H = X^T X over the down projection's inputs X (float32), and the tokens seen.
`onet_grams(scorer, onet_dir, budget_tokens, queries)` does both, contexts compressed at the model's budget.
Ignores: what is done with H (`slm.prune.osscar`), the test and unseen splits (never calibrated on).
"""

from collections.abc import Sequence
from pathlib import Path

import torch

from slm.data import Bm25, ContextsByJob, Onet, compressed_contexts, load_onet, split_queries, subsample
from slm.data.retrieval import FIRST_STAGE_K
from slm.prune.layers import mlps
from slm.scorer import EncodedQuery, Scorer
from slm.tokens import TextEncoder

# 16 queries x 50 candidates is ~800 (query, posting) pairs, ~25k tokens with the job-first prompt:
# 16x SmolLM2's 1,536 neurons per MLP, enough samples for a well-conditioned 1,536 x 1,536 Gram
# matrix, and ~30 s of forward passes on 2 CPU cores.
DEFAULT_CALIBRATION_QUERIES = 16


def onet_calibration(onet: Onet, contexts: ContextsByJob, queries: int, seed: int = 0) -> list[EncodedQuery]:
    drawn = subsample(split_queries(onet)["train"], queries, seed)
    hits = Bm25(onet.postings).search([q.text for q in drawn], FIRST_STAGE_K)
    return [EncodedQuery(q.text, [contexts[h.job_id] for h in hs]) for q, hs in zip(drawn, hits, strict=True)]


def mlp_grams(scorer: Scorer, calibration: Sequence[EncodedQuery]) -> tuple[list[torch.Tensor], int]:
    engine = scorer.engine
    layers = mlps(engine.body)
    grams = [torch.zeros(m.down_proj.in_features, m.down_proj.in_features, device=engine.device) for m in layers]

    def accumulate(gram: torch.Tensor):
        def hook(_module: torch.nn.Module, args: tuple[torch.Tensor, ...]) -> None:
            x = args[0].reshape(-1, args[0].shape[-1]).float()
            gram.addmm_(x.T, x)

        return hook

    handles = [m.down_proj.register_forward_pre_hook(accumulate(g)) for m, g in zip(layers, grams, strict=True)]
    tokens = 0
    try:
        for batch in engine.batches(scorer.requests(calibration).requests):
            engine.run(batch)
            tokens += batch.tokens
    finally:
        for handle in handles:
            handle.remove()
    return grams, tokens


def onet_grams(scorer: Scorer, onet_dir: Path, budget_tokens: int, queries: int) -> tuple[list[torch.Tensor], int]:
    onet = load_onet(onet_dir)
    contexts = compressed_contexts(onet.postings, TextEncoder(scorer.tokenizer).encode, budget_tokens)
    return mlp_grams(scorer, onet_calibration(onet, contexts, queries))
