"""Text to token ids for contexts and queries: the scoring model's fast tokenizer, batched.

`TextEncoder.id` fingerprints the tokenizer, so stored token ids are never read by a model whose
tokenizer differs (the context store puts it in its keys). Loads the tokenizer only, not the weights,
so a postings-only worker stays small.
"""

import hashlib
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

from transformers import AutoTokenizer, PreTrainedTokenizerBase


class TextEncoder:
    def __init__(self, tokenizer: PreTrainedTokenizerBase) -> None:
        self.tokenizer = tokenizer

    @classmethod
    def load(cls, model_path: str | Path) -> "TextEncoder":
        return cls(AutoTokenizer.from_pretrained(model_path, local_files_only=True, trust_remote_code=False))

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text, in one batched call, without special tokens."""
        if not texts:
            return []
        return self.tokenizer(list(texts), add_special_tokens=False)["input_ids"]

    @cached_property
    def id(self) -> str:
        """A short fingerprint of the vocabulary and merges."""
        backend = getattr(self.tokenizer, "backend_tokenizer", None)
        spec = backend.to_str() if backend is not None else repr(sorted(self.tokenizer.get_vocab().items()))
        return "tok-" + hashlib.sha256(spec.encode()).hexdigest()[:12]
