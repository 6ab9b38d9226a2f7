"""Logging set-up, with secrets passed in query strings (`?apiKey=`, sign-in `?code=`) redacted from every line."""

from __future__ import annotations

import logging
import re

# API keys sent as ?apiKey=, and the one-time codes of sign-in links (/login/link?code=).
_SECRET_IN_QUERY = re.compile(r"((?:apiKey|code)=)[^&\s\"']+", re.IGNORECASE)


def redact(text: str) -> str:
    return _SECRET_IN_QUERY.sub(r"\1[REDACTED]", text)


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
