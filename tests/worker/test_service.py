"""Worker assembly: the configured compressor, its fallback, and one context namespace for all roles."""

from pathlib import Path

import pytest

from schemas import JobPosting
from worker.service import build_compressor, build_parts, context_tokens
from worker.settings import Settings

POSTING = JobPosting(
    job_id="j1",
    title="Registered Nurse",
    company="St. Mary's",
    description="Requirements: active RN license. You will care for ICU patients.",
)


@pytest.fixture()
def settings(tiny_model_dir: Path, dev_services) -> Settings:
    return Settings(model_path=tiny_model_dir, redis_url=dev_services.redis_url, dtype="float32", http_port=0)


def test_abstractive_with_an_unusable_summarizer_falls_back_to_extractive(settings: Settings) -> None:
    abstractive = settings.model_copy(update={"compressor": "abstractive", "summarizer_path": settings.model_path})
    compressor = build_compressor(abstractive)
    assert compressor.id == "abstractive@1+tiny-random-llama"
    parts = build_parts(abstractive, "postings")
    [out] = compressor.compress_many_encoded([POSTING], parts.encoder.encode)
    assert out.compressor.startswith("extractive@"), "random weights write no parseable summary"
    assert out.text.startswith("Registered Nurse") and len(out.token_ids) <= context_tokens(abstractive)


@pytest.mark.parametrize("kind", ["extractive", "abstractive"])
def test_queries_role_reads_the_namespace_the_postings_role_writes(settings: Settings, kind: str) -> None:
    configured = settings.model_copy(update={"compressor": kind, "summarizer_path": settings.model_path})
    writer = build_parts(configured, "postings")
    reader = build_parts(configured, "queries")
    assert reader.compressor is None and writer.scorer is None
    assert reader.store.namespace == writer.store.namespace


def test_budget_follows_the_model_unless_configured(settings: Settings, tmp_path: Path) -> None:
    assert context_tokens(settings) == 64  # the tiny model's manifest names no budget: the compressor default
    assert context_tokens(settings.model_copy(update={"context_budget_tokens": 80})) == 80
