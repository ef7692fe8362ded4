"""Errors and warnings with codes.

Every error says what happened and what to do about it, in one line, so the CLI can print it
without a traceback and exit 2. Callers catch by kind (``InputError``, ``ConfigError`` ...)
rather than parsing messages.
"""

from __future__ import annotations


class VocnlpError(Exception):
    """Base class. ``code`` is stable and documented; ``str(err)`` is the one-line message."""

    code = "E000"

    def __init__(self, message: str, *, fix: str | None = None):
        self.message = message
        self.fix = fix
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = f"[{self.code}] {self.message}"
        if self.fix:
            text += f" Fix: {self.fix}"
        return text


class InputError(VocnlpError):
    """The input file cannot be read or lacks what the run needs."""

    code = "E100"


class ConfigError(VocnlpError):
    """The configuration file is invalid (unknown key, bad value, missing file)."""

    code = "E200"


class SchemaError(VocnlpError):
    """A stage was given a frame without the columns it requires."""

    code = "E300"


class ModelLoadError(VocnlpError):
    """A model folder is missing, tampered with or does not match the configuration."""

    code = "E400"


class BackendUnavailable(VocnlpError):
    """An optional dependency for the configured backend is not installed."""

    code = "E500"


class EngineError(VocnlpError):
    """The configured engine cannot run (Ray missing, its cluster unreachable, a worker that keeps failing)."""

    code = "E600"


class RunWarning:
    """A warning recorded in the manifest (and shown in the summary), with a stable code."""

    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"RunWarning({self.code!r}, {self.message!r})"
