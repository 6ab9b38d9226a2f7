"""Logging set-up, with secrets passed in query strings (`?apiKey=`, sign-in `?code=`) and email addresses (a
learner's, in a path or a search) redacted from every line: logs outlive an erasure, and must not name the person."""

from __future__ import annotations

import copy
import logging
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

import orjson

from access.middleware import REQUEST_ID

# A query parameter: its name may be percent-encoded (`api%4Bey`), and is compared once decoded.
_PARAMETER = re.compile(r"(^|[?&;\s])([^=&;\s\"'#?]+)=([^&;\s\"'#]*)")
# API keys sent as ?apiKey=, and the one-time codes of sign-in links (/login/link?code=).
_SECRET_NAMES = frozenset({"apikey", "code"})


def _hide(match: re.Match[str]) -> str:
    if unquote_plus(match.group(2)).lower() in _SECRET_NAMES and match.group(3):
        return f"{match.group(1)}{match.group(2)}=[REDACTED]"
    return match.group(0)


# An email address in a path segment or a parameter, its @ written out or percent-encoded.
_EMAIL = re.compile(r"[^\s/?&=;\"'<>]+(?:@|%40)[^\s/?&=;\"'<>]+")


def redact(text: str) -> str:
    if "=" in text:
        text = _PARAMETER.sub(_hide, text)
    if "@" in text or "%40" in text:
        text = _EMAIL.sub("[email]", text)
    return text


class RedactApiKeys(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install_redaction() -> None:
    """Attaches the filter to the handlers of every logger that may print a request line."""
    redaction = RedactApiKeys()
    for name in ("", "uvicorn", "uvicorn.access", "uvicorn.error", "coursepipeline"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactApiKeys) for f in logger.filters):
            logger.addFilter(redaction)
        for handler in logger.handlers:
            if not any(isinstance(f, RedactApiKeys) for f in handler.filters):
                handler.addFilter(redaction)


class JSONLines(logging.Formatter):
    """One JSON object a line (`COURSEPIPELINE_LOG_FORMAT=json`): time, level, logger, message, the request's id, and
    the traceback if there is one. The message is the redacted one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": REQUEST_ID.get(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


def log_config(log_format: str) -> dict[str, Any]:
    """uvicorn's logging set-up: its own text lines, or with `json` every line as JSON."""
    from uvicorn.config import LOGGING_CONFIG

    if log_format != "json":
        return LOGGING_CONFIG
    config = copy.deepcopy(LOGGING_CONFIG)
    for formatter in config["formatters"].values():
        formatter.clear()
        formatter["()"] = "app.logging.JSONLines"
    config["root"] = {"handlers": ["default"], "level": "INFO"}
    return config
