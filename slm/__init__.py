"""Everything about the model: loading, prompt, prefill-only scoring engine, the Scorer API,
base-model fetch, tiny test models, training, structured pruning and evaluation. Never imports `worker`."""

from slm.scorer import EncodedQuery, Scorer

__all__ = ["EncodedQuery", "Scorer"]
