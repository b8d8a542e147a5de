"""The extractive compressor with the real SmolLM2 tokenizer: what it keeps, what it drops, the budget
(a property over arbitrary text), and hostile descriptions (empty, 1 MB, HTML, non-English, emoji)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compressor import DEFAULT_BUDGET_TOKENS, Encode, ExtractiveCompressor, compress
from schemas import JobPosting

POSTING = JobPosting(
    job_id="j1",
    title="Senior Data Engineer",
    company="Northwind",
    location="Austin, TX",
    seniority="Mid-Senior level",
    work_type="Full-time, Remote",
    skills=["Python", "Airflow"],
    description=(
        "About us: Northwind is a leading provider of retail analytics, founded in 2009 by two grocers "
        "who wanted better forecasts and a kinder workplace for everyone involved.\n"
        "Responsibilities:\n- Build batch and streaming pipelines in Spark\n- Own the warehouse data model\n"
        "Requirements:\n- 5+ years of SQL and Python\n- Experience with Kafka\n"
        "Benefits: 401(k) match, dental and vision insurance, unlimited paid time off.\n"
        "We are an equal opportunity employer; all qualified applicants receive consideration without regard "
        "to race, color, religion, sex or national origin.\nTo apply, click the Easy Apply button."
    ),
)


def posting(description: str, **fields: object) -> JobPosting:
    """Unvalidated on purpose: the compressor must survive what the schema would refuse (1 MB)."""
    return JobPosting.model_construct(job_id="x", title="Nurse", description=description, **fields)


def test_keeps_header_fields_skills_and_requirements_drops_boilerplate(encode: Encode) -> None:
    text = ExtractiveCompressor(96).compress(POSTING, encode)
    head, skills, *body = text.split("\n")
    assert head == "Senior Data Engineer | Northwind | Austin, TX | Mid-Senior level | Full-time, Remote"
    assert skills == "Skills: Python, Airflow"
    assert {"5+ years of SQL and Python", "Experience with Kafka", "Own the warehouse data model"} <= set(body)
    for boilerplate in ("grocers", "401(k)", "equal opportunity", "Easy Apply"):
        assert boilerplate not in text


def test_ids_are_the_tokenized_text_and_the_id_names_the_version(encode: Encode) -> None:
    compressor = ExtractiveCompressor(48)
    [out] = compressor.compress_many_encoded([POSTING], encode)
    assert out.token_ids == encode([out.text])[0] and len(out.token_ids) <= 48
    assert out.compressor == compressor.id == "extractive@2"
    assert compressor.compress_many([POSTING], encode) == [out.text]


def test_deterministic_and_batch_independent(encode: Encode) -> None:
    other = posting("Lead a ward of twelve beds. Registered nurse licence required.")
    compressor = ExtractiveCompressor()
    assert compressor.compress_many([POSTING, other], encode) == [
        compressor.compress(POSTING, encode),
        compressor.compress(other, encode),
    ]


def test_public_compress_defaults_and_word_budget_without_tokenizer() -> None:
    assert DEFAULT_BUDGET_TOKENS == 64
    assert len(compress(POSTING, budget_tokens=20).split()) <= 20


def test_invalid_budget_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="budget_tokens"):
        ExtractiveCompressor(0)


def test_empty_description_gives_the_header(encode: Encode) -> None:
    assert ExtractiveCompressor().compress(posting("", company="Mercy"), encode) == "Nurse | Mercy"


def test_huge_description_is_compressed_within_budget(encode: Encode) -> None:
    huge = ("Requirements: registered nurse licence and 3 years of ICU experience. " * 15_000)[:1_000_000]
    [out] = ExtractiveCompressor().compress_many_encoded([posting(huge)], encode)
    assert len(out.token_ids) <= DEFAULT_BUDGET_TOKENS and "ICU experience" in out.text


def test_html_laden_description_loses_its_markup(encode: Encode) -> None:
    html = (
        "<html><style>p{color:red}</style><body><h3>Requirements</h3><ul><li>BLS &amp; ACLS certification</li>"
        "<li>2+ years in <b>pediatrics</b></li></ul><p>We are an <i>equal opportunity</i> employer.</p></body></html>"
    )
    text = ExtractiveCompressor().compress(posting(html), encode)
    assert text == "Nurse\nBLS & ACLS certification\n2+ years in pediatrics"


@pytest.mark.parametrize(
    "description",
    [
        "Ihre Aufgaben: Betreuung von Patienten auf der Intensivstation. Ihr Profil: Examen als Pflegefachkraft.",
        "负责重症监护病房的护理工作。要求：三年以上护理经验，持有护士执照。" * 20,
        "مطلوب ممرضة ذات خبرة في العناية المركزة. يشترط الحصول على ترخيص مزاولة المهنة.",
    ],
)
def test_non_english_descriptions_keep_their_content(description: str, encode: Encode) -> None:
    [out] = ExtractiveCompressor().compress_many_encoded([posting(description)], encode)
    assert out.text.startswith("Nurse\n") and len(out.text) > len("Nurse\n") + 10
    assert len(out.token_ids) <= DEFAULT_BUDGET_TOKENS


def test_emoji_bullets_become_plain_lines(encode: Encode) -> None:
    description = "🚀 Join our rocketship!\n✅ 3+ years ICU experience 💉\n✅ BLS certified"
    text = ExtractiveCompressor().compress(posting(description), encode)
    assert "3+ years ICU experience" in text and "BLS certified" in text and "✅" not in text and "💉" not in text


_TEXT = st.lists(
    st.one_of(
        st.text(min_size=0, max_size=80),
        st.sampled_from(["\n", "• ", "Requirements:", "<li>", "&amp;", "🎉", "5+ years of SQL. ", "C++; ", "。"]),
    ),
    max_size=40,
).map("".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(description=_TEXT, title=st.text(min_size=1, max_size=300).filter(str.strip), budget=st.integers(1, 128))
def test_budget_is_never_exceeded(description: str, title: str, budget: int, encode: Encode) -> None:
    p = JobPosting.model_construct(job_id="x", title=title, description=description, skills=["Go", "SQL"])
    [out] = ExtractiveCompressor(budget).compress_many_encoded([p], encode)
    assert len(out.token_ids) <= budget
    assert out.token_ids == encode([out.text])[0]
