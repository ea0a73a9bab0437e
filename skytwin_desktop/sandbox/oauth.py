"""Google's OAuth 2.0 for installed apps: consent (auto-approved), code exchange with PKCE, refresh,
revocation and bearer checks, with Google's own error bodies so client error handling is exercised.

Not thread-safe on its own: the sandbox calls it while holding its one lock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from skytwin_desktop.sandbox.wire import (
    BEARER_REALM,
    ApiError,
    Query,
    Response,
    api_error,
    first,
    html_page,
    json_response,
    oauth_error,
)

ACCESS_TOKEN_LIFETIME = 3599
CODE_LIFETIME = 600
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
REVOKED = "Token has been expired or revoked."


@dataclass
class Grant:
    """What one consent produced: a refresh token and its scopes, for one (client, account)."""

    client_id: str
    account: str
    scopes: tuple[str, ...]
    refresh_token: str
    revoked: bool = False


@dataclass
class AccessToken:
    grant: Grant
    scopes: frozenset[str]
    expires_at: float


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    challenge: str | None
    method: str | None
    expires_at: float
    used: bool = False


@dataclass
class OAuthState:
    account: str
    client_id: str
    client_secret: str
    clock: Callable[[], float] = time.monotonic
    codes: dict[str, AuthCode] = field(default_factory=dict)
    grants: list[Grant] = field(default_factory=list)
    access: dict[str, AccessToken] = field(default_factory=dict)

    # ---- GET /o/oauth2/auth -------------------------------------------------------------------
    def authorize(self, query: Query) -> Response:
        """Auto-consent: validate like Google, then 302 back to the loopback redirect with a code."""
        client_id = first(query, "client_id")
        if not client_id:
            return html_page(400, "Error 400: invalid_request", "Missing required parameter: client_id")
        if client_id != self.client_id:
            return html_page(401, "Error 401: invalid_client", "The OAuth client was not found.")
        redirect_uri = first(query, "redirect_uri") or ""
        if not _loopback_http(redirect_uri):
            return html_page(400, "Error 400: redirect_uri_mismatch",
                             "You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 "
                             f"policy. error=redirect_uri_mismatch redirect_uri={redirect_uri}")
        if first(query, "response_type") != "code":
            return html_page(400, "Error 400: unsupported_response_type",
                             f"Invalid response_type: {first(query, 'response_type') or ''}")
        scopes = _dedupe((first(query, "scope") or "").split())
        if not scopes:
            return html_page(400, "Error 400: invalid_request", "Missing required parameter: scope")
        unknown = [s for s in scopes if not _known_scope(s)]
        if unknown:
            return html_page(400, "Error 400: invalid_scope", f"Some requested scopes were invalid: {unknown}")
        challenge = first(query, "code_challenge")
        method = first(query, "code_challenge_method") or ("plain" if challenge else None)
        if challenge and method not in ("S256", "plain"):
            return html_page(400, "Error 400: invalid_request", "Invalid code_challenge_method.")
        if (first(query, "include_granted_scopes") or "").lower() == "true":
            earlier = [s for g in self._live_grants(self.client_id, self.account) for s in g.scopes]
            scopes = _dedupe([*scopes, *earlier])
        code = "4/0Asandbox-" + secrets.token_urlsafe(32)
        self.codes[code] = AuthCode(client_id, redirect_uri, scopes, challenge if challenge else None,
                                    method if challenge else None, self.clock() + CODE_LIFETIME)
        params = {"code": code, "scope": " ".join(scopes), "authuser": "0", "prompt": "consent"}
        state = first(query, "state")
        if state is not None:
            params = {"state": state, **params}
        return Response(302, b"", None, {"Location": _with_query(redirect_uri, params)})

    # ---- POST /token --------------------------------------------------------------------------
    def token(self, form: Query, authorization: str | None) -> Response:
        grant_type = first(form, "grant_type") or ""
        if grant_type not in ("authorization_code", "refresh_token"):
            raise oauth_error(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")
        client_id = self._client(form, authorization)
        if grant_type == "authorization_code":
            return self._exchange(form, client_id)
        return self._refresh(form, client_id)

    def _client(self, form: Query, authorization: str | None) -> str:
        """Client auth the two ways Google accepts: HTTP Basic, or client_id/client_secret in the body."""
        client_id, secret = first(form, "client_id"), first(form, "client_secret")
        if authorization and authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
                user, _, password = decoded.partition(":")
                client_id, secret = unquote(user), unquote(password)
            except (binascii.Error, UnicodeDecodeError):
                raise oauth_error(400, "invalid_request", "Could not determine client ID from request.") from None
        if not client_id:
            raise oauth_error(400, "invalid_request", "Could not determine client ID from request.")
        if client_id != self.client_id:
            raise oauth_error(401, "invalid_client", "The OAuth client was not found.")
        if not secret:
            raise oauth_error(400, "invalid_request", "client_secret is missing.")
        if not secrets.compare_digest(secret, self.client_secret):
            raise oauth_error(401, "invalid_client", "Unauthorized")
        return client_id

    def _exchange(self, form: Query, client_id: str) -> Response:
        code_value = first(form, "code")
        if not code_value:
            raise oauth_error(400, "invalid_request", "Missing required parameter: code")
        code = self.codes.get(code_value)
        if code is None or code.used or code.expires_at < self.clock() or code.client_id != client_id:
            raise oauth_error(400, "invalid_grant", "Bad Request")
        code.used = True  # single use, even when this attempt fails below
        redirect_uri = first(form, "redirect_uri")
        if not redirect_uri:
            raise oauth_error(400, "invalid_request", "Missing parameter: redirect_uri")
        if redirect_uri != code.redirect_uri:
            raise oauth_error(400, "redirect_uri_mismatch", "Bad Request")
        verifier = first(form, "code_verifier")
        if code.challenge is None:
            if verifier:
                raise oauth_error(400, "invalid_grant", "code_verifier or verifier is not needed.")
        elif not verifier:
            raise oauth_error(400, "invalid_grant", "Missing code verifier.")
        elif not secrets.compare_digest(_challenge(verifier, code.method), code.challenge):
            raise oauth_error(400, "invalid_grant", "Invalid code verifier.")
        grant = Grant(client_id, self.account, code.scopes, "1//sandbox-" + secrets.token_urlsafe(48))
        self.grants.append(grant)
        access, lifetime = self._issue(grant, frozenset(code.scopes))
        return json_response({
            "access_token": access, "expires_in": lifetime, "refresh_token": grant.refresh_token,
            "scope": " ".join(code.scopes), "token_type": "Bearer",
        })

    def _refresh(self, form: Query, client_id: str) -> Response:
        refresh_token = first(form, "refresh_token")
        if not refresh_token:
            raise oauth_error(400, "invalid_request", "Missing required parameter: refresh_token")
        grant = next((g for g in self.grants if secrets.compare_digest(g.refresh_token, refresh_token)), None)
        if grant is None:
            raise oauth_error(400, "invalid_grant", "Bad Request")
        if grant.client_id != client_id:
            raise oauth_error(401, "unauthorized_client", "Unauthorized")
        if grant.revoked:
            raise oauth_error(400, "invalid_grant", REVOKED)
        wanted = _dedupe((first(form, "scope") or "").split()) or grant.scopes
        if not set(wanted) <= set(grant.scopes):
            raise oauth_error(400, "invalid_scope", "Bad Request")
        access, lifetime = self._issue(grant, frozenset(wanted))
        return json_response({"access_token": access, "expires_in": lifetime, "scope": " ".join(wanted),
                              "token_type": "Bearer"})

    def _issue(self, grant: Grant, scopes: frozenset[str]) -> tuple[str, int]:
        token = "ya29.sandbox-" + secrets.token_urlsafe(48)
        self.access[token] = AccessToken(grant, scopes, self.clock() + ACCESS_TOKEN_LIFETIME)
        return token, ACCESS_TOKEN_LIFETIME

    # ---- POST /revoke -------------------------------------------------------------------------
    def revoke(self, token: str | None) -> Response:
        """Google ends the whole (client, account) authorisation, whichever of its tokens is sent."""
        grant = self._grant_of(token or "")
        if grant is None or grant.revoked:
            raise oauth_error(400, "invalid_token", "Token expired or revoked")
        for other in self.grants:
            if other.client_id == grant.client_id and other.account == grant.account:
                other.revoked = True
        return json_response({})

    def _grant_of(self, token: str) -> Grant | None:
        if token in self.access:
            return self.access[token].grant
        return next((g for g in self.grants if g.refresh_token == token), None)

    def revoke_grants(self, scope_substring: str | None = None) -> int:
        """The person removes access in their Google account: all grants, or those for some scope."""
        hit = [g for g in self.grants if not g.revoked and g.account == self.account
               and (scope_substring is None or any(scope_substring in s for s in g.scopes))]
        for grant in hit:
            grant.revoked = True
        return len(hit)

    def expire_access_tokens(self) -> None:
        for token in self.access.values():
            token.expires_at = min(token.expires_at, self.clock() - 1)

    # ---- bearer checks for the APIs -----------------------------------------------------------
    def check(self, authorization: str | None, any_of: Iterable[str], service: str, method: str) -> AccessToken:
        """The token must be live and carry one of `any_of` (Google's scope hierarchy, flattened)."""
        token = None
        if authorization and authorization[:7].lower() == "bearer ":
            token = self.access.get(authorization[7:].strip())
        if token is None or token.grant.revoked or token.expires_at <= self.clock():
            raise _unauthenticated()
        needed = list(any_of)
        if not token.scopes & set(needed):
            raise api_error(
                403, "Request had insufficient authentication scopes.", "insufficientPermissions",
                item_message="Insufficient Permission",
                details=[{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                          "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "domain": "googleapis.com",
                          "metadata": {"service": service, "method": method}}],
                headers={"WWW-Authenticate": f'{BEARER_REALM}, error="insufficient_scope", '
                                             f'scope="{" ".join(needed)}"'},
            )
        return token

    def _live_grants(self, client_id: str, account: str) -> list[Grant]:
        return [g for g in self.grants if g.client_id == client_id and g.account == account and not g.revoked]


def _unauthenticated() -> ApiError:
    """Google's exact 401 body for a missing, unknown, expired or revoked access token."""
    return api_error(401, "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                     "login cookie or other valid authentication credential.", "authError",
                     item_message="Invalid Credentials",
                     location="Authorization", location_type="header",
                     headers={"WWW-Authenticate": BEARER_REALM})


def _challenge(verifier: str, method: str | None) -> str:
    if method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
    return verifier


def _loopback_http(uri: str) -> bool:
    """Desktop clients may redirect to http on a loopback host, any port, any path; nothing else."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    return parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS and not parts.fragment


def _known_scope(scope: str) -> bool:
    return (scope.startswith("https://www.googleapis.com/auth/") or scope == "https://mail.google.com/"
            or scope in ("openid", "email", "profile"))


def _dedupe(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in items if i))


def _with_query(uri: str, params: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params.items()])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
