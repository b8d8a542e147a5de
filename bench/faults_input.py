"""Scenario 4 of `bench.faults`: fuzzed bad messages among good ones, on both input topics.

`bad_input(model, home, plan)`: a postings worker and a query worker (`--role postings`, `--role
queries`); 1. base postings stored; 2. `plan.bad` bad messages (`bench.faults_fuzz`, hypothesis) shuffled
among good postings (new jobs) and good queries (naming base jobs), all produced at once, each one's
partition and offset noted from its delivery report; 3. the dead letters read until one per bad
message came, the good queries answered, the postings settled and the new jobs probed.
Passes when every bad message is in the dead-letter topic with the reason the contract gives it and
its key and value byte for byte, no good message is dead-lettered, every good query is answered and
every good posting stored, and no worker crashed.

Returns a row of figures with its `checks`. Ignores the dead letters' error texts (free-form) and
the order in which things are done.
"""

import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import KafkaError, Message

from bench.faults_answers import Answers, finish, probe, scenario_row, shared_checks
from bench.faults_churn import START_TIMEOUT_S, store_postings
from bench.faults_data import job_ids, posting, query
from bench.faults_fuzz import Bad, bad_messages
from bench.faults_stack import Delivered, FaultStack, Reader, wait_for
from schemas import DeadLetter

SEED = 4
Where = tuple[str, int, int]  # topic, partition, offset


@dataclass(frozen=True)
class InputPlan:
    bad: int
    good_postings: int
    good_queries: int
    base_postings: int
    candidates: int
    drain_s: float


BAD_INPUT = InputPlan(bad=1000, good_postings=300, good_queries=700, base_postings=100, candidates=10, drain_s=180)
QUICK_BAD_INPUT = InputPlan(bad=150, good_postings=40, good_queries=80, base_postings=30, candidates=5, drain_s=90)


def _messages(plan: InputPlan, base: list[str], new: list[str]) -> list[tuple[str, Bad | dict]]:
    rng = random.Random(SEED)
    good_queries = [query(f"q{i}", rng.sample(base, plan.candidates)) for i in range(plan.good_queries)]
    messages = [(b.topic, b) for b in bad_messages(plan.bad, SEED)]
    messages += [("postings", posting(job)) for job in new] + [("queries", q) for q in good_queries]
    rng.shuffle(messages)
    return messages


def _produce(stack: FaultStack, answers: Answers, messages: list[tuple[str, Bad | dict]]) -> dict[Where, Bad | None]:
    """Produce every message; where each landed (None for a good one), from the delivery reports."""
    landed: dict[Where, Bad | None] = {}

    def noted(bad: Bad | None) -> Delivered:
        def report(error: KafkaError | None, message: Message) -> None:
            if error is None:
                landed[(message.topic(), message.partition(), message.offset())] = bad

        return report

    for name, item in messages:
        if isinstance(item, Bad):
            stack.produce(name, item.key, item.value, noted(item))
        else:
            stack.produce(name, item.get("request_id") or item["job_id"], item, noted(None))
            answers.produced(name, item)
    stack.flush()
    return landed


def _match(landed: dict[Where, Bad | None], letters: list[Message]) -> dict:
    """Each dead letter against the message it copies: reasons, byte equality, good ones dead-lettered."""
    seen: set[Where] = set()
    wrong_reason = not_identical = good_dead = 0
    for letter in letters:
        header = DeadLetter.from_headers(letter.headers())
        where = (header.topic, header.partition, header.offset)
        bad = landed.get(where)
        if bad is None:  # a good message's copy (or one this scenario never sent)
            good_dead += 1
            continue
        seen.add(where)
        wrong_reason += header.reason != bad.reason
        not_identical += (letter.key(), letter.value()) != (bad.key, bad.value)
    bad_total = sum(b is not None for b in landed.values())
    return {
        "dead_lettered": len(seen),
        "missing_dead_letters": bad_total - len(seen),
        "wrong_reason": wrong_reason,
        "not_identical": not_identical,
        "good_dead_lettered": good_dead,
    }


def bad_input(model: Path, home: Path, plan: InputPlan) -> dict:
    started, answers = time.monotonic(), Answers()
    base, new = job_ids("job", plan.base_postings), job_ids("good", plan.good_postings)
    messages = _messages(plan, base, new)
    with FaultStack.up(model, home) as stack:
        stack.start("postings")
        stack.start("queries")
        store_postings(stack, "postings", base)
        results, letters = Reader(stack, "results"), Reader(stack, "dlq")
        landed = _produce(stack, answers, messages)
        bad_total = sum(b is not None for b in landed.values())
        letters.until_count(bad_total, plan.drain_s)
        drain = answers.collect(results, plan.drain_s)
        settled = wait_for(lambda: stack.settled("postings", "postings"), START_TIMEOUT_S, every_s=0.5)
        stored = probe(stack, answers, results, "good", new, plan.drain_s)
        crashes = finish(stack, answers, results)
        letters.poll()
        letters.close()
    figures, matched = answers.figures(frozenset(base + new)), _match(landed, letters.messages)
    bad = [b for b in landed.values() if b is not None]
    checks = shared_checks(figures, crashes) | {
        "every bad one dead-lettered": matched["missing_dead_letters"] == 0,
        "with its reason": matched["wrong_reason"] == 0,
        "byte for byte": matched["not_identical"] == 0,
        "no good one dead-lettered": matched["good_dead_lettered"] == 0,
        "every good posting stored": settled and stored == len(new),
    }
    kinds, reasons = len({b.kind for b in bad}), dict(Counter(b.reason for b in bad))
    extra = {
        "bad_sent": len(bad),
        "kinds": kinds,
        "reasons": reasons,
        **matched,
        **figures,
        "good_postings_stored": stored,
    }
    return scenario_row("fuzzed bad input", plan, started, crashes, checks, **extra, drain_s=round(drain, 1))
