"""Deterministic splits of the O*NET queries: train / dev / test by query, and `unseen` by occupation.

Contract: `split_queries(onet)[split]` is a tuple of queries; the four splits are disjoint and cover
every query. `unseen` holds out whole sibling groups (hashed, ~10% of groups): every query with a
held-out occupation among its relevant ones goes to `unseen`, so in train, dev and test a held-out
posting is never relevant (grade 2) nor a sibling of a relevant one (grade 1). `unseen_codes(onet)`
names the held-out postings, which training must also leave out of its lists (`slm.data.lists`).
The remaining queries are hashed by query id into train (80%), dev (10%) and test (10%).

Assignments are pure functions of ids and `SPLIT_SALT` (sha256, no RNG state, no input order), so they
are identical across machines, runs and Python versions. Ignores near-duplicate query texts across
splits ("Registered Nurse" vs "Registered Nurse (RN)"): that leak is realistic for search logs.
"""

import hashlib
from typing import Literal, get_args

from slm.data.onet import Onet, Query

Split = Literal["train", "dev", "test", "unseen"]
SPLITS: tuple[Split, ...] = get_args(Split)
# Changing the salt reshuffles every split (and invalidates reported numbers): bump only with a new
# data version, never to "get a better test set".
SPLIT_SALT = "rankstream-onet27-splits-v1"
# A tenth of the sibling groups (on O*NET 27.0: 135 occupations, 964 queries): enough queries for a
# stable NDCG estimate while train keeps most occupations.
UNSEEN_GROUP_FRACTION = 0.10
# Of the seen queries: 10% dev, 10% test, the rest train (a common split that keeps train large).
DEV_FRACTION = 0.10
TEST_FRACTION = 0.10


def unit_hash(*parts: str) -> float:
    """A uniform number in [0, 1) determined by its parts."""
    digest = hashlib.sha256(":".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def unseen_codes(onet: Onet, salt: str = SPLIT_SALT) -> frozenset[str]:
    """Occupations held out of training: all members of the hashed-out sibling groups."""
    held = [g for g in onet.groups if unit_hash(salt, "unseen", g) < UNSEEN_GROUP_FRACTION]
    return frozenset(code for g in held for code in onet.groups[g])


def split_of(query: Query, held_out: frozenset[str], salt: str = SPLIT_SALT) -> Split:
    if held_out.intersection(query.relevant):
        return "unseen"
    u = unit_hash(salt, "query", query.query_id)
    if u < TEST_FRACTION:
        return "test"
    return "dev" if u < TEST_FRACTION + DEV_FRACTION else "train"


def split_queries(onet: Onet, salt: str = SPLIT_SALT) -> dict[Split, tuple[Query, ...]]:
    held_out = unseen_codes(onet, salt)
    assigned: dict[Split, list[Query]] = {s: [] for s in SPLITS}
    for query in onet.queries:
        assigned[split_of(query, held_out, salt)].append(query)
    return {s: tuple(qs) for s, qs in assigned.items()}


def subsample(queries: tuple[Query, ...], limit: int | None, seed: int = 0) -> tuple[Query, ...]:
    """A deterministic subset of at most `limit` queries (all when None), in a seeded hash order."""
    ordered = sorted(queries, key=lambda q: unit_hash(str(seed), "subsample", q.query_id))
    return tuple(ordered[:limit] if limit is not None else ordered)
