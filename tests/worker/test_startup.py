"""Startup errors name the variable and the fix; secrets are never echoed; bugs keep their traceback."""

from pathlib import Path

import pytest

from worker.settings import Settings
from worker.startup import CONFIG_EXIT_CODE, StartupError, explain, guard, require_model_dir


def settings_error(monkeypatch: pytest.MonkeyPatch, **env: str) -> Exception:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(Exception) as caught:
        Settings()
    return caught.value


def test_a_bad_value_names_its_variable_and_quotes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    error = settings_error(monkeypatch, RANKSTREAM_TOKEN_BUDGET="abc", RANKSTREAM_PREFIX_CACHE_MB="-1")
    assert explain(error) == (
        "RANKSTREAM_TOKEN_BUDGET: Input should be a valid integer, unable to parse string as an integer (got 'abc')\n"
        "RANKSTREAM_PREFIX_CACHE_MB: Input should be greater than or equal to 0 (got '-1')"
    )


def test_secrets_are_never_quoted(monkeypatch: pytest.MonkeyPatch) -> None:
    error = settings_error(monkeypatch, RANKSTREAM_KAFKA_OPTIONS='{"sasl.password": 5}')
    message = explain(error)
    assert message is not None and message.startswith("RANKSTREAM_KAFKA_OPTIONS: ")
    assert "got" not in message


def test_json_that_does_not_parse_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    error = settings_error(monkeypatch, RANKSTREAM_KAFKA_OPTIONS="{security.protocol: SSL}")
    assert explain(error) == (
        "RANKSTREAM_KAFKA_OPTIONS: not valid JSON (Expecting property name enclosed in double quotes: line 1 column 2 "
        "(char 1))"
    )


def test_a_missing_model_directory_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(StartupError) as caught:
        require_model_dir(tmp_path / "nope")
    assert str(caught.value).startswith(f"RANKSTREAM_MODEL_PATH: no model at {tmp_path / 'nope'}")
    assert "rankstream model build" in str(caught.value)


def test_guard_exits_with_the_message_and_lets_bugs_through(capsys: pytest.CaptureFixture[str]) -> None:
    def broken_config() -> None:
        raise StartupError("RANKSTREAM_X: fix me")

    with pytest.raises(SystemExit) as exited:
        guard(broken_config)
    assert exited.value.code == CONFIG_EXIT_CODE
    assert capsys.readouterr().err == "error: RANKSTREAM_X: fix me\n"

    def bug() -> None:
        raise KeyError("not a configuration problem")

    with pytest.raises(KeyError):
        guard(bug)
