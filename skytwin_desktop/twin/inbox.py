"""The inbox pass: signals a poll stored become proposals, every proposal is judged (and logged)
by the gate, and then it runs, waits in Approvals, or stops there. Chunks are decided in one
transaction each; a signal that cannot be stored or judged is set aside alone, never the rest."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from skytwin_desktop.domain import Connector, SetAsideStage, Urgency
from skytwin_desktop.errors import StoreError
from skytwin_desktop.outcomes import BatchReport
from skytwin_desktop.policy import PolicySettings, ProposedAction, RiskAssessment
from skytwin_desktop.proposers import Proposal, ProposerSettings, propose
from skytwin_desktop.settings_spec import parse_sender_labels
from skytwin_desktop.signals import SetAside, signal_from_json
from skytwin_desktop.store import actions as store
from skytwin_desktop.store.approvals import enqueue_many, expire_due
from skytwin_desktop.store.connectors import add_to_inbox
from skytwin_desktop.store.models import ActionRecord, User
from skytwin_desktop.store.policy import current_tier
from skytwin_desktop.store.set_aside import set_aside, take_for_retry
from skytwin_desktop.store.users import load_settings
from skytwin_desktop.twin.carrying import Carrier
from skytwin_desktop.twin.gate import LoggedDecision
from skytwin_desktop.twin.recovery import Recovery

log = logging.getLogger(__name__)
CHUNK = 250
"""Signals judged per transaction: big enough to be quick, small enough to keep writers moving."""


@dataclass(frozen=True)
class _Planned:
    record_id: int
    action: ProposedAction
    risk: RiskAssessment
    urgency: Urgency
    logged: LoggedDecision
    settings: PolicySettings


def read_proposer_settings(session: Session, user_id: int) -> ProposerSettings:
    """What the proposers read: the person's own addresses, trusted contacts and sender labels."""
    stored = load_settings(session, user_id)
    labels: list[tuple[str, str]] = []
    for line in stored.sender_labels or []:
        try:
            labels.extend(parse_sender_labels([line]))
        except ValueError as exc:  # saved by an older version or by hand: skip, never stop the twin
            log.warning("Ignoring a sender label line: %s", exc)
    return ProposerSettings(
        own_addresses=frozenset(a.lower() for a in store.own_addresses(session, user_id) if "@" in a),
        trusted_contacts=frozenset(entry.lower() for entry in stored.trusted_contacts or []),
        sender_labels=tuple(labels),
        timezone=session.get_one(User, user_id).timezone,
    )


class InboxPass:
    def __init__(self, carrier: Carrier, recovery: Recovery) -> None:
        self._carrier = carrier
        self._recovery = recovery
        self._lock = threading.Lock()
        """One pass at a time: Gmail's and Calendar's polls may finish together."""

    def run(self, progress: Callable[[], None] | None = None) -> BatchReport:
        """`progress()` after each chunk is decided and each action is carried out, so what the
        person sees follows a long pass (new approvals, done actions) instead of waiting for its end."""
        carrier = self._carrier
        report = BatchReport()
        progress = progress or (lambda: None)
        with self._lock:
            with carrier.sessions.write() as session:
                expire_due(session, carrier.user_id, carrier.clock())  # expiry never executes anything
                retried = take_for_retry(session, carrier.user_id, stages=(SetAsideStage.STORE, SetAsideStage.JUDGE))
                add_to_inbox(session, carrier.user_id, [(Connector(row.connector_name), row.item_id, row.payload)
                                                        for row in retried])
            self._recovery.resolve_unfinished(report)
            with carrier.sessions.read() as session:
                waiting = store.inbox_count(session, carrier.user_id)
            limit = CHUNK
            for _ in range(waiting + 2):  # bounded: each round empties a chunk of the inbox, or sets one aside
                if carrier.stopping.is_set():
                    break
                try:
                    planned = self._decide_chunk(report, limit)
                except StoreError:
                    raise
                except Exception as exc:  # noqa: BLE001 - something in this chunk cannot be stored or judged: find it
                    if limit > 1:
                        limit = 1  # one signal at a time until the culprit is set aside
                    else:
                        self._set_aside_next(exc, report)
                    continue
                if planned is None:
                    break
                progress()
                for item in planned:
                    if carrier.stopping.is_set():
                        break  # left `started`: the next start resolves it
                    with carrier.holds.exclusively(item.record_id):
                        self._run_planned(item, report)
                    progress()
        if report.signals or report.resolved:
            log.info("Twin: %d signal(s), %d executed, %d for approval, %d refused, %d failed", report.signals,
                     report.executed, report.queued, report.denied, report.failed)
        return report

    def _set_aside_next(self, exc: Exception, report: BatchReport) -> None:
        """The oldest signal in the inbox could not be stored or judged even alone: keep it aside."""
        log.warning("A signal could not be judged (%s); it is set aside", type(exc).__name__)
        with self._carrier.sessions.write() as session:
            rows = store.take_inbox(session, self._carrier.user_id, 1)
            if rows:
                self._keep_aside(session, rows[0], f"the twin could not judge it ({type(exc).__name__})",
                                 SetAsideStage.STORE)
                store.mark_processed(session, self._carrier.user_id, rows)
                report.signals += 1

    def _keep_aside(self, session: Session, row: store.InboxItem, reason: str, stage: SetAsideStage) -> None:
        payload = row.payload if isinstance(row.payload, dict) else {}
        subject = payload.get("subject") or payload.get("summary") or ""
        sender = payload.get("sender") or payload.get("organizer") or ""
        set_aside(session, self._carrier.user_id, [SetAside(Connector(row.connector_name), row.signal_id, reason,
                                                            str(subject), str(sender), payload)], stage)

    def _decide_chunk(self, report: BatchReport, limit: int = CHUNK) -> list[_Planned] | None:
        """Propose for a chunk of the inbox, judge and log it all, queue what needs the person, and
        record (as `started`) what may run: one transaction, bulk statements."""
        carrier = self._carrier
        now = carrier.clock()
        with carrier.sessions.write() as session:
            rows = store.take_inbox(session, carrier.user_id, limit)
            if rows is None:
                return None
            settings = carrier.settings.current(session)
            tier = current_tier(session, carrier.user_id)
            proposer_settings = read_proposer_settings(session, carrier.user_id)
            proposals: list[Proposal] = []
            for row in rows:
                try:
                    proposals.extend(propose(signal_from_json(Connector(row.connector_name), row.payload),
                                             proposer_settings))
                except Exception as exc:  # noqa: BLE001 - one odd signal must never stop the rest: set aside, shown
                    log.warning("A %s signal could not be judged (%s); it is set aside", row.connector_name,
                                type(exc).__name__)
                    self._keep_aside(session, row, f"the twin could not judge it ({type(exc).__name__})",
                                     SetAsideStage.JUDGE)
            report.signals += len(rows)
            known = store.known_keys(session, carrier.user_id, [p.action.key for p in proposals])
            fresh: dict[str, Proposal] = {}
            for proposal in proposals:
                if proposal.action.key not in known:
                    fresh.setdefault(proposal.action.key, proposal)
            report.proposed += len(fresh)
            chosen = list(fresh.values())
            logged_all = carrier.gate.decide_many(session, carrier.user_id, [(p.action, p.risk) for p in chosen],
                                                  settings=settings, trust_tier=tier, now=now)
            planned, waiting = [], []
            for proposal, logged in zip(chosen, logged_all, strict=True):
                if logged.decision.auto_execute:
                    record = store.start_record(session, carrier.user_id, proposal.action, proposal.risk, now=now,
                                                decision_id=logged.log_id, urgency=proposal.urgency)
                    planned.append(_Planned(record.id, proposal.action, proposal.risk, proposal.urgency, logged,
                                            settings))
                elif logged.decision.allowed:
                    waiting.append((proposal.action, proposal.risk, logged.decision, proposal.urgency))
                else:
                    report.denied += 1
            queued = enqueue_many(session, carrier.user_id, waiting, now=now)
            report.queued += len(queued)
            report.queued_targets.extend(action.target for action, *_ in waiting if action.key in queued)
            store.mark_processed(session, carrier.user_id, rows)
        return planned

    def _run_planned(self, item: _Planned, report: BatchReport) -> None:
        """Run one auto-executable action, unless the settings changed since it was judged (a pause
        mid-batch, say): then it is judged again, and goes to Approvals if it no longer may run."""
        carrier = self._carrier
        logged: LoggedDecision | None = item.logged
        now = carrier.clock()
        with carrier.sessions.write() as session:
            if carrier.settings.current(session) is not item.settings:
                row = session.get_one(ActionRecord, item.record_id)
                logged = carrier.rejudge(session, row, item.action, item.risk, item.urgency, now, report)
        if logged is not None:
            carrier.execute(item.record_id, item.action, logged, None, report)
