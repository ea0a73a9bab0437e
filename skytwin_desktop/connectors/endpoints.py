"""Where each Google endpoint lives: Google's own hosts, or one root (the sandbox) with Google's paths."""

from __future__ import annotations

from dataclasses import dataclass

from skytwin_desktop.domain import Connector

SCOPES: dict[Connector, tuple[str, ...]] = {
    Connector.GMAIL: ("https://www.googleapis.com/auth/gmail.modify",),
    Connector.CALENDAR: ("https://www.googleapis.com/auth/calendar.events",),
}


@dataclass(frozen=True)
class GoogleEndpoints:
    auth_uri: str
    token_uri: str
    revoke_uri: str
    gmail: str
    calendar: str

    @classmethod
    def for_root(cls, root: str | None) -> GoogleEndpoints:
        """Google's hosts, or `root` (scheme://host:port) for every one of them."""
        if root is None:
            return cls(
                auth_uri="https://accounts.google.com/o/oauth2/auth",
                token_uri="https://oauth2.googleapis.com/token",
                revoke_uri="https://oauth2.googleapis.com/revoke",
                gmail="https://gmail.googleapis.com/gmail/v1",
                calendar="https://www.googleapis.com/calendar/v3",
            )
        root = root.rstrip("/")
        return cls(f"{root}/o/oauth2/auth", f"{root}/token", f"{root}/revoke", f"{root}/gmail/v1",
                   f"{root}/calendar/v3")
