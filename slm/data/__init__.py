"""Training and evaluation data: O*NET 27.0 as postings, queries and graded judgments; deterministic
splits; the BM25 first stage; scoring contexts; listwise training lists and blocks.

Keep `ATTRIBUTION` (O*NET, CC BY 4.0) with any derived data or results you publish.
"""

from slm.data.blocks import BlockSampler, train_blocks
from slm.data.contexts import ContextsByJob, compressed_contexts, full_contexts, model_budget_tokens
from slm.data.lists import ListSampler, RankingList, train_sampler
from slm.data.onet import ATTRIBUTION, Onet, OnetMissingError, Query, load_onet
from slm.data.retrieval import FIRST_STAGE_K, Bm25, Hit
from slm.data.splits import SPLITS, Split, split_queries, subsample, unseen_codes

__all__ = [
    "ATTRIBUTION",
    "FIRST_STAGE_K",
    "SPLITS",
    "BlockSampler",
    "Bm25",
    "ContextsByJob",
    "Hit",
    "ListSampler",
    "Onet",
    "OnetMissingError",
    "Query",
    "RankingList",
    "Split",
    "compressed_contexts",
    "full_contexts",
    "load_onet",
    "model_budget_tokens",
    "split_queries",
    "subsample",
    "train_blocks",
    "train_sampler",
    "unseen_codes",
]
