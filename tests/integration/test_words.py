"""Words people use: every internal code has a phrase, no code reaches a label or the CLI's human
output, and every time a person reads is in one local, relative-where-near style."""

from __future__ import annotations

import argparse
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget

from skytwin_desktop import words
from skytwin_desktop.connectors.failures import PERMANENT_TOKEN_ERRORS, api_failure, token_failure
from skytwin_desktop.domain import (
    ActionKind,
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
from skytwin_desktop.outcomes import PollOutcome
from skytwin_desktop.policy.model import Check
from skytwin_desktop.status import ConnectorState, SetAsideEntry, SignInWait, StatusReport, format_report

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # a Wednesday
BERLIN = ZoneInfo("Europe/Berlin")

TABLES = [(HealthStatus, words.STATUS), (PollOutcome, words.POLL_OUTCOME), (ReadProblem, words.READ_PROBLEM),
          (Check, words.CHECK), (ActionKind, words.KIND), (ApprovalStatus, words.APPROVAL_STATUS),
          (ActionState, words.ACTION_STATE), (Urgency, words.URGENCY), (Confirmation, words.CONFIRMATION),
          (SetAsideStage, words.STAGE), (TrustTier, words.TIER)]


@pytest.mark.parametrize(("codes", "table"), TABLES, ids=[codes.__name__ for codes, _ in TABLES])
def test_every_internal_code_has_a_phrase_in_plain_words(codes, table):
    for code in codes:
        phrase = table[code]
        assert phrase and "_" not in phrase, (code, phrase)
        if "_" in code.value:
            assert code.value not in phrase


def test_every_failure_google_or_we_can_produce_has_words():
    produced = {token_failure(400, {"error": code}).error_code for code in PERMANENT_TOKEN_ERRORS}
    produced |= {token_failure(None, None).error_code, token_failure(503, b"").error_code,
                 api_failure(401, {}).error_code, api_failure(429, {}).error_code,
                 api_failure(403, {"error": {"errors": [{"reason": "insufficientPermissions"}]}}).error_code,
                 api_failure(500, {}).error_code, "internal_error", "keyring_unavailable", "timeout",
                 "malformed_response", api_failure(401, {}, after_refresh=True).error_code}
    for code in produced:
        phrase = words.failure(code)
        assert phrase and "_" not in phrase and code not in phrase, (code, phrase)
    assert words.failure("http_503") == "Google answered with an error (503)"
    assert words.failure("something_new") == words.UNKNOWN_FAILURE
    assert words.failure(None) == ""


@pytest.mark.parametrize(("moment", "expected"), [
    (NOW - timedelta(seconds=10), "just now"),
    (NOW + timedelta(seconds=10), "in a moment"),
    (NOW - timedelta(minutes=12), "12 min ago"),
    (NOW + timedelta(minutes=5), "in 5 min"),
    (NOW - timedelta(hours=3), "today 10:00"),  # 09:00 UTC is 10:00 in Berlin
    (datetime(2026, 12, 1, 23, 30, tzinfo=UTC), "today 00:30"),  # yesterday in UTC, today in Berlin
    (NOW - timedelta(days=1), "yesterday 13:00"),
    (NOW + timedelta(days=1), "tomorrow 13:00"),
    (NOW - timedelta(days=3), "Sun 13:00"),
    (datetime(2026, 3, 14, 9, 30, tzinfo=UTC), "14 Mar 10:30"),
    (datetime(2025, 1, 1, 8, 0, tzinfo=UTC), "1 Jan 2025 09:00"),
    (None, "never"),
])
def test_times_are_local_and_relative_where_near(moment, expected):
    assert words.when(moment, NOW, BERLIN) == expected


def test_the_time_of_day_follows_the_locale_format_given(monkeypatch):
    monkeypatch.setattr(words, "_clock_text", words._clock_text)  # restored after the test
    words.use_clock_format(lambda moment: moment.strftime("%I:%M %p").lstrip("0"))
    assert words.when(NOW + timedelta(hours=3), NOW, BERLIN) == "today 4:00 PM"


def test_how_long_a_state_has_lasted():
    assert words.since(NOW - timedelta(seconds=5), NOW) == "for a moment"
    assert words.since(NOW - timedelta(minutes=7), NOW) == "for 7 min"
    assert words.since(NOW - timedelta(days=1), NOW, BERLIN) == "since yesterday 13:00"


# --- no code reaches a person -----------------------------------------------------------------


def internal_codes() -> frozenset[str]:
    """Every code with a phrase in `words`: what must never reach a label."""
    codes: set[str] = set()
    for table in (words.STATUS, words.POLL_OUTCOME, words.FAILURE, words.READ_PROBLEM, words.CHECK, words.KIND,
                  words.APPROVAL_STATUS, words.ACTION_STATE, words.URGENCY, words.CONFIRMATION, words.STAGE,
                  words.TIER, words.OPERATOR, words.EFFECT):
        codes.update(str(code) for code in table)
    return frozenset(codes)


SNAKE_CODES = sorted((code for code in internal_codes() if "_" in code), key=len, reverse=True)
CODE = re.compile(r"\b(" + "|".join(map(re.escape, SNAKE_CODES)) + r"|http_\d{3})\b")
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


def leaks(text: str) -> list[str]:
    return CODE.findall(text) + ISO.findall(text)


def reports() -> list[StatusReport]:
    """A report for every status, failure, reading problem, pause and sign-in the app can show."""
    base = StatusReport(user_id=1, email="me@example.com", trust_tier="high_autonomy", operator_paused=False,
                        user_paused=False, paused_at=None, paused_reason=None,
                        connectors={c: ConnectorState(HealthStatus.DISABLED) for c in Connector},
                        pending_approvals=2, at=NOW)
    found = [base]
    for status in HealthStatus:
        for code in [None, *words.FAILURE, "http_503"]:
            state = ConnectorState(status, error_code=code, last_success_at=NOW - timedelta(days=2),
                                   last_failure_at=NOW - timedelta(minutes=3))
            found.append(replace(base, connectors={Connector.GMAIL: state, Connector.CALENDAR: state}))
    for problem in ReadProblem:
        state = ConnectorState(HealthStatus.CONNECTED, error_code="network_error", problem=problem,
                               problem_text="it could not be read", failing_since=NOW - timedelta(hours=2),
                               retry_at=NOW + timedelta(minutes=4), set_aside=1)
        found.append(replace(base, connectors={Connector.GMAIL: state, Connector.CALENDAR: state}))
    set_aside = tuple(SetAsideEntry(Connector.GMAIL, "m1", "Hello", "a@example.com", "no date", stage, NOW)
                      for stage in SetAsideStage)
    found.append(replace(base, operator_paused=True, user_paused=True, paused_at=NOW - timedelta(days=3),
                         paused_reason="holiday", set_aside=set_aside, trust_tier="low_autonomy",
                         signing_in=(SignInWait(Connector.CALENDAR, "http://127.0.0.1/sign-in",
                                                NOW + timedelta(minutes=5)),)))
    found.append(replace(base, trust_tier="not_a_tier", running=False))
    return found


def widget_texts(widget: QWidget) -> str:
    parts = [widget.windowTitle(), widget.toolTip()]
    parts += [label.text() for label in widget.findChildren(QLabel)]
    parts += [button.text() + button.toolTip() for button in widget.findChildren(QAbstractButton)]
    return "\n".join(parts)


def test_no_internal_code_reaches_the_tray_the_windows_or_the_status_table(qtbot, tmp_path):
    from skytwin_desktop.intents import AppPaths
    from skytwin_desktop.ui.pause_dialog import PauseDialog
    from skytwin_desktop.ui.settings_window import SettingsWindow
    from skytwin_desktop.ui.state import tray_state
    from skytwin_desktop.ui.tray import TrayController

    every = reports()
    current = {"report": every[0]}
    controller = TrayController(lambda: current["report"])
    qtbot.addWidget(controller.window)
    settings = SettingsWindow(lambda key, value: None, AppPaths(tmp_path, tmp_path / "db", tmp_path / "logs"))
    qtbot.addWidget(settings)
    pause = PauseDialog(every[0])
    qtbot.addWidget(pause)
    checked = 0
    for report in every:
        current["report"] = report
        controller.refresh()
        state = tray_state(report)
        settings.show_report(report)
        pause.show_report(report)
        texts = {
            "status table": format_report(report),
            "tray": "\n".join([state.tooltip, *(b.text for b in state.banners),
                               *(a.text() for a in controller.menu.actions())]),
            "status window": widget_texts(controller.window),
            "settings": widget_texts(settings),
            "pause window": widget_texts(pause),
        }
        for where, text in texts.items():
            assert not leaks(text), (where, leaks(text), text)
            checked += 1
    assert checked == len(every) * 5
    assert any("needs reconnecting" in format_report(report) for report in every), "the words are really there"
    controller.shutdown()


def test_no_internal_code_reaches_the_approvals_window_or_the_cli(qtbot, context, capsys):
    from skytwin_desktop.cli import Output, _activity, _approvals
    from skytwin_desktop.intents import Intents
    from skytwin_desktop.store.approvals import enqueue
    from skytwin_desktop.store.policy import load_policy_settings
    from skytwin_desktop.ui.approvals_window import ApprovalsWindow
    from tests.policy_helpers import action, risk
    from tests.support.windows import pending_text

    for number, kind in enumerate(ActionKind):
        for urgency in Urgency:
            act = action(kind.value, key=f"gmail:m{number}-{urgency.value}:{kind.value}")
            with context.session() as session:
                logged = context.gate.decide(session, context.user_id, act,
                                             settings=load_policy_settings(session, context.user_id),
                                             trust_tier="suggest", risk=risk(), now=context.clock())
                enqueue(session, context.user_id, act, risk(), logged.decision, urgency=urgency.value,
                        now=context.clock())
    app = Intents(context)
    window = ApprovalsWindow(app)
    qtbot.addWidget(window)
    window.reload()
    assert window.pending.count() == len(ActionKind) * len(Urgency)
    shown = "\n".join(pending_text(window, row) for row in range(window.pending.count()))
    shown += "\n".join(window.activity.item(row).text() for row in range(window.activity.count()))
    assert not leaks(shown), leaks(shown)
    assert "Bring to your attention" in shown and "decided by your trust tier" in shown

    printed: list[str] = []
    out = Output(lambda stream, text: printed.append(text))
    _approvals(app, argparse.Namespace(verb="list", json=False, all=True), out)
    _activity(app, argparse.Namespace(json=False, limit=200), out)
    text = "".join(printed)
    assert "Accept an invitation" in text and not leaks(text), leaks(text)


def test_rules_are_listed_in_words():
    from skytwin_desktop.ui.rules_tab import describe

    rule = {"name": "Colleagues' invites", "effect": "require_approval",
            "conditions": [{"field": "kind", "operator": "in", "value": ["accept_invite", "decline_invite"]},
                           {"field": "risk.financial", "operator": "gte", "value": "moderate"}]}
    text = describe(rule)
    assert text == ("Colleagues' invites: if the action is one of Accept an invitation, Decline an invitation and "
                    "the financial risk is at least moderate → ask me first")
    assert not leaks(text)
