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
        ("[('Authorization', 'Basic dXNlcjpwYXNzd29yZA==')]", "dXNlcjpwYXNzd29yZA=="),
        ("{b'Authorization': b'Bearer sandbox-access-0123456789'}", "sandbox-access-0123456789"),
        ("oauth_refresh_token=sandbox-refresh-abcdef", "sandbox-refresh-abcdef"),
        ("google_client_secret: GOCSPX-zzzzzzzzzzzz", "GOCSPX-zzzzzzzzzzzz"),
        ('{"token": "opaque-sandbox-token-42", "expiry": "2026"}', "opaque-sandbox-token-42"),
        ("access-token: opaque-sandbox-token-42", "opaque-sandbox-token-42"),
        ("body=grant_type%3Drefresh%26refresh_token%3Dsandbox-refresh-abcdef", "sandbox-refresh-abcdef"),
        ("code=sandbox-auth-code-123&state=xyz", "sandbox-auth-code-123"),
        ('{"code": "sandbox-auth-code-123", "redirect_uri": "http://127.0.0.1"}', "sandbox-auth-code-123"),
        ("GET /v1/x?key=AIzaSyA-abcdefghijklmnopqrstuvwxyz01234", "AIzaSyA-abcdefghijklmnopqrst"),
        ("X-Goog-Api-Key: AIzaSyA-abcdefghijklmnopqrstuvwxyz01234", "AIzaSyA-abcdefghijklmnopqrst"),
        ("Cookie: SID=abc123; HSID=def456", "SID=abc123"),
        ("password = 'correct horse battery staple'", "horse battery"),
    ],
)
def test_redact_removes_token_shapes(text: str, secret: str):
    cleaned = redact(text)
    assert secret not in cleaned
    assert REDACTED in cleaned


@pytest.mark.parametrize(
    "text",
    [
        "Gmail poll finished: 12 messages, error_code=invalid_grant, HTTP 401, history 123456",
        "The bearer of this message is trusted",
        "authorization: failed, retry later",
        '{"error": {"code": 401, "message": "Request had invalid authentication credentials."}}',
        "Token refresh failed (invalid_grant); Gmail needs reconnecting",
    ],
)
def test_redact_keeps_ordinary_text(text: str):
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
    logging.getLogger("oauthlib").info("body: access_token=%s", ACCESS)
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text()
    assert "refreshing with" in text and "refresh failed" in text and "RuntimeError" in text
    assert "body: access_token=" in text
    assert ACCESS not in text
    assert REFRESH not in text
    assert text.count(REDACTED) >= 3
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)


def test_chatty_libraries_never_log_below_info(tmp_path: Path):
    configure_logging(tmp_path / "logs", "DEBUG")
    assert not logging.getLogger("oauthlib").isEnabledFor(logging.DEBUG)
    assert not logging.getLogger("urllib3").isEnabledFor(logging.DEBUG)
    assert logging.getLogger("skytwin_desktop").isEnabledFor(logging.DEBUG)


def test_rotated_log_files_stay_owner_only(tmp_path: Path):
    import os

    old = os.umask(0o022)
    try:
        path = configure_logging(tmp_path / "logs", "INFO")
        handler = next(h for h in logging.getLogger().handlers if getattr(h, "_skytwin", False))
        handler.maxBytes = 200
        for n in range(30):
            logging.getLogger("skytwin_desktop.test").info("line %d %s", n, "x" * 40)
    finally:
        os.umask(old)
    files = sorted(path.parent.iterdir())
    assert len(files) > 2, "rotation happened"
    assert all(oct(f.stat().st_mode & 0o777) == oct(0o600) for f in files), [oct(f.stat().st_mode) for f in files]


def test_undecodable_path_text_is_logged_without_a_logging_error(tmp_path: Path, capsys):
    path = configure_logging(tmp_path / "logs", "INFO")
    logging.getLogger("skytwin_desktop.test").info("folder %s", "/tmp/caf\udce9")
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert "Logging error" not in capsys.readouterr().err
    assert "caf" in path.read_text()


def test_filter_survives_a_malformed_logging_call():
    from skytwin_desktop.logs import RedactingFilter

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "two args %s %s token=%s", ("only one",), None)
    assert RedactingFilter().filter(record) is True
    assert record.getMessage() == "two args %s %s token=[REDACTED]"


def test_redacting_twice_changes_nothing_more():
    """Diagnostics scrub log lines the log already scrubbed: the marker must come out whole."""
    once = redact('token=abc123 refresh_token: "zzz" Authorization: Bearer ya29.abcdefghijklmnop')
    assert redact(once) == once and "]]" not in redact(once)
