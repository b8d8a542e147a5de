"""The scoring prompt, split into the pieces that multi-item scoring shares and repeats.

A scored sequence is `prefix(query) + item_head + context + item_tail`, each piece tokenized on its
own and concatenated, so a context's token ids can be computed once (at compression time) and reused
for every query. The score is read at the last token of `item_tail`, where the model would answer.

Two styles, named in a model's manifest (`prompt`); a model without one gets `CHAT`:
- `chat-v1`: the tokenizer's chat template (rendered around sentinels and split), so any instruct
  model gets its own format zero-shot; plain text where the tokenizer has no template. Its template
  and instruction cost ~25 tokens per item.
- `compact-v1`, for trained models: no chat template; the instruction sits in the prefix (paid once
  per row), and each item carries only a ~3-token head and tail; the labels are " yes" / " no", the
  natural next token after "Answer:".
Changing any text of a style changes what a trained model expects: add a new style name instead.
"""

from dataclasses import dataclass
from typing import Literal, get_args

from transformers import PreTrainedTokenizerBase

PromptStyle = Literal["chat-v1", "compact-v1"]
STYLES: tuple[PromptStyle, ...] = get_args(PromptStyle)
CHAT: PromptStyle = "chat-v1"
COMPACT: PromptStyle = "compact-v1"
PROMPT_VERSION = "rankstream-prompt-v1"  # the chat style's text, as older manifests record it
INSTRUCTION = "Does this job match the search query? Answer yes or no."
# The answer tokens of each style; score = P(yes) / (P(yes) + P(no)).
LABELS: dict[PromptStyle, tuple[str, str]] = {CHAT: ("yes", "no"), COMPACT: (" yes", " no")}
# A query is a search-box string; cap its tokens so one request cannot blow up the prefix.
MAX_QUERY_TOKENS = 64

_QUERY, _JOB = "\x00QUERY\x00", "\x00JOB\x00"
# Newlines around the slots: BPE splits there anyway, so separately tokenized pieces stay natural.
_COMPACT_TEXT = f"{INSTRUCTION}\nSearch query:\n{_QUERY}\nJob:\n{_JOB}\nAnswer:"


@dataclass(frozen=True)
class PromptPieces:
    """Token ids of the fixed parts of the prompt, plus the two label tokens."""

    before_query: tuple[int, ...]  # everything before the query (preamble, instruction, "Search query:")
    item_head: tuple[int, ...]  # after the query, before the job context
    item_tail: tuple[int, ...]  # after the context, up to where the answer starts
    yes_id: int
    no_id: int
    style: PromptStyle = CHAT

    def prefix(self, query_ids: list[int]) -> list[int]:
        return [*self.before_query, *query_ids[:MAX_QUERY_TOKENS]]

    def item(self, context_ids: list[int]) -> list[int]:
        return [*self.item_head, *context_ids, *self.item_tail]


def _chat_text(tokenizer: PreTrainedTokenizerBase) -> str:
    user = f"Search query:\n{_QUERY}\nJob posting:\n{_JOB}\n{INSTRUCTION}"
    if not tokenizer.chat_template:
        return f"{user}\nAnswer:"
    return tokenizer.apply_chat_template(
        [{"role": "user", "content": user}], tokenize=False, add_generation_prompt=True
    )


def _split(text: str) -> tuple[str, str, str]:
    before, rest = text.split(_QUERY)
    head, tail = rest.split(_JOB)
    return before, head, tail


def label_token_id(tokenizer: PreTrainedTokenizerBase, label: str) -> int:
    """The single token a label is; refuse tokenizers that split it (the score would be ill-defined)."""
    ids = tokenizer.encode(label, add_special_tokens=False)
    if len(ids) != 1:
        raise ValueError(f"label {label!r} is {len(ids)} tokens in this tokenizer; need exactly 1")
    return ids[0]


def build_pieces(tokenizer: PreTrainedTokenizerBase, style: PromptStyle = CHAT) -> PromptPieces:
    if style not in STYLES:
        raise ValueError(f"unknown prompt style {style!r}; known: {', '.join(STYLES)}")
    before, head, tail = _split(_chat_text(tokenizer) if style == CHAT else _COMPACT_TEXT)
    encode = tokenizer.encode
    yes, no = LABELS[style]
    return PromptPieces(
        before_query=tuple(encode(before, add_special_tokens=True)),
        item_head=tuple(encode(head, add_special_tokens=False)),
        item_tail=tuple(encode(tail, add_special_tokens=False)),
        yes_id=label_token_id(tokenizer, yes),
        no_id=label_token_id(tokenizer, no),
        style=style,
    )


def manifest_pieces(tokenizer: PreTrainedTokenizerBase, manifest: dict) -> PromptPieces:
    """The pieces of the style a model's manifest names (`prompt`); the chat style when it names none."""
    return build_pieces(tokenizer, manifest.get("prompt", CHAT))
