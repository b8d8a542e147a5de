"""Fuzzed bad messages for both input topics, each with the dead-letter reason the contract gives it.

`bad_messages(n, seed)` -> n `Bad` (topic, kind, key, value, reason), drawn by hypothesis from `BAD`:
a good posting or query (`bench.faults_data`) broken in one way, so the reason is known by construction,
never by asking the validator:
- oversized: any message over `MAX_MESSAGE_BYTES` (checked first, whatever its content);
- invalid_json: no value (a null message), a proper prefix of a JSON object (never valid JSON), a
  byte that is not UTF-8 put inside a string;
- schema_violation: JSON that is not an object, a required field removed, a field of the wrong type,
  a value outside its bound (lengths, counts, ranges, patterns, duplicates, unknown `op`, a timestamp
  without a zone or not a timestamp at all).
Keys are arbitrary bytes or none. Ignores bad headers (the worker reads none of its input's but the
trace context, which is optional).
"""

import json
from dataclasses import dataclass

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from bench.faults_data import posting, query
from schemas import DeadLetterReason
from schemas import limits as L

Topic = str  # "postings" or "queries"


@dataclass(frozen=True)
class Bad:
    topic: Topic
    kind: str
    key: bytes | None
    value: bytes | None
    reason: DeadLetterReason


# Values of a wrong JSON type for any field (strict validation coerces nothing: "5" is not 5). Not null,
# which optional fields take, nor an empty list, which `skills` takes.
WRONG_TYPES = st.one_of(st.booleans(), st.integers(), st.lists(st.integers(), min_size=1, max_size=3), st.just({}))
BLANK = st.text(alphabet=" \t\n", min_size=1, max_size=5)  # breaks the `\S` pattern of ids and texts
NOT_TIMESTAMPS = st.sampled_from(["yesterday", "2024-13-01T00:00:00Z", "2024-01-01T00:00:00", "2024-01-01", ""])
KEYS = st.one_of(st.none(), st.binary(min_size=1, max_size=40))
TIMESTAMP = {"postings": "updated_at", "queries": "deadline_at"}
REQUIRED = {"postings": ("job_id", "title", "description"), "queries": ("request_id", "query", "candidate_job_ids")}


def _good(topic: Topic, n: int) -> dict:
    return posting(f"fuzz-{n}") if topic == "postings" else query(f"fuzz-{n}", [f"job-{n}", f"job-{n + 1}"])


def _bad(topic: Topic, kind: str, value: bytes | None, reason: DeadLetterReason, key: bytes | None) -> Bad:
    return Bad(topic, f"{topic}: {kind}", key, value, reason)


TOO_LONG = {
    "postings": {"job_id": L.MAX_ID_CHARS, "title": L.MAX_TITLE_CHARS, "company": L.MAX_FIELD_CHARS,
                 "location": L.MAX_FIELD_CHARS, "description": L.MAX_DESCRIPTION_CHARS},
    "queries": {"request_id": L.MAX_ID_CHARS, "query": L.MAX_QUERY_CHARS},
}  # fmt: skip
MANY_CANDIDATES = [f"j{i}" for i in range(L.MAX_CANDIDATES + 1)]
MANY_SKILLS = [f"s{i}" for i in range(L.MAX_SKILLS + 1)]


@st.composite
def _field_broken(draw: st.DrawFn, topic: Topic) -> tuple[str, dict]:
    """A good event with one field made invalid: the kind (naming the field) and the event."""
    event = _good(topic, draw(st.integers(0, 10_000)))
    required, any_field = draw(st.sampled_from(REQUIRED[topic])), draw(st.sampled_from(sorted(event)))
    text, long = draw(st.sampled_from(REQUIRED[topic][:2])), draw(st.sampled_from(sorted(TOO_LONG[topic])))
    breaks = {
        f"missing {required}": lambda: event.pop(required),
        f"wrong type of {any_field}": lambda: event.update({any_field: draw(WRONG_TYPES)}),
        f"blank {text}": lambda: event.update({text: draw(BLANK)}),
        f"too long {long}": lambda: event.update({long: "x" * (TOO_LONG[topic][long] + 1)}),
        f"bad {TIMESTAMP[topic]}": lambda: event.update({TIMESTAMP[topic]: draw(NOT_TIMESTAMPS)}),
    }
    if topic == "postings":
        breaks |= {
            "unknown op": lambda: event.update(op=draw(st.sampled_from(["purge", "DELETE", "", "upsert "]))),
            "too many skills": lambda: event.update(skills=MANY_SKILLS),
            "bad skill": lambda: event.update(skills=[draw(st.sampled_from(["", "x" * (L.MAX_SKILL_CHARS + 1)]))]),
            "empty title": lambda: event.update(title=""),
            "delete without id": lambda: (event.clear(), event.update(op="delete")),
        }
    else:
        ids = event["candidate_job_ids"]
        breaks |= {
            "no candidates": lambda: event.update(candidate_job_ids=[]),
            "repeated candidate": lambda: event.update(candidate_job_ids=[ids[0], *ids]),
            "too many candidates": lambda: event.update(candidate_job_ids=MANY_CANDIDATES),
            "top_k below 1": lambda: event.update(top_k=draw(st.integers(max_value=0))),
            "scores not one per candidate": lambda: event.update(
                candidate_scores=[0.5] * (len(ids) + draw(st.sampled_from([-1, 1])))
            ),
            "deadline_ms out of range": lambda: event.update(
                deadline_ms=draw(st.sampled_from([0, L.MAX_DEADLINE_MS + 1]))
            ),
            "empty query": lambda: event.update(query=""),
        }
    kind = draw(st.sampled_from(sorted(breaks)))
    breaks[kind]()
    return kind, event


# How a message is broken: mostly one field (the most kinds); oversized rarely (each is over 512 KiB,
# ~7% of 1,000 is ~35 MB through the broker and as much again in dead letters).
SHAPES = st.sampled_from(["field"] * 8 + ["not an object", "prefix", "prefix", "not utf-8", "null", "oversized"])


@st.composite
def _one(draw: st.DrawFn) -> Bad:
    topic: Topic = draw(st.sampled_from(["postings", "queries"]))
    key, raw = draw(KEYS), json.dumps(_good(topic, draw(st.integers(0, 10_000)))).encode()
    shape = draw(SHAPES)
    if shape == "field":
        kind, event = draw(_field_broken(topic))
        return _bad(topic, kind, json.dumps(event).encode(), "schema_violation", key)
    if shape == "not an object":
        value = draw(st.one_of(st.none(), st.integers(), st.text(max_size=20), st.lists(st.integers(), max_size=3)))
        return _bad(topic, f"JSON {type(value).__name__}", json.dumps(value).encode(), "schema_violation", key)
    if shape == "prefix":
        return _bad(topic, "truncated JSON", raw[: draw(st.integers(1, len(raw) - 1))], "invalid_json", key)
    if shape == "not utf-8":
        at = raw.index(b'":"') + 3 if b'":"' in raw else raw.index(b'": "') + 4  # inside the first string value
        byte = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80"]))
        return _bad(topic, "not UTF-8", raw[:at] + byte + raw[at:], "invalid_json", key)
    if shape == "null":
        return _bad(topic, "null value", None, "invalid_json", key)
    size = L.MAX_MESSAGE_BYTES + draw(st.integers(1, 4096))
    start = draw(st.sampled_from([b"", b"{", raw[:-1]]))  # garbage, or JSON that would be valid but for its size
    return _bad(topic, "oversized", start + b"x" * (size - len(start)), "oversized", key)


BAD = _one()


def bad_messages(n: int, seed: int) -> list[Bad]:
    """n bad messages, the same for the same seed (hypothesis generating, not searching or shrinking)."""
    found: list[Bad] = []

    @hypothesis_seed(seed)
    @settings(
        max_examples=n,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(BAD)
    def collect(bad: Bad) -> None:
        found.append(bad)

    collect()
    return found[:n]
