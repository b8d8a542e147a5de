"""Validate: raw Kafka bytes become a typed event, or a reason to dead-letter them.

Checks run cheapest first: size, then (in one pydantic pass) UTF-8 JSON and the contract. The error text
names what broke (the limit, the JSON position, the failing fields) so a producer can fix it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import ValidationError

from schemas import DeadLetterReason
from schemas.limits import MAX_MESSAGE_BYTES

Event = TypeVar("Event")


@dataclass(frozen=True)
class Invalid:
    reason: DeadLetterReason
    error: str


@dataclass(frozen=True)
class Validator(Generic[Event]):
    parse: Callable[[bytes], Event]  # raises ValidationError on contract violations

    def __call__(self, value: bytes | None) -> Event | Invalid:
        if value is None:
            return Invalid("invalid_json", "empty message (null value)")
        if len(value) > MAX_MESSAGE_BYTES:
            return Invalid("oversized", f"message is {len(value)} bytes; limit is {MAX_MESSAGE_BYTES}")
        try:
            return self.parse(value)
        except ValidationError as exc:
            if any(e["type"] == "json_invalid" for e in exc.errors(include_input=False)):
                return Invalid("invalid_json", "not UTF-8 JSON: " + _describe(exc))
            return Invalid("schema_violation", _describe(exc))


def _describe(exc: ValidationError) -> str:
    """One line per failing field, without echoing the (possibly huge) input back."""
    errors = exc.errors(include_input=False)
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in errors)
