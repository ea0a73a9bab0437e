"""The person's autonomy settings in the store, read and written as `settings_spec` describes
them: each through its codec, in the columns that keep it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from skytwin_desktop.errors import InputError
from skytwin_desktop.settings_spec import AUTONOMY_SETTINGS, SETTINGS, SettingSpec
from skytwin_desktop.store.models import User
from skytwin_desktop.store.policy import set_tier
from skytwin_desktop.store.users import load_settings


def _holders(session: Session, user_id: int) -> dict[str, object]:
    return {"user": session.get_one(User, user_id), "autonomy": load_settings(session, user_id)}


def _columns(spec: SettingSpec) -> list[tuple[str, str]]:
    return [(holder, column) for holder, _, column in (place.partition(".") for place in spec.kept_in)]


def read_settings(session: Session, user_id: int) -> dict[str, Any]:
    holders = _holders(session, user_id)
    settings: dict[str, Any] = {}
    for spec in AUTONOMY_SETTINGS:
        kept = tuple(getattr(holders[holder], column) for holder, column in _columns(spec))
        settings[spec.key] = spec.value_codec.shown(kept[0] if len(kept) == 1 else kept)
    return settings


def apply_setting(session: Session, user_id: int, key: str, value: Any, *, now: datetime) -> None:
    """Check and save one setting; a bad value is an InputError and nothing changes."""
    spec = SETTINGS.get(key)
    if spec is None:
        raise InputError(f"There is no setting {key!r}.")
    kept = spec.value_codec.clean(value)
    if key == "trust_tier":  # its changes are kept with their reasons, and move it by themselves
        set_tier(session, user_id, kept, reason="chosen in settings", by_person=True, now=now)
    else:
        holders = _holders(session, user_id)
        columns = _columns(spec)
        values = (kept,) if len(columns) == 1 else (kept or (None,) * len(columns))
        for (holder, column), part in zip(columns, values, strict=True):
            setattr(holders[holder], column, part)
    session.flush()
