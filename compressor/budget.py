"""Token budgets, counted in the scoring model's tokenizer, which arrives as an `encode` function.

    Encode = (texts) -> token ids of each   # batched; the scorer's own tokenizer, no special tokens
    fit(texts, budget, encode) -> [(text, ids)]   # every text cut (at a word) to at most `budget` ids

Ignores what the words are: it cuts from the end, at a space where one is near. Callers put the
least valuable text last.
"""

from collections.abc import Callable, Sequence

Encode = Callable[[list[str]], list[list[int]]]
# Longer space-free runs are not words (URLs, Chinese or Japanese text): cut them anywhere.
MAX_WORD_CHARS = 40


def word_encode(texts: list[str]) -> list[list[int]]:
    """A stand-in tokenizer (one "token" per word) for previews without the scoring model."""
    return [list(range(len(t.split()))) for t in texts]


def _cut(text: str, n: int) -> str:
    """The first n characters, pulled back to a word boundary unless the word is a long run
    (scripts without spaces, like Chinese, are cut between characters)."""
    prefix = text[:n]
    if n < len(text) and not text[n].isspace():
        space = prefix.rfind(" ")
        if space > 0 and n - space <= MAX_WORD_CHARS:
            prefix = prefix[:space]
    return prefix.rstrip()


def _longest_fitting_prefix(text: str, tokens: int, budget: int, encode: Encode) -> tuple[str, list[int]]:
    """For the rare text that overshoots: first a cut in proportion to the excess (one encode, and
    usually enough), else a binary search over prefix lengths (~log2(chars) encodes)."""
    guess = _cut(text, len(text) * budget // tokens)
    ids = encode([guess])[0]
    if len(ids) <= budget:
        return guess, ids
    lo, hi = 0, len(guess)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if len(encode([_cut(text, mid)])[0]) <= budget else (lo, mid - 1)
    prefix = _cut(text, lo)
    return prefix, (encode([prefix])[0] if prefix else [])


def fit(texts: Sequence[str], budget: int, encode: Encode) -> list[tuple[str, list[int]]]:
    """Each text with its ids, cut at a word boundary where it exceeds `budget` tokens."""
    if budget < 1:
        raise ValueError(f"token budget must be at least 1, got {budget}")
    encoded = encode(list(texts)) if texts else []
    return [
        (text, ids) if len(ids) <= budget else _longest_fitting_prefix(text, len(ids), budget, encode)
        for text, ids in zip(texts, encoded, strict=True)
    ]


def estimate_words(words: int, tokens: int, budget: int) -> int:
    """How many of a text's words likely fit in `budget` tokens, from its words-per-token rate."""
    return max(0, words * budget // max(tokens, 1))
