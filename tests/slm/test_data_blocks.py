"""Block training data: shared postings per block, every query's positive inside, grades for all
pairs, neighbouring occupations together, seeded determinism."""

import pytest

from slm.data.blocks import BlockSampler, train_blocks
from slm.data.onet import RELEVANT
from slm.data.splits import unseen_codes
from tests.slm.test_data_onet import real_onet


@pytest.fixture(scope="module")
def sampler() -> BlockSampler:
    onet = real_onet()
    contexts = {p.job_id: [len(p.title)] for p in onet.postings}
    return train_blocks(onet, contexts, queries=24, postings=24, seed=0)


def _blocks(sampler: BlockSampler, epoch: int) -> list[list]:
    lists = list(sampler.epoch(epoch))
    assert len(lists) % sampler.queries == 0  # a short last block is dropped
    return [lists[i : i + sampler.queries] for i in range(0, len(lists), sampler.queries)]


def test_a_block_shares_its_postings_and_grades_every_pair(sampler: BlockSampler) -> None:
    onet = sampler.lists.onet
    held_out = unseen_codes(onet)
    blocks = _blocks(sampler, 0)
    assert len(blocks) * sampler.queries > 4000
    for block in blocks:
        job_ids = block[0].job_ids
        assert len(job_ids) == len(set(job_ids)) == sampler.postings
        assert not held_out.intersection(job_ids)
        for ranking in block:
            assert ranking.job_ids == job_ids and ranking.contexts == block[0].contexts
            grades = onet.grades(ranking.query)
            assert ranking.grades == tuple(grades.get(j, 0) for j in job_ids)
            assert RELEVANT in ranking.grades  # the query's own positive made it into the block


def test_a_blocks_queries_come_from_neighbouring_occupations(sampler: BlockSampler) -> None:
    majors = [len({lst.job_ids[lst.grades.index(RELEVANT)][:2] for lst in block}) for block in _blocks(sampler, 0)]
    assert sum(majors) / len(majors) < 1.5  # SOC major groups ("29" healthcare) per block, mostly 1


def test_blocks_are_seeded_and_differ_between_epochs(sampler: BlockSampler) -> None:
    first = list(sampler.epoch(1))
    assert first == list(sampler.epoch(1))
    assert [r.query for r in first] != [r.query for r in sampler.epoch(2)]


def test_a_block_needs_queries_and_postings(sampler: BlockSampler) -> None:
    with pytest.raises(ValueError, match="a block needs"):
        BlockSampler(sampler.lists, queries=0, postings=8)
