"""The scoring prompt, split into the pieces that multi-item scoring shares and repeats.

A scored sequence is `prefix(query) + item_head + context + item_tail`, each piece tokenized on its
own and concatenated, so a context's token ids can be computed once (at compression time) and reused
for every query. The score is read at the last token of `item_tail`, where the model would answer.

The pieces come from the tokenizer's chat template when it has one (rendered around sentinels and
split), so any instruct model gets its own format; plain text otherwise. Changing any text here
changes what a trained model expects: bump PROMPT_VERSION.
"""

from dataclasses import dataclass

from transformers import PreTrainedTokenizerBase

PROMPT_VERSION = "rankstream-prompt-v1"
INSTRUCTION = "Does this job match the search query? Answer yes or no."
LABELS = ("yes", "no")  # the answer tokens; score = P(yes) / (P(yes) + P(no))
# A query is a search-box string; cap its tokens so one request cannot blow up the prefix.
MAX_QUERY_TOKENS = 64

_QUERY, _JOB = "\x00QUERY\x00", "\x00JOB\x00"


@dataclass(frozen=True)
class PromptPieces:
    """Token ids of the fixed parts of the prompt, plus the two label tokens."""

    before_query: tuple[int, ...]  # chat preamble + "Search query:" + newline
    item_head: tuple[int, ...]  # after the query, before the job context
    item_tail: tuple[int, ...]  # after the context, up to where the answer starts
    yes_id: int
    no_id: int

    def prefix(self, query_ids: list[int]) -> list[int]:
        return [*self.before_query, *query_ids[:MAX_QUERY_TOKENS]]

    def item(self, context_ids: list[int]) -> list[int]:
        return [*self.item_head, *context_ids, *self.item_tail]


def _template_texts(tokenizer: PreTrainedTokenizerBase) -> tuple[str, str, str]:
    # Newlines around the slots: BPE splits there anyway, so separately tokenized pieces stay natural.
    user = f"Search query:\n{_QUERY}\nJob posting:\n{_JOB}\n{INSTRUCTION}"
    if tokenizer.chat_template:
        rendered = tokenizer.apply_chat_template(
            [{"role": "user", "content": user}], tokenize=False, add_generation_prompt=True
        )
    else:
        rendered = f"{user}\nAnswer:"
    before, rest = rendered.split(_QUERY)
    head, tail = rest.split(_JOB)
    return before, head, tail


def label_token_id(tokenizer: PreTrainedTokenizerBase, label: str) -> int:
    """The single token a label is; refuse tokenizers that split it (the score would be ill-defined)."""
    ids = tokenizer.encode(label, add_special_tokens=False)
    if len(ids) != 1:
        raise ValueError(f"label {label!r} is {len(ids)} tokens in this tokenizer; need exactly 1")
    return ids[0]


def build_pieces(tokenizer: PreTrainedTokenizerBase) -> PromptPieces:
    before, head, tail = _template_texts(tokenizer)
    encode = tokenizer.encode
    return PromptPieces(
        before_query=tuple(encode(before, add_special_tokens=True)),
        item_head=tuple(encode(head, add_special_tokens=False)),
        item_tail=tuple(encode(tail, add_special_tokens=False)),
        yes_id=label_token_id(tokenizer, LABELS[0]),
        no_id=label_token_id(tokenizer, LABELS[1]),
    )
