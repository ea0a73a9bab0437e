"""Logging to a rotating file in the data folder, with secrets scrubbed before anything is written.

Tokens must never reach a log, so the redaction runs on every record's final text, its traceback
included, whichever library logged it.
"""

from __future__ import annotations

import logging
import re
from logging.handlers import RotatingFileHandler
from pathlib import Path

REDACTED = "[REDACTED]"
LOG_FILE_NAME = "skytwin.log"
_MAX_BYTES = 1_000_000
_BACKUPS = 5
# Libraries that print request bodies (tokens included) at DEBUG are never allowed below INFO.
_CHATTY_LIBRARIES = ("oauthlib", "requests_oauthlib", "urllib3", "google.auth", "google_auth_oauthlib")

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization headers in any rendering: "Authorization: Bearer x", {'Authorization': 'Basic x'}.
    (re.compile(r"""(?i)(['"]?authorization['"]?\s*[:=]\s*['"]?)[^'"\r\n,}]+"""), r"\1" + REDACTED),
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + REDACTED),
    # Named secrets in JSON, dict reprs, form bodies and query strings.
    (
        re.compile(
            r"""(?i)(['"]?\b(?:access_token|refresh_token|id_token|client_secret|code_verifier|"""
            r"""assertion|password)['"]?\s*[:=]\s*['"]?)[^'"&\s,}]+"""
        ),
        r"\1" + REDACTED,
    ),
    (re.compile(r"([?&]code=)[^&\s'\"]+"), r"\1" + REDACTED),
    # Google's token shapes, wherever they appear on their own.
    (re.compile(r"\bya29\.[A-Za-z0-9._-]+"), REDACTED),
    (re.compile(r"\b1//[A-Za-z0-9._-]{10,}"), REDACTED),
    (re.compile(r"\b4/[0-9A-Za-z_-]{20,}"), REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), REDACTED),
)


def redact(text: str) -> str:
    """Replace anything shaped like an OAuth token or an Authorization header value."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Scrubs a record's message, traceback and stack before any handler formats it."""

    _exception_formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._exception_formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def configure_logging(log_dir: Path, level: str) -> Path:
    """Send every logger to one rotating, redacted file; return its path."""
    log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = log_dir / LOG_FILE_NAME
    handler = RotatingFileHandler(path, maxBytes=_MAX_BYTES, backupCount=_BACKUPS, encoding="utf-8", delay=False)
    path.chmod(0o600)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_skytwin", False)]:
        root.removeHandler(old)
        old.close()
    handler._skytwin = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    floor = max(logging.getLevelName(level), logging.INFO)
    for name in _CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(floor)
    return path
