"""Secrets never reach the log file, whichever shape they arrive in."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from skytwin_desktop.logs import REDACTED, configure_logging, redact

ACCESS = "ya29.a0AfB_byC1234567890abcdefghijklmnopqrstuv"
REFRESH = "1//0gLq8z3XyZabcdefghijklmnopQRSTUV-wxyz"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXBhcnQ"


@pytest.mark.parametrize(
    "text, secret",
    [
        (f"Authorization: Bearer {ACCESS}", ACCESS),
        ("{'Authorization': 'Basic dXNlcjpwYXNzd29yZA=='}", "dXNlcjpwYXNzd29yZA=="),
        (f'{{"access_token": "{ACCESS}", "expires_in": 3599}}', ACCESS),
        (f'{{"refresh_token": "{REFRESH}"}}', REFRESH),
        (f"grant_type=refresh_token&refresh_token={REFRESH}&client_id=x", REFRESH),
        ("client_secret=GOCSPX-abcdefghijklmnop&x=1", "GOCSPX-abcdefghijklmnop"),
        ("GET /callback?state=s&code=4/0AeanS0ZabcdefghijklmnopqrstuvwxyZ HTTP/1.1", "4/0AeanS0Zabcdefghij"),
        (f"token was {ACCESS} for a while", ACCESS),
        (f"stored {REFRESH}", REFRESH),
        (f"id_token: {JWT}", JWT),
        (f"plain {JWT}", JWT),
        ("code_verifier=abcDEF123-._~abcDEF123-._~abcDEF123-._~xyz", "abcDEF123"),
    ],
)
def test_redact_removes_token_shapes(text: str, secret: str):
    cleaned = redact(text)
    assert secret not in cleaned
    assert REDACTED in cleaned


def test_redact_keeps_ordinary_text():
    text = "Gmail poll finished: 12 messages, error_code=invalid_grant, HTTP 401, history 123456"
    assert redact(text) == text


def test_log_file_is_redacted_including_arguments_and_tracebacks(tmp_path: Path):
    path = configure_logging(tmp_path / "logs", "DEBUG")
    logger = logging.getLogger("skytwin_desktop.test")
    logger.info("refreshing with %s", REFRESH)
    logger.debug("headers %r", {"Authorization": f"Bearer {ACCESS}"})
    try:
        raise RuntimeError(f"token endpoint said no to {ACCESS}")
    except RuntimeError:
        logger.exception("refresh failed")
    logging.getLogger("oauthlib").debug("body: access_token=%s", ACCESS)
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text()
    assert "refreshing with" in text and "refresh failed" in text and "RuntimeError" in text
    assert ACCESS not in text
    assert REFRESH not in text
    assert text.count(REDACTED) >= 3
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)


def test_chatty_libraries_never_log_below_info(tmp_path: Path):
    configure_logging(tmp_path / "logs", "DEBUG")
    assert not logging.getLogger("oauthlib").isEnabledFor(logging.DEBUG)
    assert not logging.getLogger("urllib3").isEnabledFor(logging.DEBUG)
    assert logging.getLogger("skytwin_desktop").isEnabledFor(logging.DEBUG)
