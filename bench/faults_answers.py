"""The ledger of a fault scenario: what was asked, what came back, and what is wrong with it.

`Answers.ask(query)` records a query sent (its request id and candidates); `take(messages)` parses
ranked results read from the results topic (every copy kept, in the order read); `collect(reader,
timeout)` reads until every query is answered, `rest(reader)` what is left. `probe(...)` asks for
every job of a list and counts those scored: whether the store holds them. `finish(...)` stops the
workers and reads the late copies. `shared_checks` are every scenario's checks, `scenario_row` its row.
`figures(stored)`:
- sent, answered, lost (sent, never answered), unknown (answered, never sent);
- duplicates (copies beyond the first), differing (a copy whose ranking, the scored job ids in order
  and the unscored ones with their reasons, is not the first copy's), max_score_diff over copies;
- false_missing: candidates answered `missing_context` although in `stored` (the jobs known to be in
  the store when their query was sent), with when the first SHOWN such queries were sent (seconds
  since the first query), and unscored reasons counted (first copies);
- table_behind: first copies scored before the postings table caught up (`worker.gate`);
- max_latency_s: from a query's produce call to its first answer's Kafka timestamp (the asker's clock
  and the worker's: one machine here); latency: that of each query against when it was sent.
Ignores scores' values beyond copies' equality (the tiny model's scores are noise).
"""

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict

from confluent_kafka import Message

from bench.faults_data import query
from bench.faults_stack import FaultStack, Reader
from schemas import RankedResults
from schemas.limits import MAX_CANDIDATES

MISSING = "missing_context"
# Queries with a false `missing_context` whose send times are kept: when they came, for a diagnosis.
SHOWN = 50
# Points of a scenario's latency series kept for its plot: a readable scatter, a JSON of a few hundred KB.
SERIES_POINTS = 1000


def ranking(result: RankedResults) -> tuple:
    """What must be equal between copies of one answer: the scored order and the unscored reasons."""
    return tuple(r.job_id for r in result.results), tuple(sorted((u.job_id, u.reason) for u in result.unscored))


def score_diff(first: RankedResults, copy: RankedResults) -> float:
    scores = {r.job_id: r.score for r in first.results}
    return max((abs(scores[r.job_id] - r.score) for r in copy.results if r.job_id in scores), default=0.0)


class Answers:
    def __init__(self) -> None:
        self.asked: dict[str, list[str]] = {}
        self.asked_at: dict[str, float] = {}  # epoch seconds, when produced
        self.copies: dict[str, list[RankedResults]] = {}
        self.latency_s: dict[str, float] = {}  # produced -> first copy's Kafka timestamp

    def ask(self, query: dict) -> None:
        self.asked[query["request_id"]] = query["candidate_job_ids"]
        self.asked_at[query["request_id"]] = time.time()

    def produced(self, topic: str, value: dict) -> None:
        """`ask` for a query just produced; a posting is none of the ledger's business."""
        if topic == "queries":
            self.ask(value)

    def take(self, messages: Iterable[Message]) -> None:
        for message in messages:
            result = RankedResults.model_validate_json(message.value())
            self.copies.setdefault(result.request_id, []).append(result)
            if result.request_id in self.asked_at and result.request_id not in self.latency_s:
                self.latency_s[result.request_id] = message.timestamp()[1] / 1e3 - self.asked_at[result.request_id]

    def first(self, request_id: str) -> RankedResults:
        return self.copies[request_id][0]

    def all_answered(self) -> bool:
        return all(request_id in self.copies for request_id in self.asked)

    def collect(self, reader: Reader, timeout_s: float) -> float:
        """Read results until every query asked is answered or `timeout_s` passes; seconds taken."""
        started = time.monotonic()
        while not self.all_answered() and time.monotonic() - started < timeout_s:
            self.take(reader.poll())
        return time.monotonic() - started

    def rest(self, reader: Reader) -> None:
        """Read what is left in the topic (late copies), once the workers have stopped."""
        while new := reader.poll():
            self.take(new)

    def latency_series(self) -> list[tuple[float, float]]:
        """(seconds since the first query, latency) of answered queries, in the order asked, thinned
        to at most SERIES_POINTS (for the plot)."""
        if not self.asked_at:
            return []
        start = min(self.asked_at.values())
        points = [(at - start, self.latency_s[r]) for r, at in self.asked_at.items() if r in self.latency_s]
        step = max(1, len(points) // SERIES_POINTS)
        return [(round(t, 2), round(latency, 3)) for t, latency in points[::step]]

    def figures(self, stored: frozenset[str] = frozenset()) -> dict:
        extra = [(copies[0], copy) for copies in self.copies.values() for copy in copies[1:]]
        firsts = [copies[0] for copies in self.copies.values()]
        reasons = Counter(u.reason for result in firsts for u in result.unscored)
        falsely_missing = {
            r.request_id: m
            for r in firsts
            if (m := [u for u in r.unscored if u.reason == MISSING and u.job_id in stored])
        }
        start = min(self.asked_at.values(), default=0.0)
        return {
            "sent": len(self.asked),
            "answered": sum(request_id in self.copies for request_id in self.asked),
            "lost": sum(request_id not in self.copies for request_id in self.asked),
            "unknown": sum(request_id not in self.asked for request_id in self.copies),
            "duplicates": len(extra),
            "differing": sum(ranking(first) != ranking(copy) for first, copy in extra),
            "max_score_diff": max((score_diff(first, copy) for first, copy in extra), default=0.0),
            "false_missing": sum(len(jobs) for jobs in falsely_missing.values()),
            "false_missing_sent_at": sorted(round(self.asked_at[r] - start, 1) for r in falsely_missing)[:SHOWN],
            "unscored": dict(reasons),
            "table_behind": sum(r.table_behind for r in firsts),
            "max_latency_s": round(max(self.latency_s.values(), default=0.0), 2),
            "latency": self.latency_series(),
        }


def probe(stack: FaultStack, answers: Answers, reader: Reader, tag: str, jobs: list[str], timeout_s: float) -> int:
    """Ask for every job in `jobs` (queries of up to MAX_CANDIDATES, ids `probe-TAG-N`) once their
    postings have settled; how many came back scored (a job in the store is scored)."""
    chunks = [jobs[i : i + MAX_CANDIDATES] for i in range(0, len(jobs), MAX_CANDIDATES)]
    asked = [query(f"probe-{tag}-{i}", chunk) for i, chunk in enumerate(chunks)]
    for q in asked:
        stack.produce("queries", q["request_id"], q)
        answers.ask(q)
    stack.flush()
    answers.collect(reader, timeout_s)
    done = [answers.first(q["request_id"]) for q in asked if q["request_id"] in answers.copies]
    return sum(len(result.results) for result in done)


def finish(stack: FaultStack, answers: Answers, reader: Reader) -> list[str]:
    """Stop every worker (their drains deliver what they hold), read the late copies; the crashes."""
    stack.stop_all()
    answers.rest(reader)
    reader.close()
    return stack.crashes()


def shared_checks(figures: dict, crashes: list[str]) -> dict[str, bool]:
    """What every scenario asks of its answers: none lost, copies ranked alike, none for an unknown
    request, no false `missing_context`, and no worker crashed."""
    return {
        "0 lost": figures["lost"] == 0,
        "duplicates identical": figures["differing"] == 0,
        "none unknown": figures["unknown"] == 0,
        "no false missing_context": figures["false_missing"] == 0,
        "no crash": not crashes,
    }


def scenario_row(name: str, plan: object, started: float, crashes: list[str], checks: dict, **figures: object) -> dict:
    """A scenario's row: its name, plan (a dataclass), figures, crashes, checks and seconds since `started`."""
    row = {"scenario": name, "plan": asdict(plan), **figures, "crashes": crashes, "checks": checks}  # type: ignore[call-overload]
    return row | {"seconds": round(time.monotonic() - started, 1)}
