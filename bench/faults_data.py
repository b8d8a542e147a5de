"""Synthetic traffic of the fault scenarios: postings with versions, and queries naming them.

`posting(job_id, version)` is a valid upsert whose text (title, company, skills, description) is drawn
from a small vocabulary, seeded by the id and version: the same pair always gives the same posting, two
versions of a job give different contexts (the title names the version, so no two are alike, and the
model scores them differently); `like` gives another
job's text to this id (a reference copy whose score tells which version a query saw). `delete(job_id)` is
its delete. `query(request_id, candidates)` is a valid query naming them, its text seeded by its id.
`job_ids(prefix, n)` names n jobs.

Ignores relevance: the tiny model's scores are noise, only their equality means something.
"""

import random

TITLES = (
    "Python Developer", "Registered Nurse", "Data Analyst", "Barista", "Truck Driver", "Accountant",
    "Electrician", "Teacher", "Sales Associate", "Welder", "Chef", "Pharmacist", "Web Designer", "Plumber",
)  # fmt: skip
SKILLS = (
    "SQL", "patient care", "Excel", "espresso", "forklift", "audit", "wiring", "lesson planning", "retail",
    "TIG welding", "menu design", "dispensing", "CSS", "pipe fitting", "Django", "scheduling", "negotiation",
)  # fmt: skip
COMPANIES = ("Northwind", "Contoso", "Fabrikam", "Globex", "Initech", "Umbrella", "Tailspin")
PLACES = ("Remote", "Austin, TX", "Leeds, UK", "Berlin", "Toronto", "Lyon")
# Skills and sentences per posting: a context of a few dozen tokens, like a short real posting.
SKILLS_PER_POSTING = 3
SENTENCES = 3


def job_ids(prefix: str, n: int) -> list[str]:
    return [f"{prefix}-{i}" for i in range(n)]


def posting(job_id: str, version: int = 1, like: str | None = None) -> dict:
    """Version `version` of a job's posting; with `like`, job `like`'s text under this job's id."""
    rng = random.Random(f"{like or job_id}/{version}")
    title, company, place = rng.choice(TITLES), rng.choice(COMPANIES), rng.choice(PLACES)
    skills = rng.sample(SKILLS, SKILLS_PER_POSTING)
    sentences = [
        f"{company} is hiring a {title.lower()} in {place}.",
        *(
            f"You will use {skill} every day and {rng.choice(SKILLS)} now and then."
            for skill in skills[: SENTENCES - 1]
        ),
    ]
    return {
        "op": "upsert",
        "job_id": job_id,
        "title": f"{title} ({rng.choice(('Senior', 'Junior', 'Lead', 'Trainee'))}), opening {version}",
        "company": company,
        "location": place,
        "skills": skills,
        "description": " ".join(sentences),
    }


def delete(job_id: str) -> dict:
    return {"op": "delete", "job_id": job_id}


def query(request_id: str, candidates: list[str]) -> dict:
    rng = random.Random(request_id)
    text = f"{rng.choice(TITLES).lower()} {rng.choice(SKILLS)} {rng.choice(PLACES)}"
    return {"request_id": request_id, "query": text, "candidate_job_ids": candidates}
