"""The extractive compressor (the default): a posting's header fields plus its most telling
requirement and skill sentences, cut to a token budget. Deterministic, fast, no network.

Contract: `ExtractiveCompressor(budget_tokens).compress_many(postings, encode) -> list[str]`, where
`encode` is the scoring model's batched tokenizer; the result, tokenized by `encode`, never exceeds
the budget. Without `encode`, the budget is counted in words (an approximation for previews).
"""

import re
from collections.abc import Callable, Sequence

from schemas import JobPosting

NAME = "extractive"
VERSION = "1"
DEFAULT_BUDGET_TOKENS = 96  # the paper's contexts were ~10x shorter than the postings; ~80-100 tokens

Encode = Callable[[list[str]], list[list[int]]]

_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+|\s*[•●▪■◦·]\s*")
_SIGNAL = re.compile(
    r"\b(require|qualif|experience|skill|proficien|knowledge|degree|certif|responsib|you will|"
    r"must|ability|familiar|develop|manage|design|build|lead|support)",
    re.IGNORECASE,
)
_BOILERPLATE = re.compile(
    r"\b(equal opportunity|eeo|benefit|401\(?k|paid time off|pto|dental|vision|insurance|"
    r"apply|applicants|discriminat|disabilit|veteran|about us|our mission|perks)",
    re.IGNORECASE,
)


def header(posting: JobPosting) -> str:
    fields = [posting.title, posting.company, posting.location, posting.seniority, posting.work_type]
    line = " | ".join(f.strip() for f in fields if f and f.strip())
    if posting.skills:
        line += "\nSkills: " + ", ".join(s.strip() for s in posting.skills)
    return line


def salient_sentences(description: str) -> list[str]:
    sentences = [s.strip() for s in _SENTENCE.split(description) if len(s.strip()) > 3]
    kept = [s for s in sentences if not _BOILERPLATE.search(s)]
    return sorted(kept, key=lambda s: _SIGNAL.search(s) is None)  # stable: signal first, order kept


def _word_encode(texts: list[str]) -> list[list[int]]:
    return [list(range(len(t.split()))) for t in texts]


def fit_to_budget(parts: Sequence[str], budget: int, encode: Encode) -> str:
    """Join parts in order while the whole stays within `budget` tokens; cut the first overflow."""
    text = ""
    for part in parts:
        candidate = f"{text}\n{part}" if text else part
        if len(encode([candidate])[0]) <= budget:
            text = candidate
            continue
        words = part.split()
        lo, hi = 0, len(words)
        while lo < hi:  # longest prefix of the overflowing part that still fits
            mid = (lo + hi + 1) // 2
            trial = f"{text}\n{' '.join(words[:mid])}" if text else " ".join(words[:mid])
            lo, hi = (mid, hi) if len(encode([trial])[0]) <= budget else (lo, mid - 1)
        if lo:
            text = f"{text}\n{' '.join(words[:lo])}" if text else " ".join(words[:lo])
        break
    return text


class ExtractiveCompressor:
    name = NAME
    version = VERSION

    def __init__(self, budget_tokens: int = DEFAULT_BUDGET_TOKENS) -> None:
        self.budget_tokens = budget_tokens

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"

    def compress(self, posting: JobPosting, encode: Encode | None = None) -> str:
        parts = [header(posting), *salient_sentences(posting.description)]
        return fit_to_budget(parts, self.budget_tokens, encode or _word_encode)

    def compress_many(self, postings: Sequence[JobPosting], encode: Encode | None = None) -> list[str]:
        return [self.compress(p, encode) for p in postings]
