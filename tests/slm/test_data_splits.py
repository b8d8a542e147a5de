"""Splits: disjoint, covering, deterministic, and `unseen` occupations never relevant outside `unseen`."""

from dataclasses import replace

from slm.data.onet import Onet
from slm.data.splits import SPLITS, split_queries, subsample, unseen_codes
from tests.slm.test_data_onet import real_onet


def _ids(onet: Onet) -> dict[str, set[str]]:
    return {s: {q.query_id for q in qs} for s, qs in split_queries(onet).items()}


def test_splits_are_disjoint_and_cover_every_query() -> None:
    onet = real_onet()
    ids = _ids(onet)
    assert sum(len(v) for v in ids.values()) == len(onet.queries)
    assert set().union(*ids.values()) == {q.query_id for q in onet.queries}
    assert all(ids[s] for s in SPLITS)


def test_splits_are_deterministic_and_ignore_input_order() -> None:
    onet = real_onet()
    shuffled = replace(onet, queries=tuple(reversed(onet.queries)), postings=tuple(reversed(onet.postings)))
    assert _ids(onet) == _ids(shuffled) == _ids(onet)


def test_seen_splits_have_the_expected_shares() -> None:
    onet = real_onet()
    ids = _ids(onet)
    seen = len(ids["train"]) + len(ids["dev"]) + len(ids["test"])
    assert 0.07 < len(ids["test"]) / seen < 0.13 and 0.07 < len(ids["dev"]) / seen < 0.13
    assert 0.05 < len(unseen_codes(onet)) / len(onet.postings) < 0.2


def test_unseen_occupations_are_never_relevant_outside_unseen() -> None:
    onet = real_onet()
    held_out = unseen_codes(onet)
    splits = split_queries(onet)
    for split in ("train", "dev", "test"):
        for query in splits[split]:
            assert not held_out.intersection(onet.grades(query)), (split, query)
    assert all(held_out.intersection(q.relevant) for q in splits["unseen"])


def test_subsample_is_a_seeded_deterministic_prefix() -> None:
    onet = real_onet()
    test = split_queries(onet)["test"]
    small, large = subsample(test, 10), subsample(test, 50)
    assert small == subsample(test, 10) and small == large[:10]
    assert subsample(test, 10, seed=1) != small
    assert set(subsample(test, None)) == set(test)
