"""The Google sandbox, driven by the real google-auth / google-auth-oauthlib / requests code, so the
app's tests and `--demo` can trust it to behave like Google (all traffic stays on 127.0.0.1)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import webbrowser
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import google.auth.exceptions
import pytest
import requests
from google.auth.transport.requests import AuthorizedSession, Request
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import InstalledAppFlow

from skytwin_desktop.sandbox import GoogleSandbox

GMAIL = "https://www.googleapis.com/auth/gmail.modify"
CALENDAR = "https://www.googleapis.com/auth/calendar.events"
NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
JSON_TYPE = "application/json; charset=UTF-8"
UNAUTHENTICATED = {"error": {
    "code": 401,
    "message": "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
               "other valid authentication credential.",
    "errors": [{"message": "Invalid Credentials", "domain": "global", "reason": "authError",
                "location": "Authorization", "locationType": "header"}],
    "status": "UNAUTHENTICATED"}}
NOT_FOUND = {"error": {"code": 404, "message": "Requested entity was not found.",
                       "errors": [{"message": "Requested entity was not found.", "domain": "global",
                                   "reason": "notFound"}], "status": "NOT_FOUND"}}
GONE = {"error": {"code": 410, "message": "Sync token is no longer valid, a full sync is required.",
                  "errors": [{"message": "Sync token is no longer valid, a full sync is required.",
                              "domain": "global", "reason": "fullSyncRequired"}], "status": "GONE"}}


class FetchingBrowser(webbrowser.BaseBrowser):
    """Stands in for the person's browser: fetches the consent URL on its own thread (the flow only
    starts listening after `open` returns) and follows Google's 302 to the loopback redirect."""

    def __init__(self) -> None:
        super().__init__("sandbox-browser")
        self.opened: list[str] = []
        self.errors: list[Exception] = []
        self.threads: list[threading.Thread] = []

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        self.opened.append(url)
        thread = threading.Thread(target=self._fetch, args=(url,), daemon=True)
        thread.start()
        self.threads.append(thread)
        return True

    def _fetch(self, url: str) -> None:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(url, timeout=10) as answer:
                answer.read()
        except Exception as exc:  # noqa: BLE001 - reported by the test, not raised on this thread
            self.errors.append(exc)


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with GoogleSandbox(account="ada@example.com", now=lambda: NOW) as running:
        yield running


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch):
    fake = FetchingBrowser()
    monkeypatch.setattr(webbrowser, "_browsers", {})
    monkeypatch.setattr(webbrowser, "_tryorder", [])
    webbrowser.register("sandbox-browser", None, fake, preferred=True)
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    yield fake
    for thread in fake.threads:
        thread.join(5)


def sign_in(sandbox: GoogleSandbox, *scopes: str) -> Credentials:
    flow = InstalledAppFlow.from_client_config(sandbox.client_config(), scopes=list(scopes))
    return flow.run_local_server(host="127.0.0.1", port=0, open_browser=True, timeout_seconds=30)


def fresh(sandbox: GoogleSandbox, refresh_token: str, *scopes: str) -> Credentials:
    """Credentials as the app rebuilds them from a stored refresh token."""
    return Credentials(None, refresh_token=refresh_token, token_uri=f"{sandbox.url}/token",
                       client_id=sandbox.client_id, client_secret=sandbox.client_secret, scopes=list(scopes))


def pkce() -> tuple[str, str]:
    verifier = base64.urlsafe_b64encode(os.urandom(40)).decode().rstrip("=")
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def consent(sandbox: GoogleSandbox, redirect: str = "http://127.0.0.1:9/", **extra: str) -> requests.Response:
    params = {"client_id": sandbox.client_id, "redirect_uri": redirect, "response_type": "code",
              "scope": GMAIL, "state": "st-1", **extra}
    return requests.get(f"{sandbox.url}/o/oauth2/auth", params=params, allow_redirects=False, timeout=5)


def code_from(answer: requests.Response) -> dict[str, str]:
    assert answer.status_code == 302, answer.text
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}


def token(sandbox: GoogleSandbox, **form: str) -> requests.Response:
    body = {"client_id": sandbox.client_id, "client_secret": sandbox.client_secret, **form}
    return requests.post(f"{sandbox.url}/token", data=body, timeout=5)


def test_installed_app_flow_signs_in_with_pkce_and_logs_no_tokens(sandbox, browser, caplog):
    caplog.set_level("DEBUG", logger="skytwin_desktop.sandbox")
    credentials = sign_in(sandbox, GMAIL)
    assert browser.errors == [] and len(browser.opened) == 1
    assert credentials.token.startswith("ya29.") and credentials.refresh_token.startswith("1//")
    assert credentials.scopes == [GMAIL] and sandbox.token_requests() == 1
    auth = next(q for m, p, q in sandbox.requests if p == "/o/oauth2/auth")
    assert auth["code_challenge_method"] == ["S256"] and auth["access_type"] == ["offline"]
    assert urlsplit(auth["redirect_uri"][0]).hostname == "127.0.0.1"
    ours = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("skytwin_desktop.sandbox"))
    assert ours and credentials.token not in ours and credentials.refresh_token not in ours


def test_token_endpoint_enforces_pkce_single_use_codes_and_client_auth(sandbox):
    verifier, challenge = pkce()
    redirect = "http://127.0.0.1:9/"
    answer = code_from(consent(sandbox, code_challenge=challenge, code_challenge_method="S256"))
    assert answer["state"] == "st-1" and answer["scope"] == GMAIL
    wrong = token(sandbox, grant_type="authorization_code", code=answer["code"], redirect_uri=redirect,
                  code_verifier=pkce()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    reused = token(sandbox, grant_type="authorization_code", code=answer["code"], redirect_uri=redirect,
                   code_verifier=verifier)
    assert reused.status_code == 400 and reused.json() == {"error": "invalid_grant", "error_description": "Bad Request"}

    missing = code_from(consent(sandbox, code_challenge=challenge, code_challenge_method="S256"))["code"]
    no_verifier = token(sandbox, grant_type="authorization_code", code=missing, redirect_uri=redirect)
    assert no_verifier.json()["error"] == "invalid_grant"
    moved = code_from(consent(sandbox, code_challenge=challenge, code_challenge_method="S256"))["code"]
    mismatch = token(sandbox, grant_type="authorization_code", code=moved, redirect_uri="http://127.0.0.1:10/",
                     code_verifier=verifier)
    assert mismatch.status_code == 400 and mismatch.json()["error"] == "redirect_uri_mismatch"

    good = code_from(consent(sandbox, code_challenge=challenge, code_challenge_method="S256"))["code"]
    ok = token(sandbox, grant_type="authorization_code", code=good, redirect_uri=redirect, code_verifier=verifier)
    assert ok.status_code == 200 and ok.headers["Content-Type"] == JSON_TYPE
    assert set(ok.json()) == {"access_token", "expires_in", "refresh_token", "scope", "token_type"}
    assert ok.json()["expires_in"] == 3599 and ok.json()["token_type"] == "Bearer"
    plain = code_from(consent(sandbox))["code"]  # no PKCE asked for: none checked
    assert token(sandbox, grant_type="authorization_code", code=plain, redirect_uri=redirect).status_code == 200

    refreshed = token(sandbox, grant_type="refresh_token", refresh_token=ok.json()["refresh_token"])
    assert refreshed.status_code == 200 and "refresh_token" not in refreshed.json()
    bad_secret = token(sandbox, grant_type="refresh_token", refresh_token="x", client_secret="nope")
    assert bad_secret.status_code == 401 and bad_secret.json()["error"] == "invalid_client"
    unknown = token(sandbox, grant_type="refresh_token", refresh_token="x",
                    client_id="other.apps.googleusercontent.com")
    assert unknown.status_code == 401
    assert unknown.json() == {"error": "invalid_client", "error_description": "The OAuth client was not found."}
    assert token(sandbox, grant_type="password").json()["error"] == "unsupported_grant_type"
    assert token(sandbox, grant_type="authorization_code").json()["error"] == "invalid_request"


def test_consent_page_refuses_unknown_clients_and_non_loopback_redirects(sandbox):
    unknown = requests.get(f"{sandbox.url}/o/oauth2/auth", timeout=5, allow_redirects=False, params={
        "client_id": "nobody.apps.googleusercontent.com", "redirect_uri": "http://127.0.0.1:9/",
        "response_type": "code", "scope": GMAIL})
    assert unknown.status_code == 401 and "invalid_client" in unknown.text
    for redirect in ("https://evil.example/cb", "http://evil.example:80/", "urn:ietf:wg:oauth:2.0:oob"):
        refused = consent(sandbox, redirect=redirect)
        assert refused.status_code == 400 and "redirect_uri_mismatch" in refused.text
    for redirect in ("http://localhost:8080/", "http://[::1]:5000/cb", "http://127.0.0.1:1/x"):
        assert consent(sandbox, redirect=redirect).status_code == 302


def test_refresh_then_gmail_list_get_modify_and_history(sandbox, browser):
    signed_in = sign_in(sandbox, GMAIL)
    credentials = fresh(sandbox, signed_in.refresh_token, GMAIL)
    credentials.refresh(Request())
    assert credentials.valid and sandbox.token_requests() == 2
    gmail = AuthorizedSession(credentials)
    base = f"{sandbox.url}/gmail/v1/users/me"
    profile = gmail.get(f"{base}/profile", timeout=5)
    assert profile.headers["Content-Type"] == JSON_TYPE
    assert profile.json()["emailAddress"] == "ada@example.com" and profile.json()["messagesTotal"] == 17
    start = profile.json()["historyId"]

    unread = gmail.get(f"{base}/messages", params={"q": "is:unread newer_than:1d"}, timeout=5).json()
    assert unread["resultSizeEstimate"] == len(unread["messages"]) > 0
    assert all("UNREAD" in sandbox.message(m["id"])["labelIds"] for m in unread["messages"])
    assert all(sandbox.message(m["id"])["date"] > NOW - timedelta(days=1) for m in unread["messages"])
    sent = gmail.get(f"{base}/messages", params={"q": "in:sent newer_than:7d"}, timeout=5).json()
    assert len(sent["messages"]) == 3
    assert "messages" not in gmail.get(f"{base}/messages", params={"q": "label:nonexistent"}, timeout=5).json()

    seen, page = [], None
    while True:
        listing = gmail.get(f"{base}/messages", params={"maxResults": 5, "pageToken": page}, timeout=5).json()
        seen += [m["id"] for m in listing["messages"]]
        page = listing.get("nextPageToken")
        if not page:
            break
    assert len(seen) == len(set(seen)) == 17

    letter = gmail.get(f"{base}/messages", params={"q": "from:news@weekly-digest.example"}, timeout=5).json()
    letter_id = letter["messages"][0]["id"]
    meta = gmail.get(f"{base}/messages/{letter_id}", timeout=5,
                     params=[("format", "metadata"), ("metadataHeaders", "From"),
                             ("metadataHeaders", "List-Unsubscribe")]).json()
    assert [h["name"] for h in meta["payload"]["headers"]] == ["From", "List-Unsubscribe"]
    assert meta["internalDate"].isdigit() and meta["threadId"] and "snippet" in meta
    missing = gmail.get(f"{base}/messages/0123456789abcdef", timeout=5)
    assert missing.status_code == 404 and missing.json() == NOT_FOUND

    target = unread["messages"][0]["id"]
    modified = gmail.post(f"{base}/messages/{target}/modify", json={"removeLabelIds": ["UNREAD"]}, timeout=5).json()
    assert "UNREAD" not in modified["labelIds"] and "UNREAD" not in sandbox.message(target)["labelIds"]
    new_id = sandbox.deliver({"from": "Grace Hopper <grace@acme.example>", "subject": "Quick question",
                              "snippet": "Are you free at 3?", "labels": ["INBOX", "UNREAD"]})
    history = gmail.get(f"{base}/history", params={"startHistoryId": start}, timeout=5).json()
    assert [r["labelsRemoved"][0]["labelIds"] for r in history["history"] if "labelsRemoved" in r] == [["UNREAD"]]
    added = gmail.get(f"{base}/history", params={"startHistoryId": start, "historyTypes": "messageAdded"},
                      timeout=5).json()
    assert [r["messagesAdded"][0]["message"]["id"] for r in added["history"]] == [new_id]
    assert int(added["historyId"]) > int(start)
    latest = gmail.get(f"{base}/history", params={"startHistoryId": added["historyId"]}, timeout=5).json()
    assert "history" not in latest
    assert sandbox.token_requests() == 2


def test_api_answers_401_without_a_token_and_403_without_the_scope(sandbox, browser):
    bare = requests.get(f"{sandbox.url}/gmail/v1/users/me/profile", timeout=5)
    assert bare.status_code == 401 and bare.json() == UNAUTHENTICATED
    assert bare.headers["WWW-Authenticate"] == 'Bearer realm="https://accounts.google.com/"'
    calendar_only = AuthorizedSession(sign_in(sandbox, CALENDAR))
    denied = calendar_only.get(f"{sandbox.url}/gmail/v1/users/me/messages", timeout=5)
    assert denied.status_code == 403
    error = denied.json()["error"]
    assert error["message"] == "Request had insufficient authentication scopes."
    assert error["errors"] == [{"message": "Insufficient Permission", "domain": "global",
                                "reason": "insufficientPermissions"}]
    assert error["status"] == "PERMISSION_DENIED" and error["details"]
    sandbox.expire_access_tokens()
    assert calendar_only.get(f"{sandbox.url}/calendar/v3/calendars/primary/events", timeout=5).status_code == 200
    assert sandbox.token_requests() == 2  # the 401 made google-auth refresh once, then retry


def test_calendar_full_sync_incremental_sync_and_patch(sandbox, browser):
    cal = AuthorizedSession(sign_in(sandbox, CALENDAR))
    url = f"{sandbox.url}/calendar/v3/calendars/primary/events"
    window = {"timeMin": "2026-03-14T09:30:00Z", "timeMax": "2026-03-21T09:30:00Z", "singleEvents": "true",
              "orderBy": "startTime", "maxResults": "3"}
    items, page, pages = [], None, []
    while True:
        answer = cal.get(url, params={**window, **({"pageToken": page} if page else {})}, timeout=5).json()
        pages.append(answer)
        items += answer["items"]
        page = answer.get("nextPageToken")
        if not page:
            break
    assert len(items) == 8 and len(pages) == 3
    assert all("nextSyncToken" not in p for p in pages[:-1]) and "nextSyncToken" in pages[-1]
    assert pages[0]["kind"] == "calendar#events" and pages[0]["summary"] == "ada@example.com"
    starts = [e["start"]["dateTime"] for e in items]
    assert starts == sorted(starts)
    sync = pages[-1]["nextSyncToken"]

    budget = next(e for e in items if e["summary"] == "Budget sync")
    mine = next(a for a in budget["attendees"] if a.get("self"))
    assert mine["responseStatus"] == "needsAction"
    attendees = [{**a, "responseStatus": "accepted"} if a.get("self") else a for a in budget["attendees"]]
    patched = cal.patch(f"{url}/{budget['id']}", params={"sendUpdates": "all"}, json={"attendees": attendees},
                        timeout=5)
    assert patched.status_code == 200 and patched.json()["etag"] != budget["etag"]
    assert sandbox.event(budget["id"])["attendees"][1]["responseStatus"] == "accepted"

    changed = cal.get(url, params={"syncToken": sync}, timeout=5).json()
    assert [e["id"] for e in changed["items"]] == [budget["id"]]
    quiet = cal.get(url, params={"syncToken": changed["nextSyncToken"]}, timeout=5).json()
    assert quiet["items"] == []
    new_id = sandbox.add_event({"summary": "Offsite", "start": NOW + timedelta(days=2),
                                "end": NOW + timedelta(days=2, hours=1),
                                "organizer": {"email": "grace@acme.example"},
                                "attendees": [{"email": "ada@example.com"}, {"email": "grace@acme.example"}]})
    sandbox.add_event({"id": budget["id"], "status": "cancelled"})
    later = cal.get(url, params={"syncToken": quiet["nextSyncToken"]}, timeout=5).json()
    assert {e["id"]: e["status"] for e in later["items"]} == {new_id: "confirmed", budget["id"]: "cancelled"}

    clash = cal.get(url, params={"syncToken": sync, "timeMin": window["timeMin"]}, timeout=5)
    assert clash.status_code == 400
    assert cal.get(url, params={"orderBy": "startTime"}, timeout=5).status_code == 400
    sandbox.expire_sync_tokens()
    gone = cal.get(url, params={"syncToken": later["nextSyncToken"]}, timeout=5)
    assert gone.status_code == 410 and gone.json() == GONE


def test_revoked_grant_refresh_fails_with_invalid_grant(sandbox, browser):
    gmail = AuthorizedSession(sign_in(sandbox, GMAIL))
    profile = f"{sandbox.url}/gmail/v1/users/me/profile"
    assert gmail.get(profile, timeout=5).status_code == 200
    assert sandbox.revoke_grant("gmail") == 1
    with pytest.raises(google.auth.exceptions.RefreshError) as caught:
        gmail.get(profile, timeout=5)  # 401, then google-auth's refresh is refused
    assert caught.value.args[1] == {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}


def test_revoke_endpoint_ends_every_token_of_the_client_and_account(sandbox, browser):
    mail, cal = sign_in(sandbox, GMAIL), sign_in(sandbox, CALENDAR)
    revoked = requests.post(f"{sandbox.url}/revoke", data={"token": mail.refresh_token}, timeout=5)
    assert revoked.status_code == 200 and revoked.json() == {}
    events = requests.get(f"{sandbox.url}/calendar/v3/calendars/primary/events", timeout=5,
                          headers={"Authorization": f"Bearer {cal.token}"})
    assert events.status_code == 401 and events.json() == UNAUTHENTICATED
    with pytest.raises(google.auth.exceptions.RefreshError) as caught:
        fresh(sandbox, cal.refresh_token, CALENDAR).refresh(Request())
    assert caught.value.args[1]["error"] == "invalid_grant"
    again = requests.post(f"{sandbox.url}/revoke", params={"token": cal.token}, timeout=5)
    assert again.status_code == 400 and again.json()["error"] == "invalid_token"
    assert all(q.get("token") in (None, ["<redacted>"]) for _, _, q in sandbox.requests)


def test_injected_failures_malformed_bodies_and_stalls(sandbox, browser):
    gmail = AuthorizedSession(sign_in(sandbox, GMAIL))
    profile = f"{sandbox.url}/gmail/v1/users/me/profile"
    sandbox.fail_next("/gmail/v1", 503, count=2)
    assert [gmail.get(profile, timeout=5).status_code for _ in range(3)] == [503, 503, 200]
    sandbox.fail_next("/gmail/v1/users/me/messages", 429, body={"error": {"code": 429, "message": "slow down"}})
    assert gmail.get(profile, timeout=5).status_code == 200  # another prefix: untouched
    limited = gmail.get(f"{sandbox.url}/gmail/v1/users/me/messages", timeout=5)
    assert limited.status_code == 429 and limited.json()["error"]["message"] == "slow down"
    sandbox.malformed_next("/gmail/v1")
    garbled = gmail.get(profile, timeout=5)
    assert garbled.status_code == 200
    with pytest.raises(ValueError):
        garbled.json()
    sandbox.stall_next("/gmail/v1", 10)
    began = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        gmail.get(profile, timeout=0.3)
    assert gmail.get(profile, timeout=5).status_code == 200
    assert time.monotonic() - began < 3


def test_expired_history_answers_404_and_a_fresh_history_id_works(sandbox, browser):
    gmail = AuthorizedSession(sign_in(sandbox, GMAIL))
    base = f"{sandbox.url}/gmail/v1/users/me"
    old = gmail.get(f"{base}/profile", timeout=5).json()["historyId"]
    sandbox.expire_history()
    stale = gmail.get(f"{base}/history", params={"startHistoryId": old}, timeout=5)
    assert stale.status_code == 404 and stale.json() == NOT_FOUND
    current = gmail.get(f"{base}/profile", timeout=5).json()["historyId"]
    assert gmail.get(f"{base}/history", params={"startHistoryId": current}, timeout=5).status_code == 200


def test_sample_data_covers_what_the_assistant_must_handle(sandbox):
    messages = [sandbox.message(i) for i in sandbox.message_ids()]
    assert 15 <= len(messages) <= 20
    assert all(NOW - timedelta(days=7) <= m["date"] <= NOW for m in messages)
    assert sum("List-Unsubscribe" in m["headers"] and "List-Id" in m["headers"] for m in messages) >= 3
    assert sum("SENT" in m["labelIds"] for m in messages) >= 3
    assert any("attacker@evil.example" in m["snippet"] for m in messages)
    assert any("renews" in m["subject"] for m in messages) and any("receipt" in m["subject"] for m in messages)
    assert any(m["from"].endswith("<noreply@github.example>") for m in messages)
    assert any(m["subject"].startswith("Flight change") for m in messages)
    assert any("?" in m["body"] and "acme.example" in m["from"] and "UNREAD" in m["labelIds"] for m in messages)

    events = [sandbox.event(i) for i in sandbox.event_ids()]
    assert len(events) == 8
    starts = [datetime.fromisoformat(e["start"]["dateTime"]) for e in events]
    assert all(NOW < s < NOW + timedelta(days=7) for s in starts)
    invites = [e for e in events if any(a.get("self") and a["responseStatus"] == "needsAction"
                                        for a in e.get("attendees", []))]
    assert len(invites) == 3
    assert any(not e["organizer"]["email"].endswith("acme.example") for e in invites)
    accepted = [e for e in events if any(a.get("self") and a["responseStatus"] == "accepted"
                                         for a in e.get("attendees", []))]
    span = lambda e: (e["start"]["dateTime"], e["end"]["dateTime"])  # noqa: E731
    assert any(span(i)[0] < span(a)[1] and span(a)[0] < span(i)[1] for i in invites for a in accepted)


def test_client_config_lifecycle_and_request_log(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    sandbox = GoogleSandbox()
    with pytest.raises(RuntimeError):
        sandbox.url  # noqa: B018
    sandbox.start()
    port = int(sandbox.url.rsplit(":", 1)[1])
    installed = sandbox.client_config()["installed"]
    assert installed["auth_uri"] == f"{sandbox.url}/o/oauth2/auth" and installed["token_uri"] == f"{sandbox.url}/token"
    assert installed["redirect_uris"] == ["http://localhost"] and installed["client_secret"] == sandbox.client_secret
    path = sandbox.write_client_secrets(tmp_path / "secrets" / "client.json")
    assert json.loads(path.read_text()) == sandbox.client_config()
    assert InstalledAppFlow.from_client_secrets_file(str(path), scopes=[GMAIL]).client_config["client_id"] == \
        sandbox.client_id
    requests.get(f"{sandbox.url}/gmail/v1/users/me/profile", params={"x": "1"}, timeout=5)
    assert sandbox.requests == [("GET", "/gmail/v1/users/me/profile", {"x": ["1"]})]
    began = time.monotonic()
    sandbox.stop()
    sandbox.stop()
    assert time.monotonic() - began < 2
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


@pytest.mark.slow
def test_module_runs_in_the_foreground_until_interrupted(tmp_path: Path):
    secrets_path = tmp_path / "client.json"
    proc = subprocess.Popen([sys.executable, "-m", "skytwin_desktop.sandbox", "--client-secrets", str(secrets_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(15, proc.kill)
    watchdog.start()
    try:
        lines = [proc.stdout.readline() for _ in range(4)]
        url = lines[0].split(" at ")[1].strip()
        assert url.startswith("http://127.0.0.1:") and str(secrets_path) in lines[1]
        assert json.loads(secrets_path.read_text())["installed"]["token_uri"] == f"{url}/token"
        assert requests.get(f"{url}/gmail/v1/users/me/profile", timeout=5).status_code == 401
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=5)
