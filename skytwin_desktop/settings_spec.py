"""The person's autonomy settings, described once as data: the settings window builds its
Autonomy tab from this list, and `store.settings` reads and writes every one of them from it,
through the codec of its kind (the check on the way in, the form's shape on the way out) and the
columns that keep it. Adding a setting here adds it to the window, to `settings` on the command
line and to the test that toggles every setting."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from skytwin_desktop.domain import HISTORY_DAY_CHOICES, TRUST_TIER_LABELS, TrustTier
from skytwin_desktop.errors import InputError
from skytwin_desktop.policy.quiet_hours import parse_hhmm


class Kind(StrEnum):
    BOOL = "bool"
    CHOICE = "choice"
    TIMEZONE = "timezone"
    QUIET_HOURS = "quiet_hours"
    DOMAINS = "domains"
    CONTACTS = "contacts"
    """Addresses or domains, one per line."""
    SENDER_LABELS = "sender_labels"
    """'sender-or-domain = Gmail label' lines."""


HISTORY_LABELS = {30: "a month", 90: "3 months", 365: "a year", 3650: "10 years"}


def _as_kept(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Codec:
    """How a kind of setting's value is checked on its way in and shown on its way out."""

    clean: Callable[[Any], Any]
    """The person's value, checked, as it is kept; an InputError says what is wrong."""
    shown: Callable[[Any], Any] = _as_kept
    """The kept value as the form (and `settings --json`) shows it."""


@dataclass(frozen=True)
class SettingSpec:
    key: str
    kind: Kind
    label: str
    tooltip: str
    kept_in: tuple[str, ...]
    """The columns that keep it, as 'user.<column>' or 'autonomy.<column>'; a value kept in more
    than one column is a tuple of them, in this order (None: every column empty)."""
    choices: tuple[tuple[str, str], ...] = ()
    """(value, label) pairs for CHOICE settings."""
    codec: Codec | None = None
    """Its own codec; by default its kind's."""

    @property
    def value_codec(self) -> Codec:
        return self.codec or CODECS[self.kind]


def _lines(clean: Callable[[list[str]], list[str]]) -> Codec:
    return Codec(lambda value: clean(list(value)), list)


def _quiet_hours_shown(kept: tuple[str | None, str | None]) -> tuple[str, str] | None:
    start, end = kept
    return (start, end) if start and end else None


def clean_trust_tier(value: str) -> str:
    try:
        return TrustTier(value).value
    except ValueError:
        raise InputError(f"Unknown trust tier {value!r}; expected one of {', '.join(TrustTier)}.") from None


AUTONOMY_SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("trust_tier", Kind.CHOICE, "How much your twin may do alone",
                "From 'Just watch' (it asks about everything) to 'Full autopilot'. It moves by itself "
                "with your approvals and rejections, except to Full autopilot, which is only your choice.",
                ("user.trust_tier",), tuple((tier.value, TRUST_TIER_LABELS[tier]) for tier in TrustTier),
                Codec(clean_trust_tier)),
    SettingSpec("timezone", Kind.TIMEZONE, "Your timezone",
                "Quiet hours follow this clock, not the computer's (IANA name, e.g. Europe/Paris).",
                ("user.timezone",)),
    SettingSpec("quiet_hours", Kind.QUIET_HOURS, "Quiet hours",
                "During these hours every action waits for you. Off until you set them.",
                ("autonomy.quiet_hours_start", "autonomy.quiet_hours_end")),
    SettingSpec("allowed_domains", Kind.DOMAINS, "Only act for these domains",
                "When this list is not empty, anything concerning another domain is refused. One per line.",
                ("autonomy.allowed_domains",)),
    SettingSpec("blocked_domains", Kind.DOMAINS, "Never act for these domains",
                "Anything concerning these domains (and their subdomains) is refused. One per line.",
                ("autonomy.blocked_domains",)),
    SettingSpec("require_approval_for_irreversible", Kind.BOOL, "Ask before anything that cannot be undone",
                "Sending a reply or declining an invite always waits for you while this is on.",
                ("autonomy.require_approval_for_irreversible",)),
    SettingSpec("trusted_contacts", Kind.CONTACTS, "Trusted contacts",
                "Invitations from these people (an address, or a whole domain) may be accepted for you when "
                "you are free. One per line.", ("autonomy.trusted_contacts",)),
    SettingSpec("sender_labels", Kind.SENDER_LABELS, "Label mail from",
                "One per line: a sender or domain, '=', and an existing Gmail label, e.g. "
                "'shop.example = Receipts'.", ("autonomy.sender_labels",)),
    SettingSpec("history_days", Kind.CHOICE, "Keep the activity history for",
                "What your twin decided and did, and the approvals you answered, are forgotten after this "
                "long (checked once a day), so the database does not grow for ever.",
                ("autonomy.history_days",), tuple((str(days), HISTORY_LABELS[days]) for days in HISTORY_DAY_CHOICES),
                Codec(lambda value: clean_history_days(value), str)),
)
SETTINGS = {spec.key: spec for spec in AUTONOMY_SETTINGS}


def clean_history_days(value: str | int) -> int:
    try:
        days = int(value)
    except (TypeError, ValueError):
        days = 0
    if days not in HISTORY_DAY_CHOICES:
        raise InputError(f"Keep the activity history for: {value!r} is not one of "
                         f"{', '.join(map(str, HISTORY_DAY_CHOICES))} days.")
    return days


def clean_domains(value: list[str]) -> list[str]:
    cleaned = sorted({item.strip().lower().lstrip("@") for item in value if item.strip()})
    for domain in cleaned:
        if " " in domain or "." not in domain:
            raise InputError(f"{domain!r} is not a domain (like example.com).")
    return cleaned


def clean_contacts(value: list[str]) -> list[str]:
    """Addresses (ann@example.com) or domains (example.com, or @example.com), lower-case, sorted."""
    cleaned = sorted({item.strip().lower().removeprefix("@") for item in value if item.strip()})
    for entry in cleaned:
        local, at, domain = entry.rpartition("@")
        if " " in entry or "." not in domain or "@" in local or (at and not local):
            raise InputError(f"{entry!r} is not an address or a domain (like ann@example.com or example.com).")
    return cleaned


def clean_timezone(value: str) -> str:
    try:
        if value not in available_timezones():
            raise ZoneInfoNotFoundError(value)
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"{value!r} is not a timezone name (like Europe/Paris).") from None
    return value


def clean_quiet_hours(value: tuple[str, str] | list[str] | None) -> tuple[str, str] | None:
    if value is None:
        return None
    try:
        start, end = (parse_hhmm(part).strftime("%H:%M") for part in value)
    except ValueError as exc:
        raise InputError(f"Quiet hours: {exc}.") from None
    return start, end


def parse_sender_labels(lines: list[str]) -> tuple[tuple[str, str], ...]:
    """'news@example.com = Reading' lines into (sender or domain, label) pairs; a bad line is a
    ValueError that names it."""
    pairs = []
    for line in lines:
        pattern, sep, label = line.partition("=")
        pattern, label = pattern.strip().lower().lstrip("@"), label.strip()
        if not sep or not pattern or not label or " " in pattern or ("." not in pattern):
            raise ValueError(f"{line.strip()!r} is not 'sender-or-domain = Label'")
        pairs.append((pattern, label))
    return tuple(pairs)


def clean_sender_labels(value: list[str]) -> list[str]:
    try:
        pairs = parse_sender_labels([line for line in value if line.strip()])
    except ValueError as exc:
        raise InputError(f"Label mail from: {exc}.") from None
    return [f"{pattern} = {label}" for pattern, label in pairs]


CODECS: dict[Kind, Codec] = {
    Kind.BOOL: Codec(bool),
    Kind.TIMEZONE: Codec(clean_timezone),
    Kind.QUIET_HOURS: Codec(clean_quiet_hours, _quiet_hours_shown),
    Kind.DOMAINS: _lines(clean_domains),
    Kind.CONTACTS: _lines(clean_contacts),
    Kind.SENDER_LABELS: _lines(clean_sender_labels),
}
"""Each kind's codec; a CHOICE setting names its own."""
