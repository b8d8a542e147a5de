"""Startup errors a user can fix, told in a line or two that name the variable and the fix.

`StartupError` is what the service raises for a problem of its configuration or its host (a model
directory that is not there, a health port already taken). `explain(exc)` turns one, or the
settings' own ValidationError or SettingsError, into that text: one line per bad variable, never
echoing a secret's value. `guard(main)` runs an entry point (`rankstream`, `rankstream-worker`) and
prints the explanation instead of a traceback, exiting `CONFIG_EXIT_CODE`; any other exception is a
bug and keeps its traceback.
"""

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsError

from worker.settings import Settings

# Click's exit code for a usage error: the command was wrong, not the program.
CONFIG_EXIT_CODE = 2
# A bad value is quoted back up to this many characters (enough to spot a typo).
MAX_QUOTED_CHARS = 60
_SETTINGS_FIELD = re.compile(r'field "(\w+)"')


class StartupError(Exception):
    """A problem of the configuration or the host, with its fix in the message."""


def variable(field: str) -> str:
    """The environment variable a Settings field is read from."""
    return Settings.model_config["env_prefix"] + field.upper()


def _secret(field: str) -> bool:
    info = Settings.model_fields.get(field)
    return info is not None and SecretStr.__name__ in str(info.annotation)


def _settings_lines(exc: ValidationError) -> list[str]:
    lines = []
    for error in exc.errors(include_url=False):
        field = str(error["loc"][0]) if error["loc"] else ""
        value = error.get("input")
        got = ""
        if isinstance(value, str | int | float) and not _secret(field):
            got = f" (got {str(value)[:MAX_QUOTED_CHARS]!r})"
        lines.append(f"{variable(field)}: {error['msg']}{got}")
    return lines


def explain(exc: BaseException) -> str | None:
    """The fix for a startup error, in a line or two; None for anything else (a bug)."""
    if isinstance(exc, StartupError):
        return str(exc)
    if isinstance(exc, ValidationError) and exc.title == Settings.__name__:
        return "\n".join(_settings_lines(exc))
    if isinstance(exc, SettingsError) and (match := _SETTINGS_FIELD.search(str(exc))):
        return f"{variable(match.group(1))}: not valid JSON ({exc.__cause__ or exc})"
    return None


def guard(main: Callable[[], object]) -> None:
    """Run `main`; a startup error prints its explanation (no traceback) and exits `CONFIG_EXIT_CODE`."""
    try:
        main()
    except Exception as exc:
        message = explain(exc)
        if message is None:
            raise
        _fail(message)


def _fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(CONFIG_EXIT_CODE)


def require_model_dir(path: Path) -> Path:
    """`path` if it holds a model (its config.json), else a StartupError naming RANKSTREAM_MODEL_PATH."""
    if not (path / "config.json").is_file():
        raise StartupError(
            f"{variable('model_path')}: no model at {path} (no config.json there); build the default model with "
            f"`rankstream model build`, or set {variable('model_path')} to a model directory"
        )
    return path
