"""The BM25 first stage on a tiny synthetic corpus: right order, bounded, deterministic, honest."""

from schemas import JobPosting
from slm.data.retrieval import Bm25
from tests.slm.test_data_onet import real_onet

CORPUS = [
    JobPosting(job_id="py", title="Python Developer", description="Build web services in Python. Remote."),
    JobPosting(job_id="nurse", title="Registered Nurse", description="Care for patients in a hospital."),
    JobPosting(job_id="java", title="Java Developer", description="Build backend services in Java."),
    JobPosting(job_id="driver", title="Truck Driver", description="Drive trucks across the state."),
    JobPosting(job_id="java-copy", title="Java Developer", description="Build backend services in Java."),
]


def _ids(hits: list) -> list[str]:
    return [h.job_id for h in hits]


def test_the_matching_posting_ranks_first_and_only_matches_are_candidates() -> None:
    python, nurse = Bm25(CORPUS).search(["python developer remote", "nurse"])
    assert _ids(python)[0] == "py"
    assert set(_ids(python)) == {"py", "java", "java-copy"}  # "developer" matches; others score 0
    assert _ids(nurse) == ["nurse"]
    assert all(a.score >= b.score > 0 for a, b in zip(python, python[1:], strict=False))


def test_k_bounds_the_candidates_and_ties_keep_corpus_order() -> None:
    hits = Bm25(CORPUS).search(["java backend"], k=2)[0]
    assert _ids(hits) == ["java", "java-copy"] and hits[0].score == hits[1].score
    assert len(Bm25(CORPUS).search(["developer"], k=1)[0]) == 1


def test_queries_with_no_indexed_term_get_no_candidates() -> None:
    assert Bm25(CORPUS).search(["the of and", "astronaut", ""]) == [[], [], []]


def test_results_are_deterministic() -> None:
    queries = ["developer", "services", "drive"]
    assert Bm25(CORPUS).search(queries) == Bm25(list(CORPUS)).search(queries)


def test_real_first_stage_finds_most_relevant_occupations() -> None:
    onet = real_onet()
    queries = onet.queries[:200]
    hits = Bm25(onet.postings).search([q.text for q in queries], k=50)
    found = sum(bool(set(q.relevant) & set(_ids(h))) for q, h in zip(queries, hits, strict=True))
    assert all(len(h) <= 50 for h in hits)
    assert found / len(queries) > 0.5  # a weak but real first stage (~0.6 unstemmed, ~0.8 stemmed)
