"""One frozen settings object from RANKSTREAM_* variables; secrets never show."""

import pytest
from pydantic import ValidationError

from worker.kafka import client_config
from worker.settings import Settings


def test_contract_defaults() -> None:
    s = Settings()
    assert s.kafka_bootstrap_servers == "127.0.0.1:9092"
    assert s.redis_url.get_secret_value() == "redis://127.0.0.1:6379/0"
    assert s.group_id == "rankstream"
    assert (s.topic_postings, s.topic_queries, s.topic_results, s.topic_dlq) == (
        "job-postings",
        "search-queries",
        "ranked-results",
        "rankstream-dlq",
    )
    assert s.model_path == s.home / "models" / "default"


def test_environment_with_security_pass_through_and_hidden_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RANKSTREAM_KAFKA_OPTIONS", '{"security.protocol": "SASL_SSL", "sasl.password": "hunter2"}')
    monkeypatch.setenv("RANKSTREAM_REDIS_URL", "rediss://:topsecret@cache:6380/1")
    monkeypatch.setenv("RANKSTREAM_HOME", "/srv/rs")
    s = Settings()
    config = client_config(s)
    assert config["security.protocol"] == "SASL_SSL" and config["sasl.password"] == "hunter2"
    assert "hunter2" not in repr(s) and "topsecret" not in repr(s) and "topsecret" not in str(s.model_dump())
    assert str(s.model_path) == "/srv/rs/models/default"


def test_frozen_and_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError):
        Settings().group_id = "other"
    monkeypatch.setenv("RANKSTREAM_TOKEN_BUDGET", "3")
    with pytest.raises(ValidationError):
        Settings()


def test_each_role_consumes_in_a_group_of_its_own() -> None:
    s = Settings(group_id="search")
    assert [s.consumer_group(r) for r in ("postings", "queries", "all")] == [
        "search-postings",
        "search-queries",
        "search-all",
    ]
