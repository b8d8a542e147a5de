"""Listwise training data: one query, a list of its candidates with grades, and their contexts.

Contract: `ListSampler.epoch(n) -> Iterator[RankingList]`, one list per query that has a relevant
posting left. A list of `size` postings holds the query's relevant postings (grade 2, at most
`MAX_POSITIVES`), sibling hard negatives (grade 1, at most `MAX_SIBLINGS`), first-stage hard negatives
(grade-0 postings from BM25's top 50) and `EASY_NEGATIVES` random postings, shuffled. Grade-0 slots
that BM25 cannot fill are filled at random, so every list has `size` postings (when the corpus does).
Postings in `exclude` (the unseen split's occupations) never appear, not even as negatives.

Seeded and deterministic: a query's list depends only on (seed, epoch, query id), and the epoch's
query order only on (seed, epoch), so a resumed run draws exactly the lists it would have drawn.
`train_sampler(onet, contexts)` builds the sampler a trainer wants: train queries, BM25 candidates,
unseen occupations excluded.

Ignores: batching lists into forward passes and the loss (the trainer's), and what contexts contain.
"""

import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from slm.data.onet import RELEVANT, SIBLING, Onet, Query
from slm.data.retrieval import FIRST_STAGE_K, Bm25
from slm.data.splits import split_queries, unit_hash, unseen_codes

# A sampler's default, 16 postings (the training recipe passes its own size): room for the positive,
# its siblings and a dozen negatives, while one list of ~96-token contexts (~2k tokens with the shared
# prefix) stays one forward pass of multi-item scoring on a CPU.
SAMPLER_LIST_SIZE = 16
# A query reported for several occupations keeps at most 2 positives, so negatives dominate the list.
MAX_POSITIVES = 2
# Siblings are the hardest negatives, but partially relevant: a few teach the grade-1 ordering.
MAX_SIBLINGS = 3
# A few easy negatives keep the model calibrated on clearly wrong postings, which BM25 never returns.
EASY_NEGATIVES = 2


@dataclass(frozen=True)
class RankingList:
    """One training example: a query and `size` candidates, aligned by position."""

    query: Query
    job_ids: tuple[str, ...]
    grades: tuple[int, ...]
    contexts: tuple[tuple[int, ...], ...]  # token ids, as the scorer takes them


class Lists(Protocol):
    """What a trainer draws from: an epoch's lists, in a seeded order (`ListSampler`, `BlockSampler`)."""

    def epoch(self, n: int) -> Iterator[RankingList]: ...


def _pick(rng: random.Random, pool: Sequence[str], n: int) -> list[str]:
    return rng.sample(list(pool), min(n, len(pool)))


class ListSampler:
    def __init__(
        self,
        onet: Onet,
        queries: Sequence[Query],
        candidates: Mapping[str, Sequence[str]],
        contexts: Mapping[str, Sequence[int]],
        size: int = SAMPLER_LIST_SIZE,
        seed: int = 0,
        exclude: frozenset[str] = frozenset(),
    ) -> None:
        self.onet, self.queries, self.candidates = onet, tuple(queries), candidates
        self.contexts, self.size, self.seed, self.exclude = contexts, size, seed, exclude
        self.allowed = [p.job_id for p in onet.postings if p.job_id not in exclude]

    def epoch(self, n: int) -> Iterator[RankingList]:
        order = sorted(self.queries, key=lambda q: unit_hash(str(self.seed), str(n), q.query_id))
        for query in order:
            drawn = self.draw(query, random.Random(f"{self.seed}:{n}:{query.query_id}"))
            if drawn is not None:
                yield drawn

    def draw(self, query: Query, rng: random.Random) -> RankingList | None:
        grades = {j: g for j, g in self.onet.grades(query).items() if j not in self.exclude}
        positives = _pick(rng, [j for j, g in grades.items() if g == RELEVANT], MAX_POSITIVES)
        if not positives:
            return None
        siblings = _pick(rng, [j for j, g in grades.items() if g == SIBLING], MAX_SIBLINGS)
        room = self.size - len(positives) - len(siblings)
        hard_pool = [j for j in self.candidates.get(query.query_id, ()) if j not in grades and j not in self.exclude]
        hard = _pick(rng, hard_pool, room - EASY_NEGATIVES)
        taken = {*grades, *hard}
        easy = _pick(rng, [j for j in self.allowed if j not in taken], room - len(hard))
        job_ids = [*positives, *siblings, *hard, *easy]
        rng.shuffle(job_ids)
        return RankingList(
            query,
            tuple(job_ids),
            tuple(grades.get(j, 0) for j in job_ids),
            tuple(tuple(self.contexts[j]) for j in job_ids),
        )


def candidate_ids(bm25: Bm25, queries: Sequence[Query], k: int = FIRST_STAGE_K) -> dict[str, tuple[str, ...]]:
    """Query id -> the first stage's top-k job ids."""
    hits = bm25.search([q.text for q in queries], k)
    return {q.query_id: tuple(h.job_id for h in hs) for q, hs in zip(queries, hits, strict=True)}


def train_sampler(
    onet: Onet, contexts: Mapping[str, Sequence[int]], size: int = SAMPLER_LIST_SIZE, seed: int = 0
) -> ListSampler:
    """Lists over the train split: BM25 hard negatives, the unseen split's occupations left out."""
    train = split_queries(onet)["train"]
    held_out = unseen_codes(onet)
    return ListSampler(onet, train, candidate_ids(Bm25(onet.postings), train), contexts, size, seed, held_out)
