"""Cleaning and segmentation on hand-written postings: markup, glued scrapes, headings, bullets, sentences."""

from compressor.lexicon import SegmentClass
from compressor.segment import MAX_SEGMENT_CHARS, SegmentKind, segment
from compressor.text import MAX_SCAN_CHARS, clean


def units(text: str) -> list[tuple[str, str]]:
    return [(s.kind.value, s.text) for s in segment(clean(text))]


def test_html_becomes_lines_and_entities_are_decoded() -> None:
    html = "<div><h2>Requirements</h2><ul><li>Python &amp; SQL</li><li>3+ years</li></ul><script>x()</script></div>"
    assert units(html) == [("heading", "Requirements"), ("bullet", "Python & SQL"), ("bullet", "3+ years")]


def test_glued_scrape_is_split_at_headings_sentences_and_words() -> None:
    text = (
        "Job summary:The intern supports planning.Qualifications:Currently enrolled in a program.Energetic and "
        "goal-drivenA strong writer\nCompany DescriptionWe're a studio"
    )
    assert units(text) == [
        ("heading", "Job summary"),
        ("sentence", "The intern supports planning."),
        ("heading", "Qualifications"),
        ("sentence", "Currently enrolled in a program."),
        ("sentence", "Energetic and goal-driven"),
        ("sentence", "A strong writer"),
        ("heading", "Company Description"),
        ("sentence", "We're a studio"),
    ]


def test_camel_case_names_stay_whole() -> None:
    assert clean("Use JavaScript, PowerPoint, LinkedIn, iPhone and ServiceNow daily") == (
        "Use JavaScript, PowerPoint, LinkedIn, iPhone and ServiceNow daily"
    )


def test_bullets_marks_emoji_and_glued_dashes() -> None:
    text = "- Build APIs\n* Review code\n1. Mentor juniors\n✅ Ship weekly\nAgent Support- Receive requests- Track it"
    assert units(text) == [
        ("bullet", "Build APIs"),
        ("bullet", "Review code"),
        ("bullet", "Mentor juniors"),
        ("bullet", "Ship weekly"),
        ("sentence", "Agent Support"),
        ("bullet", "Receive requests"),
        ("bullet", "Track it"),
    ]


def test_headings_colon_lone_known_names_and_leading_labels() -> None:
    text = "Who you are:\nBenefits & Perks\nRequirements: 5+ years of Python; strong SQL\nSales experience required"
    segs = segment(clean(text))
    assert [(s.kind, s.text) for s in segs] == [
        (SegmentKind.HEADING, "Who you are"),
        (SegmentKind.HEADING, "Benefits & Perks"),
        (SegmentKind.HEADING, "Requirements"),
        (SegmentKind.SENTENCE, "5+ years of Python"),
        (SegmentKind.SENTENCE, "strong SQL"),
        (SegmentKind.SENTENCE, "Sales experience required"),
    ]
    assert segs[3].section is SegmentClass.REQUIREMENTS and segs[3].heading == "Requirements"


def test_sentences_split_but_not_after_abbreviations() -> None:
    assert units("Use tools, e.g. Jira and Git. Ship often! Then rest.") == [
        ("sentence", "Use tools, e.g. Jira and Git."),
        ("sentence", "Ship often!"),
        ("sentence", "Then rest."),
    ]


def test_run_on_text_is_cut_into_bounded_segments() -> None:
    segs = segment(clean("word " * 1000))
    assert len(segs) > 1 and all(len(s.text) <= MAX_SEGMENT_CHARS for s in segs)


def test_huge_input_is_cut_before_any_work() -> None:
    assert len(clean("x" * (MAX_SCAN_CHARS * 10))) == MAX_SCAN_CHARS


def test_cjk_sentences_split_at_full_stops() -> None:
    assert units("负责后端开发。熟悉Python！") == [("sentence", "负责后端开发。"), ("sentence", "熟悉Python！")]
