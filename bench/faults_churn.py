"""Scenarios 1 and 5 of `bench.faults`: workers dying and coming back, and a rebalance storm.

`kills(model, home, plan)`: 1. `plan.postings` postings produced and stored by `plan.workers` workers
(`--role all`); 2. `plan.queries` queries (`plan.candidates` each) produced evenly over
`plan.seconds`, while every `plan.every_s` the longest-running worker gets SIGKILL and a new one
starts; 3. every answer read, the workers stopped. Passes with 0 lost, every duplicate ranked as its
first copy, no answer to an unknown request, no false `missing_context`, no crash.

`storm(model, home, plan)`: separate postings and query workers (`--role postings`, `--role queries`),
one of each to start; 1. base postings stored; 2. queries (naming base postings) and new postings
produced together over `plan.seconds`, while every `plan.every_s` a worker joins or leaves (SIGTERM),
the roles in turn, each role keeping 1 to `MAX_PER_ROLE` workers; 3. every answer read, the new
postings settled, then probed (each must be scored). Passes with 0 lost, duplicates identical, every
new posting stored, no crash. `plan.assignment` sets the workers' partition assignment strategy.

Each returns a row of figures with its `checks` (name -> passed). Ignores latency (`bench.load`).
"""

import random
import time
from dataclasses import dataclass, replace
from pathlib import Path

from bench.faults_answers import Answers, finish, probe, scenario_row, shared_checks
from bench.faults_data import job_ids, posting, query
from bench.faults_stack import FaultStack, Reader, stream, wait_for
from worker.settings import Role

# A worker's first poll comes after torch loads (~5 s alone, ~20 s when three start at once on 2 cores).
START_TIMEOUT_S = 120.0
# Each role keeps at least one worker (so nothing waits for a member that never comes) and at most this.
MAX_PER_ROLE = 3
SEED = 20


@dataclass(frozen=True)
class KillPlan:
    workers: int
    postings: int
    queries: int
    candidates: int
    seconds: float  # over which the queries are produced
    every_s: float  # between kills
    drain_s: float  # for the answers after the last query


@dataclass(frozen=True)
class StormPlan:
    assignment: str | None  # RANKSTREAM_PARTITION_ASSIGNMENT_STRATEGY; None: the worker's default
    postings: int  # stored before the storm, named by the queries
    queries: int
    new_postings: int  # produced during the storm
    candidates: int
    seconds: float
    every_s: float  # between joins and leaves
    drain_s: float


KILLS = KillPlan(workers=3, postings=200, queries=5000, candidates=10, seconds=250, every_s=10, drain_s=180)
QUICK_KILLS = KillPlan(workers=3, postings=50, queries=240, candidates=10, seconds=12, every_s=3, drain_s=90)
STORM = StormPlan(
    assignment=None, postings=200, queries=3000, new_postings=600, candidates=10, seconds=120, every_s=3, drain_s=120
)
# The eager protocol beside the default cooperative one: whether the local broker's stall is the protocol's.
STORM_RANGE = replace(STORM, assignment="range")
# A few moves only: on the local broker (Tansu) a longer storm leaves the groups without an
# assignment, cooperative or eager, with plain confluent-kafka consumers too (docs/results.md).
QUICK_STORM = StormPlan(
    assignment=None, postings=50, queries=240, new_postings=80, candidates=10, seconds=12, every_s=2, drain_s=90
)


def _queries(tag: str, n: int, jobs: list[str], candidates: int) -> list[dict]:
    rng = random.Random(SEED)
    return [query(f"{tag}-{i}", rng.sample(jobs, candidates)) for i in range(n)]


def store_postings(stack: FaultStack, role: Role, jobs: list[str]) -> None:
    for job in jobs:
        stack.produce("postings", job, posting(job))
    stack.flush()
    if not wait_for(lambda: stack.settled(role, "postings"), START_TIMEOUT_S, every_s=0.5):
        raise TimeoutError(f"the {len(jobs)} postings were not stored within {START_TIMEOUT_S:.0f} s")


def kills(model: Path, home: Path, plan: KillPlan) -> dict:
    started, jobs = time.monotonic(), job_ids("job", plan.postings)
    answers = Answers()
    with FaultStack.up(model, home) as stack:
        for _ in range(plan.workers):
            stack.start("all")
        store_postings(stack, "all", jobs)
        reader = Reader(stack, "results")
        asked = _queries("q", plan.queries, jobs, plan.candidates)

        def kill_one() -> None:
            stack.kill(stack.running()[0])
            stack.start("all")

        messages = [("queries", q["request_id"], q) for q in asked]
        acts = stream(stack, messages, plan.seconds, plan.every_s, kill_one, answers.produced)
        drain = answers.collect(reader, plan.drain_s)
        crashes = finish(stack, answers, reader)
    figures = answers.figures(frozenset(jobs))
    checks = shared_checks(figures, crashes)
    return scenario_row("kill -9 churn", plan, started, crashes, checks, kills=acts, **figures, drain_s=round(drain, 1))


def storm(model: Path, home: Path, plan: StormPlan) -> dict:
    started, jobs, new = time.monotonic(), job_ids("job", plan.postings), job_ids("new", plan.new_postings)
    answers, rng, moves = Answers(), random.Random(SEED), {"joins": 0, "leaves": 0}
    strategy = {"RANKSTREAM_PARTITION_ASSIGNMENT_STRATEGY": plan.assignment} if plan.assignment else {}
    with FaultStack.up(model, home, strategy) as stack:
        stack.start("postings")
        stack.start("queries")
        store_postings(stack, "postings", jobs)
        reader = Reader(stack, "results")
        asked = _queries("q", plan.queries, jobs, plan.candidates)
        messages = [("queries", q["request_id"], q) for q in asked] + [("postings", j, posting(j)) for j in new]
        rng.shuffle(messages)

        def move() -> None:
            role: Role = ("postings", "queries")[sum(moves.values()) % 2]
            members = stack.running(role)
            if len(members) < MAX_PER_ROLE and (len(members) == 1 or rng.random() < 0.5):
                stack.start(role)
                moves["joins"] += 1
            else:
                stack.leave(members[0])
                moves["leaves"] += 1

        stream(stack, messages, plan.seconds, plan.every_s, move, answers.produced)
        drain = answers.collect(reader, plan.drain_s)
        settled = wait_for(lambda: stack.settled("postings", "postings"), plan.drain_s, every_s=0.5)
        stored = probe(stack, answers, reader, "new", new, plan.drain_s)
        crashes = finish(stack, answers, reader)
    figures = answers.figures(frozenset(jobs + new))
    checks = shared_checks(figures, crashes) | {"every new posting stored": settled and stored == len(new)}
    extra = {**moves, **figures, "new_postings_stored": stored, "drain_s": round(drain, 1)}
    name = f"rebalance storm ({plan.assignment or 'default assignment'})"
    return scenario_row(name, plan, started, crashes, checks, **extra)
