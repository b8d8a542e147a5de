"""Dead letters (topic `rankstream-dlq`).

A dead letter is the original message, byte for byte (same key, same value), with the failure
described in Kafka headers. Keeping the value raw means an oversized or non-UTF-8 message still fits
and can be replayed unchanged once the producer is fixed. `DeadLetter` is the header contract.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

HEADER_PREFIX = "rankstream.dlq."
# Error text is bounded: a pydantic report of a 1,000-item list can run to megabytes.
MAX_ERROR_CHARS = 4000

DeadLetterReason = Literal[
    "oversized",  # the message exceeds schemas.limits.MAX_MESSAGE_BYTES
    "invalid_json",  # not UTF-8 JSON
    "schema_violation",  # JSON that breaks the event contract
    "processing_failed",  # valid input the worker could not process (e.g. the model raised)
]


class DeadLetter(BaseModel):
    model_config = ConfigDict(frozen=True)

    reason: DeadLetterReason
    error: str = Field(max_length=MAX_ERROR_CHARS)
    topic: str
    partition: int
    offset: int
    worker: str = Field(description="The worker instance that gave up on the message.")

    def to_headers(self) -> list[tuple[str, bytes]]:
        return [(HEADER_PREFIX + k, str(v).encode()) for k, v in self.model_dump().items()]

    @classmethod
    def from_headers(cls, headers: list[tuple[str, bytes]] | None) -> "DeadLetter":
        fields = {k[len(HEADER_PREFIX) :]: v.decode() for k, v in headers or [] if k.startswith(HEADER_PREFIX)}
        return cls.model_validate(fields)


def bounded_error(text: str) -> str:
    """Cut an error message to the header's bound, saying that it was cut."""
    if len(text) <= MAX_ERROR_CHARS:
        return text
    return text[: MAX_ERROR_CHARS - 15] + " …[truncated]"
