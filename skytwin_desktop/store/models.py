"""The database schema as SQLAlchemy 2.x typed declarative models.

Rules every table follows: anything that belongs to a person references `users.id` with
ON DELETE CASCADE (deleting a person deletes everything of theirs, in one statement), timestamps
are `UTCDateTime`, and enumerated text columns carry a CHECK built from `skytwin_desktop.domain`.
No column ever holds a token: tokens live only in the OS keyring.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from skytwin_desktop.domain import (
    HISTORY_DAYS,
    PAUSE_REASON_MAX,
    ActionState,
    ApprovalStatus,
    Confirmation,
    Connector,
    HealthStatus,
    ReadProblem,
    SetAsideStage,
    TrustTier,
    Urgency,
)
from skytwin_desktop.policy.model import Effect
from skytwin_desktop.policy.trust import Feedback
from skytwin_desktop.store.types import DB_NOW, UTCDateTime


class RiskLabel(StrEnum):
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"
    CRITICAL = "critical"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def table(model: type[Base]) -> Table:
    """A model's Core table, for bulk statements that skip the ORM's per-row work."""
    return cast(Table, model.__table__)


def one_of(column: str, values: type[StrEnum], name: str | None = None) -> CheckConstraint:
    """A CHECK that limits a text column to the members of an enum."""
    allowed = ", ".join(f"'{member.value}'" for member in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=name or column)


def user_fk() -> ForeignKey:
    return ForeignKey("users.id", ondelete="CASCADE")


class User(Base):
    """One person using this desktop. The app normally has exactly one."""

    __tablename__ = "users"
    __table_args__ = (one_of("trust_tier", TrustTier),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="", server_default=text("''"))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    """IANA name (e.g. Europe/Paris): quiet hours are judged in this zone, not the machine's."""
    trust_tier: Mapped[str] = mapped_column(
        String(32), default=TrustTier.OBSERVER.value, server_default=TrustTier.OBSERVER.value
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=DB_NOW)


class AutonomySettings(Base):
    """What the person allows the twin to do on its own, the pause included."""

    __tablename__ = "autonomy_settings"
    __table_args__ = (
        CheckConstraint(
            f"paused_reason IS NULL OR length(paused_reason) <= {PAUSE_REASON_MAX}",
            name="paused_reason_length",
        ),
        CheckConstraint(
            "(quiet_hours_start IS NULL) = (quiet_hours_end IS NULL)", name="quiet_hours_pair"
        ),
        CheckConstraint(
            "quiet_hours_start IS NULL OR (quiet_hours_start GLOB '[0-2][0-9]:[0-5][0-9]' "
            "AND quiet_hours_end GLOB '[0-2][0-9]:[0-5][0-9]')",
            name="quiet_hours_format",
        ),
        CheckConstraint("history_days >= 1", name="history_days"),
    )

    user_id: Mapped[int] = mapped_column(user_fk(), primary_key=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_reason: Mapped[str | None] = mapped_column(String(PAUSE_REASON_MAX))
    quiet_hours_start: Mapped[str | None] = mapped_column(String(5))
    """HH:MM in the person's timezone; NULL (with the end) means no quiet hours."""
    quiet_hours_end: Mapped[str | None] = mapped_column(String(5))
    allowed_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    """When non-empty, only these domains may be acted on."""
    blocked_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    require_approval_for_irreversible: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true()
    )
    trusted_contacts: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    """Addresses or domains whose invites the twin may accept (what the proposers read)."""
    sender_labels: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    """Lines of 'sender-or-domain = Gmail label': mail from them gets that label."""
    history_days: Mapped[int] = mapped_column(Integer, default=HISTORY_DAYS, server_default=str(HISTORY_DAYS))
    """How many days of activity history are kept (see `store.retention`)."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=DB_NOW, onupdate=DB_NOW)
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Bumped by database triggers whenever anything the evaluator reads changes (these
    settings, the person's rules, tier or timezone), from any process, so a running app
    notices a change with one tiny query instead of reloading everything per decision."""


class ConnectorHealth(Base):
    """The last known state of one connector for one person, written after every poll."""

    __tablename__ = "connector_health"
    __table_args__ = (
        one_of("connector_name", Connector),
        one_of("status", HealthStatus),
    )

    user_id: Mapped[int] = mapped_column(user_fk(), primary_key=True)
    connector_name: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(64))
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=DB_NOW)
    """Always the database's clock, so a skewed or injected Python clock cannot fake freshness."""


class ConnectorCursor(Base):
    """Where the next poll resumes: Gmail's history id or Calendar's sync token (not secrets)."""

    __tablename__ = "connector_cursors"
    __table_args__ = (one_of("connector_name", Connector),)

    user_id: Mapped[int] = mapped_column(user_fk(), primary_key=True)
    connector_name: Mapped[str] = mapped_column(String(32), primary_key=True)
    cursor: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=DB_NOW, onupdate=DB_NOW)


class ProcessedSignal(Base):
    """Ledger of signals already turned into actions, so a restart never acts on one twice."""

    __tablename__ = "processed_signals"
    __table_args__ = (one_of("connector_name", Connector),)

    user_id: Mapped[int] = mapped_column(user_fk(), primary_key=True)
    connector_name: Mapped[str] = mapped_column(String(32), primary_key=True)
    signal_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=DB_NOW)


class Approval(Base):
    """An action waiting for the person: pending until approved, rejected or expired."""

    __tablename__ = "approvals"
    __table_args__ = (
        one_of("status", ApprovalStatus),
        one_of("urgency", Urgency),
        one_of("confirmation", Confirmation),
        CheckConstraint("confirmations_received >= 0", name="confirmations_received"),
        UniqueConstraint("user_id", "action_key", name="uq_approvals_user_action"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(user_fk(), index=True)
    action_key: Mapped[str] = mapped_column(String(255))
    """Stable key of the action (signal + kind), so one action is never queued twice."""
    action_kind: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(500))
    action: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """The whole proposed action, kept so approving can re-check it against current policy."""
    status: Mapped[str] = mapped_column(
        String(16), default=ApprovalStatus.PENDING.value, server_default=ApprovalStatus.PENDING.value
    )
    urgency: Mapped[str] = mapped_column(
        String(16), default=Urgency.NORMAL.value, server_default=Urgency.NORMAL.value
    )
    confirmation: Mapped[str] = mapped_column(
        String(8), default=Confirmation.SINGLE.value, server_default=Confirmation.SINGLE.value
    )
    confirmations_received: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    first_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason_code: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=DB_NOW)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_note: Mapped[str | None] = mapped_column(String(500))


class DecisionLogEntry(Base):
    """Append-only record of every policy decision: the answer to "why did my twin do this?".

    A database trigger (created by the migration) refuses UPDATE; rows leave only when they are
    older than the person keeps history for (`store.retention`), or with the person.
    """

    __tablename__ = "decision_log"
    __table_args__ = (one_of("confirmation", Confirmation),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(user_fk(), index=True)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=DB_NOW)
    action_key: Mapped[str | None] = mapped_column(String(255))
    action_kind: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(500))
    allowed: Mapped[bool] = mapped_column(Boolean)
    requires_approval: Mapped[bool] = mapped_column(Boolean)
    confirmation: Mapped[str] = mapped_column(String(8))
    reason_code: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(32))
    """Which check of the evaluator decided (tier, injection, settings, quiet_hours, rules, kill_switch, default)."""


class PolicyRuleRow(Base):
    """One of the person's own policy rules; conditions are `{field, operator, value}` objects."""

    __tablename__ = "policy_rules"
    __table_args__ = (one_of("effect", Effect),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(user_fk(), index=True)
    name: Mapped[str] = mapped_column(String(200), default="", server_default=text("''"))
    priority: Mapped[int] = mapped_column(Integer, default=100, server_default="100")
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    effect: Mapped[str] = mapped_column(String(20))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=DB_NOW)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=DB_NOW, onupdate=DB_NOW)


class FeedbackEventRow(Base):
    """The person's answer to something the twin did or proposed; it moves the trust tier."""

    __tablename__ = "feedback_events"
    __table_args__ = (one_of("kind", Feedback), one_of("risk", RiskLabel))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(user_fk(), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(16))
    action_kind: Mapped[str] = mapped_column(String(64))
    risk: Mapped[str] = mapped_column(String(16), default="low", server_default="low")
    approval_id: Mapped[int | None] = mapped_column(Integer)


class TierChangeRow(Base):
    """Every change of trust tier, automatic or by the person's choice, with why."""

    __tablename__ = "tier_changes"
    __table_args__ = (one_of("old_tier", TrustTier), one_of("new_tier", TrustTier))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(user_fk(), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    old_tier: Mapped[str] = mapped_column(String(32))
    new_tier: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    by_person: Mapped[bool] = mapped_column(Boolean)


class ConnectorAccount(Base):
    """Which Google account a connector is signed in to (not a secret; the token is in the keyring)."""

    __tablename__ = "connector_accounts"
    __table_args__ = (one_of("connector_name", Connector),)

    user_id: Mapped[int] = mapped_column(user_fk(), primary_key=True)
    connector_name: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_email: Mapped[str] = mapped_column(String(320))
    connected_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConnectorBreaker(Base):
    """Transient-failure backoff, kept so separate processes and restarts respect it. (A permanent
    failure needs no row here: `needs_reauth` in connector_health keeps the breaker open.)"""

    __tablename__ = "connector_breakers"
    __table_args__ = (one_of("connector_name", Connector),)

    user_id: Mapped[int] = mapped_column(user_fk(), primary_key=True)
    connector_name: Mapped[str] = mapped_column(String(32), primary_key=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    open_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error_code: Mapped[str | None] = mapped_column(String(64))


class ConnectorReading(Base):
    """Whether a connected service is being read, and if not, why and since when. Beside
    connector_health (whose status stays `connected` while the sign-in is fine)."""

    __tablename__ = "connector_reading"
    __table_args__ = (one_of("connector_name", Connector), one_of("problem", ReadProblem))

    user_id: Mapped[int] = mapped_column(user_fk(), primary_key=True)
    connector_name: Mapped[str] = mapped_column(String(32), primary_key=True)
    problem: Mapped[str | None] = mapped_column(String(32))
    """NULL while reading works."""
    detail: Mapped[str | None] = mapped_column(String(500))
    """The problem in words, with what to do where the person can do something."""
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SetAsideItem(Base):
    """A message, event or piece of a Google answer that could not be read, stored or judged: kept
    with its reason so everything else keeps flowing, shown to the person, and tried again after
    an update of SkyTwin."""

    __tablename__ = "set_aside"
    __table_args__ = (
        one_of("connector_name", Connector),
        one_of("stage", SetAsideStage),
        UniqueConstraint("user_id", "connector_name", "item_id", name="uq_set_aside_item"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(user_fk(), index=True)
    connector_name: Mapped[str] = mapped_column(String(32))
    item_id: Mapped[str] = mapped_column(String(255))
    stage: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(300), default="", server_default=text("''"))
    sender: Mapped[str] = mapped_column(String(320), default="", server_default=text("''"))
    reason: Mapped[str] = mapped_column(String(500))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """What was received (Google's item, or the signal), to try again without asking Google."""
    app_version: Mapped[str] = mapped_column(String(32))
    """The SkyTwin that set it aside; a newer one tries it again."""
    set_aside_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=DB_NOW)


class SignalInboxRow(Base):
    """Signals a poll brought in, waiting to be turned into actions. Written in the same
    transaction as the connector's cursor, so a crash can neither skip nor lose them."""

    __tablename__ = "signal_inbox"
    __table_args__ = (one_of("connector_name", Connector),)

    user_id: Mapped[int] = mapped_column(user_fk(), primary_key=True)
    connector_name: Mapped[str] = mapped_column(String(32), primary_key=True)
    signal_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=DB_NOW)


class ActionRecord(Base):
    """One action the twin carries out, keyed by (signal, kind). Written as `started` before the
    call to Google and finished after it, so a crash in between never runs it twice: a restart
    looks at Google to learn whether the call happened."""

    __tablename__ = "action_records"
    __table_args__ = (
        one_of("state", ActionState),
        UniqueConstraint("user_id", "action_key", name="uq_action_records_user_action"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(user_fk(), index=True)
    action_key: Mapped[str] = mapped_column(String(255))
    action_kind: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(500))
    action: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The proposed action and its risk, as the approvals queue keeps them."""
    state: Mapped[str] = mapped_column(String(16))
    decision_id: Mapped[int | None] = mapped_column(Integer)
    """The decision-log entry that let it run."""
    approval_id: Mapped[int | None] = mapped_column(Integer)
    """Set when it ran because the person approved it."""
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    detail: Mapped[str | None] = mapped_column(String(500))
    """What happened, in words (an error, or how a half-done record was resolved)."""
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    owner_pid: Mapped[int | None] = mapped_column(Integer)
    """The process carrying it out (or undoing it) right now."""
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """Until when that process has it; after that (or once that process is gone) another may
    resolve it. Claimed with a compare-and-set, so two processes never run it both."""
