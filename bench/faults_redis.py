"""Scenario 2 of `bench.faults`: Redis frozen, then Redis restarted empty, under a stream of queries.

`redis_faults(model, home, plan)`: a postings worker and `plan.query_workers` query workers;
1. the postings stored; 2. queries (naming stored postings) produced evenly over `plan.seconds`, while
   Redis is frozen (SIGSTOP) for `plan.freeze_s` from `plan.freeze_s / 2` on, thawed (SIGCONT), and a
   half-freeze later killed and started again empty; 3. every answer read; 4. the store's rebuild
   waited for: a probe of every posting every `PROBE_EVERY_S` until one comes back fully scored
   (the postings workers replay the postings topic), within `plan.rebuild_s`.
Passes with no crash, 0 lost, never a false `missing_context` (every candidate was stored before its
query: an answer may come late, or unscored `context_store_rebuilding`, never say the posting is
missing) and the store rebuilt. Figures: unscored reasons, the longest answer, the rebuild's time.

Returns a row with its `checks`. Ignores which worker answered and the scores.
"""

import random
import time
from dataclasses import dataclass
from pathlib import Path

from bench.faults_answers import Answers, finish, probe, scenario_row, shared_checks
from bench.faults_churn import store_postings
from bench.faults_data import job_ids, query
from bench.faults_stack import Acts, FaultStack, Reader, stream

SEED = 2
# A rebuild probe asks for every posting this often: a replay of a few hundred postings takes seconds.
PROBE_EVERY_S = 2.0


@dataclass(frozen=True)
class RedisPlan:
    postings: int
    query_workers: int
    queries: int
    candidates: int
    seconds: float  # of queries; the faults take 2.5 freezes' time from the start
    freeze_s: float
    drain_s: float
    rebuild_s: float


REDIS = RedisPlan(
    postings=300, query_workers=2, queries=2000, candidates=10, seconds=60, freeze_s=10, drain_s=180, rebuild_s=120
)
QUICK_REDIS = RedisPlan(
    postings=60, query_workers=1, queries=240, candidates=5, seconds=12, freeze_s=4, drain_s=90, rebuild_s=60
)


def _rebuilt(stack: FaultStack, answers: Answers, reader: Reader, jobs: list[str], timeout_s: float) -> float | None:
    """Seconds until a probe of every job came back fully scored; None if none did within `timeout_s`."""
    started = time.monotonic()
    for attempt in range(int(timeout_s / PROBE_EVERY_S) + 1):
        if probe(stack, answers, reader, f"rebuild-{attempt}", jobs, timeout_s) == len(jobs):
            return time.monotonic() - started
        if time.monotonic() - started > timeout_s:
            return None
        time.sleep(PROBE_EVERY_S)
    return None


def redis_faults(model: Path, home: Path, plan: RedisPlan) -> dict:
    started, jobs, rng = time.monotonic(), job_ids("job", plan.postings), random.Random(SEED)
    answers = Answers()
    with FaultStack.up(model, home) as stack:
        stack.start("postings")
        for _ in range(plan.query_workers):
            stack.start("queries")
        store_postings(stack, "postings", jobs)
        reader = Reader(stack, "results")
        asked = [query(f"q{i}", rng.sample(jobs, plan.candidates)) for i in range(plan.queries)]
        # One act per half-freeze: Redis stopped for a whole freeze, then, half a freeze after, wiped.
        restarted: list[bool] = []  # whether a new, empty Redis answered after the restart
        acts = Acts(
            [
                ("freeze", stack.freeze_redis),
                ("frozen", None),
                ("thaw", stack.thaw_redis),
                ("restart empty", lambda: restarted.append(stack.restart_redis_empty())),
            ]
        )
        messages = [("queries", q["request_id"], q) for q in asked]
        stream(stack, messages, plan.seconds, plan.freeze_s / 2, acts, answers.produced)
        done = acts.done
        if done and done[-1] in ("freeze", "frozen"):  # a stream too short to thaw must not leave Redis stopped
            stack.thaw_redis()
        drain = answers.collect(reader, plan.drain_s)
        rebuild = _rebuilt(stack, answers, reader, jobs, plan.rebuild_s)
        crashes = finish(stack, answers, reader)
    figures = answers.figures(frozenset(jobs))
    checks = shared_checks(figures, crashes) | {
        "faults done": acts.all_done() and restarted == [True],
        "store rebuilt": rebuild is not None,
    }
    rebuild_s = None if rebuild is None else round(rebuild, 1)
    extra = {"faults": done, **figures, "rebuild_s": rebuild_s, "drain_s": round(drain, 1)}
    return scenario_row("Redis frozen, restarted empty", plan, started, crashes, checks, **extra)
