"""The abstractive compressor around a stub `generate` (its collaborator): the prompt, parsing and
grounding summaries, the budget, and falling back to extractive on bad output, errors and timeouts."""

import threading
import time

import pytest

from compressor import Encode, ExtractiveCompressor
from compressor.abstractive import RESPONSE_PREFIX, AbstractiveCompressor, parse_summary
from compressor.factory import make_compressor
from schemas import JobPosting

# What the model writes after the prefilled "Role:".
GOOD = " Data Engineer\nSeniority: senior\nKey skills: Spark, SQL, Python, SQL, Excel\nDomain: retail analytics"
POSTINGS = [
    JobPosting(
        job_id=f"j{i}",
        title=f"Data Engineer {i}",
        company="Northwind",
        description="Requirements:\n- 5+ years of SQL and Spark\n- Python\nBenefits: dental insurance.",
    )
    for i in range(3)
]


def stub(*completions: str) -> tuple[list[list[str]], object]:
    calls: list[list[str]] = []

    def generate(prompts: list[str]) -> list[str]:
        calls.append(prompts)
        return list(completions[: len(prompts)])

    return calls, generate


SOURCE = "ICU Nurse | Mercy\nBLS and ACLS certified; 2 years of critical care"


def test_parse_tolerates_markdown_aliases_lists_and_dedupes_skills() -> None:
    completion = "**Role:** ICU Nurse\n- Skills: BLS, bls, <skill>\n* ACLS\n2. critical care\n\nIndustry: healthcare"
    summary = parse_summary(completion, SOURCE)
    assert summary is not None
    assert (summary.role, summary.seniority, summary.domain) == ("ICU Nurse", "", "healthcare")
    assert summary.skills == ["BLS", "ACLS", "critical care"]


def test_parse_keeps_only_what_the_posting_names() -> None:
    summary = parse_summary("Role: Data Analyst\nSeniority: Senior nurse\nKey skills: SQL, BLS, Python", SOURCE)
    assert summary is not None and summary.skills == ["BLS"]
    assert summary.role == "" and summary.seniority == "senior"  # the role shares no word with the posting


@pytest.mark.parametrize(
    "completion",
    [
        "",
        "I cannot help with that.",
        "Role: ICU Nurse\nKey skills: SQL, Python",
        "Role: Nurse\nKey skills: N/A",
        "Role: Nurse\nKey skills: BLS and ACLS and two years of critical care in an ICU",
    ],
)
def test_parse_rejects_summaries_without_grounded_skills(completion: str) -> None:
    assert parse_summary(completion, SOURCE) is None


def test_summaries_fit_the_budget_and_name_the_model(encode: Encode) -> None:
    calls, generate = stub(GOOD, GOOD, GOOD)
    compressor = AbstractiveCompressor(generate, budget_tokens=48, model_name="smollm2")
    out = compressor.compress_many_encoded(POSTINGS, encode)
    assert len(calls) == 1 and len(calls[0]) == 3  # one batched call
    chat = calls[0][0]
    assert [m["role"] for m in chat] == ["user", "assistant", "user", "assistant"]
    assert chat[-1]["content"] == RESPONSE_PREFIX
    assert "Data Engineer 0 | Northwind" in chat[2]["content"] and "dental" not in chat[2]["content"]
    assert out[0].text.startswith("Data Engineer 0 | Northwind\nRole: Data Engineer | Seniority: senior")
    assert "Key skills: Spark, SQL, Python" in out[0].text and "Excel" not in out[0].text
    assert all(len(o.token_ids) <= 48 and o.token_ids == encode([o.text])[0] for o in out)
    assert {o.compressor for o in out} == {compressor.id} == {"abstractive@1+smollm2"}


def test_the_posting_s_own_seniority_beats_the_model_s(encode: Encode) -> None:
    stated = POSTINGS[0].model_copy(update={"seniority": "Entry level"})
    text = AbstractiveCompressor(stub(GOOD)[1]).compress_many([stated], encode)[0]
    assert text.startswith("Data Engineer 0 | Northwind | Entry level\nRole: Data Engineer | Domain:")


def test_a_bad_summary_falls_back_for_that_posting_only(encode: Encode) -> None:
    _, generate = stub(GOOD, "gibberish", GOOD)
    out = AbstractiveCompressor(generate).compress_many_encoded(POSTINGS, encode)
    extractive = ExtractiveCompressor().compress_many_encoded(POSTINGS[1:2], encode)[0]
    assert [o.compressor for o in out] == ["abstractive@1+llm", "extractive@2", "abstractive@1+llm"]
    assert out[1] == extractive


def test_generation_errors_and_wrong_counts_fall_back(encode: Encode) -> None:
    def broken(prompts: list[str]) -> list[str]:
        raise RuntimeError("CUDA out of memory")

    for generate in (broken, stub(GOOD)[1]):  # the second returns 1 completion for 3 prompts
        out = AbstractiveCompressor(generate).compress_many_encoded(POSTINGS, encode)
        assert out == ExtractiveCompressor().compress_many_encoded(POSTINGS, encode)


def test_timeout_falls_back_without_waiting_for_the_engine(encode: Encode) -> None:
    release = threading.Event()

    def stuck(prompts: list[str]) -> list[str]:
        release.wait(10)
        return [GOOD] * len(prompts)

    compressor = AbstractiveCompressor(stuck, timeout_s=0.2)
    start = time.monotonic()
    out = compressor.compress_many(POSTINGS, encode)
    release.set()
    assert time.monotonic() - start < 5
    assert out == ExtractiveCompressor().compress_many(POSTINGS, encode)


def test_empty_batch_never_calls_the_model(encode: Encode) -> None:
    calls, generate = stub()
    assert AbstractiveCompressor(generate).compress_many_encoded([], encode) == [] and calls == []


def test_factory_builds_both_kinds_and_refuses_bad_configs() -> None:
    assert make_compressor("extractive", 80).id == "extractive@2"
    assert make_compressor("abstractive", 80, stub(GOOD)[1], model_name="m").id == "abstractive@1+m"
    with pytest.raises(ValueError, match="generate"):
        make_compressor("abstractive", 80)
    with pytest.raises(ValueError, match="unknown compressor"):
        make_compressor("lsa", 80)  # type: ignore[arg-type]
