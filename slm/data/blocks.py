"""Block training data: a few dozen neighbouring queries graded against one shared set of postings.

Contract: `BlockSampler.epoch(n) -> Iterator[RankingList]` yields blocks of `queries` lists back to
back; the lists of one block share the same `postings` candidates (same job ids, same order), each
graded for its own query. A job-first scorer (`slm.prompt.JOB_FIRST`) then scores a block as one
request per posting with all the block's queries as items: ~13 tokens per (query, posting) pair
instead of ~70, so a step sees several times the queries of per-query lists at the same cost.

What a block holds:
- Queries: the epoch's train queries sorted by their occupation code (ties in a seeded order),
  rotated by a seeded offset and cut into consecutive runs, so a block's queries come from a few
  neighbouring occupations, whose postings are each other's hard negatives. Blocks are shuffled;
  a short last block is dropped, so every block has exactly `queries` lists.
- Postings: each query's own list (`ListSampler.draw`: positives, siblings, BM25 hard negatives,
  random easy ones) taken round-robin, best first, until `postings` distinct postings are chosen.
  Positives come first, so every query's relevant posting is in its block (when `postings` allows).
- Grades: every query is graded against every posting of the block (`Onet.grades`).

`train_blocks(onet, contexts, queries, postings)` builds the blocks a trainer wants (train split).
Seeded and deterministic like `ListSampler`: a block depends only on (seed, epoch, block number).
Ignores: how the lists are scored and the loss (the trainer's).
"""

import itertools
import random
from collections.abc import Iterator, Mapping, Sequence

from slm.data.lists import ListSampler, RankingList, train_sampler
from slm.data.onet import RELEVANT, SIBLING, Onet
from slm.data.splits import unit_hash

# Draw order inside a query's own list: the positives first, then siblings, then the rest.
_PRIORITY = {RELEVANT: 0, SIBLING: 1}


class BlockSampler:
    def __init__(self, lists: ListSampler, queries: int, postings: int) -> None:
        if queries < 1 or postings < 1:
            raise ValueError(f"a block needs queries >= 1 and postings >= 1, got {queries} and {postings}")
        self.lists, self.queries, self.postings = lists, queries, postings

    def epoch(self, n: int) -> Iterator[RankingList]:
        for number, block in enumerate(self._blocks(n)):
            rng = random.Random(f"{self.lists.seed}:{n}:block:{number}")
            yield from self._graded(block, rng)

    def _blocks(self, n: int) -> list[list[RankingList]]:
        """The epoch's lists (one per query with a positive), in runs of neighbouring occupations."""
        drawn = list(self.lists.epoch(n))
        seed = str(self.lists.seed)
        drawn.sort(key=lambda r: (_occupation(r), unit_hash(seed, str(n), r.query.query_id)))
        shift = int(unit_hash(seed, str(n), "rotation") * len(drawn)) if drawn else 0
        drawn = drawn[shift:] + drawn[:shift]
        blocks = [drawn[i : i + self.queries] for i in range(0, len(drawn) - self.queries + 1, self.queries)]
        random.Random(f"{seed}:{n}:blocks").shuffle(blocks)
        return blocks

    def _graded(self, block: Sequence[RankingList], rng: random.Random) -> Iterator[RankingList]:
        chosen = self._postings(block)
        rng.shuffle(chosen)
        contexts = {j: c for r in block for j, c in zip(r.job_ids, r.contexts, strict=True)}
        shared = tuple(contexts[j] for j in chosen)
        onet = self.lists.onet
        for ranking in block:
            grades = onet.grades(ranking.query)
            yield RankingList(ranking.query, tuple(chosen), tuple(grades.get(j, 0) for j in chosen), shared)

    def _postings(self, block: Sequence[RankingList]) -> list[str]:
        """Each list's postings, best first, taken round-robin until the block is full."""
        ranked = [[j for _, j in sorted(zip(r.grades, r.job_ids, strict=True), key=_priority)] for r in block]
        chosen: dict[str, None] = {}
        for job_id in itertools.chain.from_iterable(itertools.zip_longest(*ranked)):
            if job_id is not None and len(chosen) < self.postings:
                chosen.setdefault(job_id)
        return list(chosen)


def train_blocks(
    onet: Onet, contexts: Mapping[str, Sequence[int]], queries: int, postings: int, seed: int = 0
) -> BlockSampler:
    """Blocks over the train split (`train_sampler`'s lists: BM25 hard negatives, unseen left out)."""
    return BlockSampler(train_sampler(onet, contexts, seed=seed), queries, postings)


def _occupation(ranking: RankingList) -> str:
    """The query's first relevant posting: its occupation code, which sorts neighbours together."""
    return min(j for j, g in zip(ranking.job_ids, ranking.grades, strict=True) if g == RELEVANT)


def _priority(graded: tuple[int, str]) -> int:
    return _PRIORITY.get(graded[0], len(_PRIORITY))  # stable sort: equal priorities keep list order
