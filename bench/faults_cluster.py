"""Scenario `cluster` of `bench.faults`: Redis Cluster masters killed under a stream of queries.

`cluster_faults(model, home, plan)`: a local cluster of 3 masters with a replica each (`rankstream dev
up`, `cli.dev_cluster`), a postings worker and `plan.query_workers` query workers;
1. the postings stored (and replicated: the master to be killed has a replica that took all it wrote);
2. queries (naming stored postings) produced evenly over `plan.seconds`, with an act every quarter:
   a master killed (`kill -9`: its replica takes its slots), then that replica, now a master with no
   replica, killed too (its slots have no node: every query waits at most `RANKSTREAM_REDIS_WAIT_S`,
   `plan.wait_s`, then answers its candidates unscored `context_store_unavailable`), then both started
   again by `rankstream dev up` (from their append-only files: they rejoin with their data);
   (the second kill waits, at most `FAILOVER_TIMEOUT_S`, for the replica to be promoted);
3. every answer read; 4. a probe of every posting, which must come back fully scored: nothing lost.
Passes with no crash, 0 lost, never a false `missing_context`, the replica promoted after the first
kill, and every posting scored after the restart. Figures: unscored reasons, the longest answer
(`bench.redis_cluster` times the failover).

Returns a row with its `checks`. Ignores which worker answered and the scores.
"""

import random
import time
from dataclasses import dataclass
from pathlib import Path

from bench.faults_answers import Answers, finish, probe, scenario_row, shared_checks
from bench.faults_churn import store_postings
from bench.faults_data import job_ids, query
from bench.faults_stack import Acts, FaultStack, Reader, stream, wait_for
from cli.dev_nodes import kill_node, nodes, promoted, replica_of, replicated

SEED = 3
# A failover takes the node timeout (`cli.dev_cluster.NODE_TIMEOUT_MS`, 2 s) and an election.
FAILOVER_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class ClusterPlan:
    postings: int
    query_workers: int
    queries: int
    candidates: int
    seconds: float  # of queries; an act every quarter of it
    wait_s: float  # RANKSTREAM_REDIS_WAIT_S of the query workers
    drain_s: float
    probe_s: float


CLUSTER = ClusterPlan(
    postings=300, query_workers=2, queries=2000, candidates=10, seconds=60, wait_s=5, drain_s=180, probe_s=60
)
QUICK_CLUSTER = ClusterPlan(
    postings=60, query_workers=1, queries=150, candidates=5, seconds=12, wait_s=2, drain_s=90, probe_s=60
)


def cluster_faults(model: Path, home: Path, plan: ClusterPlan) -> dict:
    started, jobs, rng = time.monotonic(), job_ids("job", plan.postings), random.Random(SEED)
    answers = Answers()
    env = {"RANKSTREAM_REDIS_CLUSTER": "1", "RANKSTREAM_REDIS_CLUSTER_REPLICAS": "1"}
    with FaultStack.up(model, home, env | {"RANKSTREAM_REDIS_WAIT_S": str(plan.wait_s)}) as stack:
        stack.start("postings")
        for _ in range(plan.query_workers):
            stack.start("queries")
        store_postings(stack, "postings", jobs)
        settings = stack.settings
        master = next(p for p, e in nodes(settings).items() if "master" in e["flags"])
        replica = replica_of(settings, master)
        if not replicated(settings, master):
            raise TimeoutError(f"the replica of {master} did not catch up")
        reader = Reader(stack, "results")
        failed_over: list[bool] = []

        def kill_promoted() -> None:
            failed_over.append(wait_for(lambda: promoted(settings, replica), FAILOVER_TIMEOUT_S, every_s=0.05))
            kill_node(settings, replica)

        acts = Acts(
            [
                ("kill a master", lambda: kill_node(settings, master)),
                ("kill its promoted replica", kill_promoted),
                ("restart both", lambda: stack.dev("up")),
            ]
        )
        asked = [query(f"q{i}", rng.sample(jobs, plan.candidates)) for i in range(plan.queries)]
        messages = [("queries", q["request_id"], q) for q in asked]
        stream(stack, messages, plan.seconds, plan.seconds / 4, acts, answers.produced)
        drain = answers.collect(reader, plan.drain_s)
        scored = probe(stack, answers, reader, "after", jobs, plan.probe_s)
        crashes = finish(stack, answers, reader)
    figures = answers.figures(frozenset(jobs))
    checks = shared_checks(figures, crashes) | {
        "faults done": acts.all_done(),
        "replica promoted": failed_over == [True],
        "every posting scored after": scored == len(jobs),
    }
    extra = {
        "faults": acts.done,
        **figures,
        "scored_after": scored,
        "drain_s": round(drain, 1),
    }
    return scenario_row("Redis Cluster masters killed", plan, started, crashes, checks, **extra)
