"""Job-posting events (topic `job-postings`, keyed by job_id).

An event is an upsert (the default when `op` is absent) or a delete. Upserts carry the posting's text;
a delete needs only its id. Validation is strict (no type coercion) and bounded by `schemas.limits`;
unknown fields are ignored so producers can add fields before consumers learn them.
"""

from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    TypeAdapter,
)

from schemas import limits

JobId = Annotated[str, StringConstraints(min_length=1, max_length=limits.MAX_ID_CHARS, pattern=r"\S")]
ShortText = Annotated[str, StringConstraints(max_length=limits.MAX_FIELD_CHARS)]
Skill = Annotated[str, StringConstraints(min_length=1, max_length=limits.MAX_SKILL_CHARS)]


class _Event(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")


class JobPosting(_Event):
    """A posting to index (op "upsert")."""

    op: Literal["upsert"] = "upsert"
    job_id: JobId
    title: Annotated[str, StringConstraints(min_length=1, max_length=limits.MAX_TITLE_CHARS, pattern=r"\S")]
    description: Annotated[str, StringConstraints(max_length=limits.MAX_DESCRIPTION_CHARS)]
    company: ShortText | None = None
    location: ShortText | None = None
    skills: Annotated[list[Skill], Field(max_length=limits.MAX_SKILLS)] | None = None
    seniority: ShortText | None = None
    work_type: ShortText | None = None
    updated_at: AwareDatetime | None = None


class JobPostingDelete(_Event):
    """A posting to forget (op "delete")."""

    op: Literal["delete"]
    job_id: JobId
    updated_at: AwareDatetime | None = None


def _op(value: Any) -> str:
    """The union's tag: `op`, defaulting to "upsert" as the contract says; other values fail as tags."""
    op = value.get("op", "upsert") if isinstance(value, dict) else getattr(value, "op", "upsert")
    return op if isinstance(op, str) else repr(op)


PostingEvent = Annotated[
    Annotated[JobPosting, Tag("upsert")] | Annotated[JobPostingDelete, Tag("delete")],
    Discriminator(_op),
]
POSTING_EVENT = TypeAdapter(PostingEvent)


def parse_posting_event(raw: bytes | str) -> JobPosting | JobPostingDelete:
    """Validate one wire message; raises pydantic.ValidationError on any violation."""
    return POSTING_EVENT.validate_json(raw, strict=True)
