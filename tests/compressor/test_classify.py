"""Each segment class on hand-written examples: by heading, by the segment's own words, and boilerplate
phrases that win over any heading."""

import pytest

from compressor.classify import classify
from compressor.lexicon import SegmentClass as C
from compressor.segment import segment
from compressor.text import clean


def classes(text: str) -> list[tuple[str, C]]:
    return [(s.text, classify(s)) for s in segment(clean(text))]


@pytest.mark.parametrize(
    ("heading", "line", "expected"),
    [
        ("About the role:", "You join a small platform team.", C.SUMMARY),
        ("Responsibilities:", "Own the billing service.", C.RESPONSIBILITIES),
        ("What you'll do:", "Ship features every week.", C.RESPONSIBILITIES),
        ("Qualifications:", "Fluent English.", C.REQUIREMENTS),
        ("Who you are:", "A calm problem solver.", C.REQUIREMENTS),
        ("Tech stack:", "Go, Kafka, Postgres.", C.SKILLS),
        ("About us:", "Founded by two nurses in a garage.", C.COMPANY),
        ("Why join us?", "We grow fast.", C.COMPANY),
        ("Benefits:", "Gym membership.", C.BENEFITS),
        ("EEO statement:", "Diversity makes us better.", C.LEGAL),
        ("How to apply:", "Write to Anna.", C.APPLY),
        ("Job type:", "Full-time.", C.OTHER),
    ],
)
def test_section_heading_sets_the_class(heading: str, line: str, expected: C) -> None:
    assert classes(f"{heading}\n{line}") == [(heading.rstrip(":"), expected), (line, expected)]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("We are seeking a nurse to lead our night shift.", C.SUMMARY),
        ("Manage a team of five technicians.", C.RESPONSIBILITIES),
        ("You will design data pipelines.", C.RESPONSIBILITIES),
        ("Bachelor's degree in accounting.", C.REQUIREMENTS),
        ("3+ years of experience with Kubernetes.", C.REQUIREMENTS),
        ("Python, SQL, Tableau and Excel", C.SKILLS),
        ("We are a leading provider of cloud software.", C.COMPANY),
        ("Medical, dental and vision insurance from day one.", C.BENEFITS),
        ("We are an equal opportunity employer.", C.LEGAL),
        ("Click the Easy Apply button to send your resume.", C.APPLY),
        ("Shifts rotate monthly.", C.OTHER),
    ],
)
def test_own_words_classify_text_without_a_heading(line: str, expected: C) -> None:
    assert classes(line) == [(line, expected)]


def test_boilerplate_phrases_win_over_the_heading() -> None:
    text = "Requirements:\nSQL.\nSalary $90,000 per year.\nAll applicants are considered without regard to race."
    assert [c for _, c in classes(text)] == [C.REQUIREMENTS, C.REQUIREMENTS, C.BENEFITS, C.LEGAL]


def test_a_summary_heading_is_weak_evidence() -> None:
    text = "Job description\nOur office is lively.\nProficiency in Excel is required."
    assert [c for _, c in classes(text)] == [C.SUMMARY, C.SUMMARY, C.REQUIREMENTS]


def test_non_english_section_names() -> None:
    assert [c for _, c in classes("Ihre Aufgaben:\nKunden beraten.\nIhr Profil:\nAbgeschlossene Ausbildung.")] == [
        C.RESPONSIBILITIES,
        C.RESPONSIBILITIES,
        C.REQUIREMENTS,
        C.REQUIREMENTS,
    ]
