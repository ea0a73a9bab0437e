"""The person and their autonomy settings (the per-user pause lives here)."""

from __future__ import annotations

import getpass
import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from skytwin_desktop.domain import PAUSE_REASON_MAX
from skytwin_desktop.errors import InputError
from skytwin_desktop.store.models import AutonomySettings, User

log = logging.getLogger(__name__)


def local_user_id(session: Session) -> int | None:
    """The desktop's person, if there is one yet (a read)."""
    return session.scalar(select(User.id).order_by(User.id).limit(1))


def ensure_local_user(session: Session, *, timezone: str) -> User:
    """The desktop's person: the first user, created (at `observer`) on first start."""
    user = session.scalars(select(User).order_by(User.id).limit(1)).first()
    if user is None:
        user = User(display_name=_login_name(), timezone=timezone)
        session.add(user)
        session.flush()
        session.add(AutonomySettings(user_id=user.id))
        session.flush()
        log.info("Created the local user #%s (timezone %s)", user.id, timezone)
    return user


def load_settings(session: Session, user_id: int) -> AutonomySettings:
    settings = session.get(AutonomySettings, user_id)
    if settings is None:
        settings = AutonomySettings(user_id=user_id)
        session.add(settings)
        session.flush()
    return settings


def pause(session: Session, user_id: int, *, now: datetime, reason: str | None = None) -> AutonomySettings:
    """Stop auto-execution for this person. Pausing again keeps the first paused_at."""
    if reason is not None:
        reason = reason.strip() or None
    if reason is not None and not _is_text(reason):
        raise InputError("The pause reason is not valid text (it has bytes that are not UTF-8).")
    if reason is not None and len(reason) > PAUSE_REASON_MAX:
        raise InputError(f"The pause reason is {len(reason)} characters; at most {PAUSE_REASON_MAX} are kept.")
    settings = load_settings(session, user_id)
    if not settings.paused:
        settings.paused = True
        settings.paused_at = now
    if reason is not None or settings.paused_reason is None:
        settings.paused_reason = reason
    session.flush()
    log.info("Auto-execution paused by the person%s", " (with a reason)" if reason else "")
    return settings


def resume(session: Session, user_id: int) -> AutonomySettings:
    settings = load_settings(session, user_id)
    if settings.paused:
        settings.paused = False
        settings.paused_at = None
        settings.paused_reason = None
        session.flush()
        log.info("Auto-execution resumed by the person")
    return settings


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
