"""Calibration for pruning: what each layer's projections see, and how much each layer changes, on served prompts.

Contract: `onet_calibration(onet, contexts, queries, seed)` draws `queries` train-split O*NET queries
with the contexts of their BM25 top 50 (what the worker scores for a query: the same compressor and
token budget). `collect(engine, requests, heads, depth)` runs the engine's requests once (its packing
and block attention, the model's serving dtype; `Scorer.requests` makes them in the model's prompt
style from the calibration queries) and returns `Statistics`: per decoder layer, H = X^T X over the
inputs X of the MLP's down projection and, with `heads`, of the attention's output projection at the
prompts' tokens, never the engine's padding (float32; the latter's inputs are the heads' outputs side
by side), and the tokens seen; with `depth`, also each layer's score error when it alone is skipped
(`slm.prune.depth.drop_errors`, one more pass per layer over the first `DEPTH_REQUESTS` requests).
`onet_statistics(scorer, onet_dir, budget_tokens, queries, heads, depth)` does both, contexts
compressed at the model's budget. All statistics come from the one unpruned model.
Ignores: what is done with them (`slm.prune.osscar`, `slm.prune.depth`), the test and unseen splits
(never calibrated on).
"""

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from slm.data import Bm25, ContextsByJob, Onet, compressed_contexts, load_onet, split_queries, subsample
from slm.data.retrieval import FIRST_STAGE_K
from slm.engine import ScoringEngine
from slm.engine.packing import ScoreRequest
from slm.prune.depth import drop_errors
from slm.prune.heads import attentions
from slm.prune.layers import mlps
from slm.scorer import EncodedQuery, Scorer
from slm.tokens import TextEncoder

# 32 queries x 50 candidates is ~1,600 (query, posting) pairs, ~67k tokens with the job-first prompt on
# Gemma 3 (postings repeat across queries): ~30x its 2,048 neurons per MLP. On the default model at keep
# 0.5, distilled the same way from one seed-0 teacher, 64 queries (~100k tokens) scored 0.537 / 0.506
# NDCG@10 on the whole test / unseen splits against 32's 0.534 / 0.503: a small loss, taken for ~1.2 min
# of the pruned build on 2 cores, which had to fit 30 (docs/results.md; 16 queries scored lower, measured
# before the padding fix).
# `rankstream model prune --calibration-queries` repeats this number (the CLI imports no torch).
DEFAULT_CALIBRATION_QUERIES = 32
# Requests (postings, for the job-first prompt) each layer-skipping pass runs: ~100 x (75 + 13 per
# query) tokens, ~10-15k, so the one pass per layer costs ~10 s on 2 cores for Gemma 3 270M.
DEPTH_REQUESTS = 96
# A Gram matrix is symmetric: each update computes its upper block triangle only, in this many column
# blocks (the diagonal blocks whole), and `symmetric` mirrors it once at the end. Four blocks do 5/8 of
# the full product's flops; on 2 cores a 8192-token update of a 2,048-wide Gram took 0.26 s against
# 0.40 (eight: 0.28, the blocks get too thin).
GRAM_BLOCKS = 4
Hook = Callable[..., None]


@dataclass(frozen=True)
class Statistics:
    mlp: list[torch.Tensor]  # per layer: Gram matrix of the down projection's inputs
    attention: list[torch.Tensor]  # per layer (with `heads`): Gram matrix of the output projection's inputs
    tokens: int
    drop_errors: list[float] = field(default_factory=list)  # per layer (with `depth`): score error when skipped


def onet_calibration(onet: Onet, contexts: ContextsByJob, queries: int, seed: int = 0) -> list[EncodedQuery]:
    drawn = subsample(split_queries(onet)["train"], queries, seed)
    hits = Bm25(onet.postings).search([q.text for q in drawn], FIRST_STAGE_K)
    return [EncodedQuery(q.text, [contexts[h.job_id] for h in hs]) for q, hs in zip(drawn, hits, strict=True)]


@dataclass
class _RealTokens:
    """How many leading positions of the running batch's stream are its tokens: the engine pads the
    stream to a shape bucket (`slm.engine.engine.bucketed`), and padding must not enter a Gram
    matrix. Its positions attend to nothing, so Gemma 3's bottom layers give them activations
    ~10^3-10^4 x a token's: on the default model 3% of the positions held 97-99.9% of the Gram
    matrices' trace in layers 0-7, and OSSCAR fitted the padding instead of the prompts."""

    count: int = 0

    def gram_hook(self, gram: torch.Tensor) -> Hook:
        def hook(_module: torch.nn.Module, args: tuple[torch.Tensor, ...]) -> None:
            add_upper_gram(gram, args[0].reshape(-1, args[0].shape[-1])[: self.count].float())

        return hook


def add_upper_gram(gram: torch.Tensor, x: torch.Tensor) -> None:
    """gram += X^T X on its upper block triangle (`GRAM_BLOCKS` column blocks, diagonal blocks whole);
    below them `gram` is left as it was until `symmetric`."""
    bounds = [x.shape[1] * i // GRAM_BLOCKS for i in range(GRAM_BLOCKS + 1)]
    for start, end in itertools.pairwise(bounds):
        gram[start:end, start:].addmm_(x[:, start:end].T, x[:, start:])


def symmetric(gram: torch.Tensor) -> torch.Tensor:
    """The whole Gram matrix from the upper triangle `add_upper_gram` keeps."""
    return gram.triu() + gram.triu(1).T


def collect(
    engine: ScoringEngine, requests: Sequence[ScoreRequest], heads: bool = True, depth: bool = False
) -> Statistics:
    """The Gram matrices cost more than the forward pass (a d x d update per token and layer), so the
    output projections' are summed only when `heads` will be pruned."""
    body, device = engine.body, engine.device
    downs = [m.down_proj for m in mlps(body)]
    outs = [a.o_proj for a in attentions(body)] if heads else []
    mlp = [torch.zeros(d.in_features, d.in_features, device=device) for d in downs]
    attention = [torch.zeros(o.in_features, o.in_features, device=device) for o in outs]
    real = _RealTokens()
    grams = zip(downs + outs, mlp + attention, strict=True)
    handles = [m.register_forward_pre_hook(real.gram_hook(g)) for m, g in grams]
    tokens = 0
    try:
        for batch in engine.batches(list(requests)):
            real.count = batch.tokens
            engine.run(batch)
            tokens += batch.tokens
    finally:
        for handle in handles:
            handle.remove()
    errors = drop_errors(engine, requests[:DEPTH_REQUESTS]) if depth else []
    return Statistics([symmetric(g) for g in mlp], [symmetric(g) for g in attention], tokens, errors)


def onet_statistics(
    scorer: Scorer, onet_dir: Path, budget_tokens: int, queries: int, heads: bool = True, depth: bool = False
) -> Statistics:
    onet = load_onet(onet_dir)
    contexts = compressed_contexts(onet.postings, TextEncoder(scorer.tokenizer).encode, budget_tokens)
    requests = scorer.requests(onet_calibration(onet, contexts, queries)).requests
    return collect(scorer.engine, requests, heads, depth)
