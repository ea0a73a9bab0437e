"""The person's autonomy settings in the store: read them all, or save one after its check in
`settings_spec`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from skytwin_desktop.errors import InputError
from skytwin_desktop.settings_spec import (
    clean_contacts,
    clean_domains,
    clean_history_days,
    clean_quiet_hours,
    clean_sender_labels,
    clean_timezone,
)
from skytwin_desktop.store.models import User
from skytwin_desktop.store.policy import set_tier
from skytwin_desktop.store.users import load_settings


def read_settings(session: Session, user_id: int) -> dict[str, Any]:
    user = session.get_one(User, user_id)
    stored = load_settings(session, user_id)
    quiet = (stored.quiet_hours_start, stored.quiet_hours_end) if stored.quiet_hours_start else None
    return {
        "trust_tier": user.trust_tier,
        "timezone": user.timezone,
        "quiet_hours": quiet,
        "allowed_domains": list(stored.allowed_domains or []),
        "blocked_domains": list(stored.blocked_domains or []),
        "require_approval_for_irreversible": stored.require_approval_for_irreversible,
        "trusted_contacts": list(stored.trusted_contacts or []),
        "sender_labels": list(stored.sender_labels or []),
        "history_days": str(stored.history_days),
    }


def apply_setting(session: Session, user_id: int, key: str, value: Any, *, now: datetime) -> None:
    """Validate and save one setting; a bad value is an InputError and nothing changes."""
    user = session.get_one(User, user_id)
    stored = load_settings(session, user_id)
    if key == "trust_tier":
        set_tier(session, user_id, value, reason="chosen in settings", by_person=True, now=now)
    elif key == "timezone":
        user.timezone = clean_timezone(value)
    elif key == "quiet_hours":
        stored.quiet_hours_start, stored.quiet_hours_end = clean_quiet_hours(value) or (None, None)
    elif key in ("allowed_domains", "blocked_domains"):
        setattr(stored, key, clean_domains(list(value)))
    elif key == "require_approval_for_irreversible":
        stored.require_approval_for_irreversible = bool(value)
    elif key == "trusted_contacts":
        stored.trusted_contacts = clean_contacts(list(value))
    elif key == "sender_labels":
        stored.sender_labels = clean_sender_labels(list(value))
    elif key == "history_days":
        stored.history_days = clean_history_days(value)
    else:
        raise InputError(f"There is no setting {key!r}.")
    session.flush()
