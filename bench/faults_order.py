"""Scenario 3 of `bench.faults`: a query sees the postings table as of its own event.

`table_order(model, home, plan)`: everything is produced before any worker starts:
1. reference postings `ref-J-vK`, the text of job J's version K under an id of their own, never
   changed; then version 1 of every job;
2. `plan.steps` changes, each to one job: an update to its next version, a delete, or (deleted) an
   upsert of its next version; after each change a millisecond passes (Kafka timestamps are in ms)
   and `plan.queries_per_step` queries follow, each naming one job and all its references;
3. the workers start together on that backlog (`plan.roles`: one of role all, as in the issue, or
   a postings and a query worker); every answer read.
Each answer's view of its job is read off the references in it (the same text scores the same;
another version's text, differently): a version, or deleted (`missing_context`). Against the job's
state when the query was produced it is: as of the query; newer (the table ahead of the query: a state
the job took later, allowed); or wrong: a deleted job scored, an older version scored, a live job
`missing_context`. A wrong view in an answer flagged `table_behind` (the gate's wait ran out, and the
answer says so) is counted apart from an unflagged one, and passes, as does a job left unscored with a
reason that names the cause (`context_store_rebuilding`): the issue's bounded wait. A score matching
no reference fails; one left undecidable (references scoring alike, or unscored) is counted, not judged.

Returns a row with its `checks`. Ignores scores' meaning (the tiny model's are noise).
"""

import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.faults_answers import MISSING, Answers, finish, scenario_row, shared_checks
from bench.faults_data import delete, job_ids, posting, query
from bench.faults_stack import FaultStack, Reader
from schemas import RankedResults
from worker.settings import Role

SEED = 3
# Kafka timestamps count milliseconds: a query produced this long after a change is later than it.
AFTER_S = 0.002
# Scores of one text agree to float rounding (copies of one answer differed by 6e-8); two texts'
# scores differ by far more, but the tiny model's may come close: such an answer is undecidable.
SAME_SCORE = 1e-6
DELETE_SHARE = 0.3  # of the changes to a live job; the rest are updates
DELETED = 0  # a job's state once deleted (versions count from 1)
REBUILDING = "unscored: context_store_rebuilding"  # the one reason a live job may go unscored


@dataclass(frozen=True)
class OrderPlan:
    roles: tuple[Role, ...]  # the workers started on the backlog
    jobs: int
    steps: int
    queries_per_step: int
    drain_s: float


# One worker of role all is the setup; a postings and a query worker, the deployed one.
ONE_WORKER, SPLIT_ROLES = ("all",), ("postings", "queries")
TABLE_ORDER = OrderPlan(roles=ONE_WORKER, jobs=100, steps=600, queries_per_step=3, drain_s=240)
TABLE_ORDER_SPLIT = OrderPlan(roles=SPLIT_ROLES, jobs=100, steps=600, queries_per_step=3, drain_s=240)
QUICK_TABLE_ORDER = OrderPlan(roles=ONE_WORKER, jobs=20, steps=60, queries_per_step=2, drain_s=90)


def ref(job: str, version: int) -> str:
    return f"ref-{job}-v{version}"


def _changes(plan: OrderPlan, jobs: list[str], rng: random.Random) -> list[tuple[str, int]]:
    """The steps' changes, (job, new state): a version, or DELETED."""
    state, latest, changes = dict.fromkeys(jobs, 1), dict.fromkeys(jobs, 1), []
    for _ in range(plan.steps):
        job = rng.choice(jobs)
        deleting = state[job] != DELETED and rng.random() < DELETE_SHARE
        state[job] = DELETED if deleting else latest[job] + 1
        latest[job] = max(latest[job], state[job])
        changes.append((job, state[job]))
    return changes


def _verdict(result: RankedResults, job: str, then: int, later: set[int], versions: int) -> str:
    """What a query's answer did with its job, given the job's state when the query was produced
    (`then`) and the states it took after (`later`: a table ahead of the query may show those)."""
    scores = {r.job_id: r.score for r in result.results}
    reasons = {u.job_id: u.reason for u in result.unscored}
    refs = [scores.get(ref(job, v)) for v in range(1, versions + 1)]
    if job in scores:
        alike = [v for v, s in enumerate(refs, 1) if s is not None and abs(s - scores[job]) <= SAME_SCORE]
        if len(alike) > 1 or (not alike and None in refs):  # references alike, or the one it matches unscored
            return "undecidable"
        if not alike:
            return "unexplained score"
        seen = alike[0]
    elif reasons.get(job) == MISSING:
        seen = DELETED
    else:
        return f"unscored: {reasons.get(job)}"
    if seen == then:
        return "as of the query"
    if seen in later:
        return "newer (table ahead)"
    wrong = "scored deleted" if then == DELETED else "false missing_context" if seen == DELETED else "older version"
    return f"{wrong}, flagged table_behind" if result.table_behind else wrong


def table_order(model: Path, home: Path, plan: OrderPlan) -> dict:
    started, rng, jobs = time.monotonic(), random.Random(SEED), job_ids("job", plan.jobs)
    changes = _changes(plan, jobs, rng)
    versions = {job: max([1] + [s for j, s in changes if j == job]) for job in jobs}
    answers, expected = Answers(), {}  # request id -> (job, its state when asked, the step then)
    with FaultStack.up(model, home) as stack:
        for job in jobs:  # 1. references, then version 1
            for v in range(1, versions[job] + 1):
                stack.produce("postings", ref(job, v), posting(ref(job, v), v, like=job))
        for job in jobs:
            stack.produce("postings", job, posting(job, 1))
        state = dict.fromkeys(jobs, 1)
        for step, (job, new) in enumerate(changes):  # 2. changes, each followed by queries
            stack.produce("postings", job, delete(job) if new == DELETED else posting(job, new))
            state[job] = new
            stack.flush()
            time.sleep(AFTER_S)
            for n in range(plan.queries_per_step):
                asked = job if n == 0 else rng.choice(jobs)
                q = query(f"q{step}-{n}", [asked, *(ref(asked, v) for v in range(1, versions[asked] + 1))])
                stack.produce("queries", q["request_id"], q)
                answers.ask(q)
                expected[q["request_id"]] = (asked, state[asked], step)
        stack.flush()
        reader = Reader(stack, "results")
        for role in plan.roles:  # 3. the workers on the backlog
            stack.start(role)
        drain = answers.collect(reader, plan.drain_s)
        crashes = finish(stack, answers, reader)
    verdicts: Counter[str] = Counter()
    for request_id, (job, then, step) in expected.items():
        if request_id in answers.copies:
            later = {new for j, new in changes[step + 1 :] if j == job}
            verdicts[_verdict(answers.first(request_id), job, then, later, versions[job])] += 1
    figures = answers.figures()
    checks = shared_checks(figures, crashes) | {
        "no deleted posting scored": "scored deleted" not in verdicts,
        "no older version scored": "older version" not in verdicts,
        "no live posting missing_context": "false missing_context" not in verdicts,
        "every score explained": "unexplained score" not in verdicts,
        "unscored only while rebuilding": all(v == REBUILDING for v in verdicts if v.startswith("unscored")),
    }
    deletes = sum(s == DELETED for _, s in changes)
    extra = {"deletes": deletes, "updates": len(changes) - deletes, "verdicts": dict(verdicts), **figures}
    extra |= {"drain_s": round(drain, 1)}  # from the workers' start to the last answer
    return scenario_row(f"table as of each query ({' + '.join(plan.roles)})", plan, started, crashes, checks, **extra)
