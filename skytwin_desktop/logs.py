"""Logging to a rotating file in the data folder, with secrets scrubbed before anything is written.

Tokens must never reach a log, so the redaction runs on every record's final text, its traceback
included, whichever library logged it.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from io import TextIOWrapper
from logging.handlers import RotatingFileHandler
from pathlib import Path

from skytwin_desktop.errors import DataDirError
from skytwin_desktop.paths import DATA_DIR_HINT

REDACTED = "[REDACTED]"
LOG_FILE_NAME = "skytwin.log"
_MAX_BYTES = 1_000_000
_BACKUPS = 5
# Libraries that print request bodies (tokens included) at DEBUG are never allowed below INFO.
_CHATTY_LIBRARIES = ("oauthlib", "requests_oauthlib", "urllib3", "google.auth", "google_auth_oauthlib")

_SECRET_KEY = (
    r"[\w-]*(?:token|secret|password|passwd|api[_-]?key|code[_-]?verifier|assertion|credential)[\w-]*"
)
_QUOTED_OR_BARE = r"""(?:b?'[^']*'|b?"[^"]*"|[^\s'"&,;}\])]+)"""
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization headers however rendered: "Authorization: Bearer x", {'Authorization': 'Basic x'},
    # [('Authorization', 'Basic x')], {b'Authorization': b'Bearer x'}.
    (
        re.compile(
            r"""(?i)(b?['"]?(?:proxy-)?authorization['"]?\s*[:=,]\s*b?['"]?)"""
            r"""(?:(?:bearer|basic|digest|oauth|token|negotiate)\s+)?[A-Za-z0-9._~+/=:-]{8,}"""
        ),
        r"\1" + REDACTED,
    ),
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/-]{12,}=*"), r"\1 " + REDACTED),
    (re.compile(r"(?im)^(\s*(?:set-)?cookie\s*:\s*).*$"), r"\1" + REDACTED),
    # Named secrets in JSON, reprs, form bodies, query strings (URL-encoded too), any key spelling.
    (
        re.compile(rf"""(?i)(['"]?\b{_SECRET_KEY}['"]?\s*(?:[:=]|%3[dD])\s*)(?!\[REDACTED\]){_QUOTED_OR_BARE}"""),
        r"\1" + REDACTED,
    ),
    (re.compile(r"(?i)((?:^|[?&\s])(?:code|key)=)[^&\s'\"]+"), r"\1" + REDACTED),
    (re.compile(r"""(?i)(['"]code['"]\s*:\s*)"[^"]*\""""), r"\1" + f'"{REDACTED}"'),
    # Google's token and key shapes, wherever they appear on their own.
    (re.compile(r"\bya29\.[A-Za-z0-9._-]+"), REDACTED),
    (re.compile(r"\b1//[A-Za-z0-9._-]{10,}"), REDACTED),
    (re.compile(r"\b4/[0-9A-Za-z_-]{20,}"), REDACTED),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{35}"), REDACTED),
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
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed call: leave it to the handler's own error reporting
            message = redact(str(record.msg))
            record.msg, record.args = message, None
            return True
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._exception_formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class OwnerOnlyRotatingFileHandler(RotatingFileHandler):
    """Every file it opens, the rotated ones included, is readable only by its owner."""

    def handleError(self, record: logging.LogRecord) -> None:
        """A log that cannot be written (a full disk, a folder gone read-only) drops the record
        rather than printing a traceback on the person's terminal; other trouble (a malformed
        call of ours) is reported as logging always does."""
        if isinstance(sys.exc_info()[1], OSError):
            self.dropped += 1
            return
        super().handleError(record)

    dropped = 0
    """Records lost because the log could not be written."""

    def _open(self) -> TextIOWrapper:
        descriptor = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return open(descriptor, "a", encoding=self.encoding, errors=self.errors)  # appends, as the handler's own


def configure_logging(log_dir: Path, level: str) -> Path:
    """Send every logger to one rotating, redacted file; return its path."""
    path = log_dir / LOG_FILE_NAME
    try:
        log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        handler = OwnerOnlyRotatingFileHandler(
            path, maxBytes=_MAX_BYTES, backupCount=_BACKUPS, encoding="utf-8", errors="backslashreplace"
        )
    except OSError as exc:
        raise DataDirError(f"Cannot write the log file {path}: {exc.strerror}. {DATA_DIR_HINT}") from None
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
