"""Listwise training lists: composition, grades, exclusions, seeded determinism."""

import random

from schemas import JobPosting
from slm.data.lists import EASY_NEGATIVES, ListSampler, train_sampler
from slm.data.onet import RELEVANT, SIBLING, Onet, Query
from slm.data.splits import unseen_codes
from tests.slm.test_data_onet import real_onet

# Two sibling groups ("15-125", "29-114") and a loner; one query per occupation of interest.
CODES = [
    "15-1251.00",
    "15-1252.00",
    "15-1253.00",
    "15-1254.00",
    "29-1141.00",
    "29-1141.01",
    *(f"53-{3000 + i}.00" for i in range(20)),
]
ONET = Onet(
    tuple(JobPosting(job_id=c, title=f"Job {c}", description="Does things.") for c in CODES),
    (
        Query("q-dev", "software developer", ("15-1252.00",)),
        Query("q-nurse", "nurse", ("29-1141.00",)),
        Query("q-gone", "held out", ("29-1141.01",)),
    ),
)
CONTEXTS = {c: [i, i + 1] for i, c in enumerate(CODES)}
BM25_TOP = {"q-dev": ("15-1252.00", "53-3001.00", "53-3002.00", "15-1251.00", "29-1141.01")}


def _sampler(seed: int = 0, size: int = 8, exclude: frozenset[str] = frozenset({"29-1141.01"})) -> ListSampler:
    return ListSampler(ONET, ONET.queries, BM25_TOP, CONTEXTS, size=size, seed=seed, exclude=exclude)


def test_a_list_holds_positives_siblings_hard_and_easy_negatives() -> None:
    dev = next(lst for lst in _sampler().epoch(0) if lst.query.query_id == "q-dev")
    grades = dict(zip(dev.job_ids, dev.grades, strict=True))
    assert len(dev.job_ids) == len(set(dev.job_ids)) == 8
    assert grades["15-1252.00"] == RELEVANT
    assert [g for g in dev.grades if g == SIBLING] == [SIBLING] * 3  # 15-1251, -1253, -1254
    assert {"53-3001.00", "53-3002.00"} <= set(dev.job_ids)  # every BM25 hard negative fits
    assert sum(g == 0 for g in dev.grades) == 2 + EASY_NEGATIVES
    assert dev.contexts == tuple(tuple(CONTEXTS[j]) for j in dev.job_ids)


def test_excluded_postings_never_appear_and_queries_without_positives_are_skipped() -> None:
    lists = list(_sampler().epoch(0))
    assert {lst.query.query_id for lst in lists} == {"q-dev", "q-nurse"}
    assert all("29-1141.01" not in lst.job_ids for lst in lists)


def test_same_seed_and_epoch_draw_the_same_lists_others_differ() -> None:
    assert list(_sampler(seed=3).epoch(2)) == list(_sampler(seed=3).epoch(2))
    draws = {tuple(lst.job_ids for lst in _sampler(seed=s).epoch(e)) for s in range(3) for e in range(3)}
    assert len(draws) > 1


def test_a_query_draw_depends_only_on_its_own_rng() -> None:
    sampler = _sampler()
    query = ONET.queries[0]
    assert sampler.draw(query, random.Random("x")) == sampler.draw(query, random.Random("x"))


def test_train_sampler_on_real_onet_keeps_unseen_occupations_out() -> None:
    onet = real_onet()
    contexts = {p.job_id: [len(p.title)] for p in onet.postings}
    held_out = unseen_codes(onet)
    lists = list(train_sampler(onet, contexts, size=16, seed=0).epoch(0))
    assert len(lists) > 4000
    assert all(len(lst.job_ids) == 16 and RELEVANT in lst.grades for lst in lists)
    assert not any(held_out.intersection(lst.job_ids) for lst in lists)
