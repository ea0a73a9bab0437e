"""Settings: described once as data, the Autonomy tab generated from that, every setting saved
through the window, bad values refused in words, and "delete all my data" in two steps."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from skytwin_desktop.domain import Connector, HealthStatus
from skytwin_desktop.errors import InputError
from skytwin_desktop.intents import AppPaths
from skytwin_desktop.settings_spec import AUTONOMY_SETTINGS, Kind
from skytwin_desktop.store.database import driver_connection
from skytwin_desktop.store.erase import erase_person
from skytwin_desktop.store.health import record_health
from skytwin_desktop.store.models import DecisionLogEntry, TierChangeRow, User
from skytwin_desktop.store.policy import add_rule, load_policy_settings
from skytwin_desktop.store.settings import apply_setting, read_settings
from skytwin_desktop.store.status import read_status
from skytwin_desktop.ui.settings_window import SettingsWindow

NEW_VALUES = {
    Kind.BOOL: False,
    Kind.TIMEZONE: "Asia/Tokyo",
    Kind.QUIET_HOURS: ("22:30", "06:45"),
    Kind.DOMAINS: ["acme.example", "weekly-digest.example"],
    Kind.CONTACTS: ["ann@partner.example", "family.example"],
    Kind.SENDER_LABELS: ["shop.example = Receipts", "ann@partner.example = Travel"],
}
CHOSEN = {"trust_tier": "moderate_autonomy", "history_days": "365"}
"""For each choice, a value other than its default."""


@pytest.fixture
def window(qtbot, context):
    def save(key, value):
        with context.session() as session:
            apply_setting(session, context.user_id, key, value, now=context.clock())

    win = SettingsWindow(save, AppPaths(Path("/data"), Path("/data/skytwin.db"), Path("/data/logs")))
    qtbot.addWidget(win)
    with context.session() as session:
        win.show_settings(read_settings(session, context.user_id))
    return win


def saved(context):
    with context.session() as session:
        return read_settings(session, context.user_id)


def test_the_autonomy_tab_is_generated_from_the_description(window):
    assert list(window.editors) == [spec.key for spec in AUTONOMY_SETTINGS]
    for spec in AUTONOMY_SETTINGS:
        widget, _, _ = window.editors[spec.key]
        assert widget.objectName() == f"setting-{spec.key}" and widget.toolTip() == spec.tooltip
    tier_box = window.editors["trust_tier"][0]
    assert [tier_box.itemText(i) for i in range(tier_box.count())] == [
        "Just watch", "Ask me first", "Handle small stuff", "Handle most things", "Full autopilot"]


@pytest.mark.parametrize("spec", AUTONOMY_SETTINGS, ids=lambda spec: spec.key)
def test_every_setting_is_saved_from_the_window(window, context, spec):
    value = CHOSEN[spec.key] if spec.kind is Kind.CHOICE else NEW_VALUES[spec.kind]
    _, _, show = window.editors[spec.key]
    show(value)  # as if the person edited it
    window._changed(spec.key)
    assert window.error.text() == ""
    assert saved(context)[spec.key] == (list(value) if isinstance(value, list) else value)


def test_settings_change_what_the_evaluator_sees(context):
    with context.session() as session:
        apply_setting(session, context.user_id, "quiet_hours", ("22:00", "07:00"), now=context.clock())
        apply_setting(session, context.user_id, "blocked_domains", ["Spam.example", " @news.example "],
                      now=context.clock())
        apply_setting(session, context.user_id, "timezone", "Europe/Berlin", now=context.clock())
    with context.session() as session:
        policy = load_policy_settings(session, context.user_id)
    assert policy.quiet_hours is not None and policy.timezone == "Europe/Berlin"
    assert policy.blocked_domains == frozenset({"spam.example", "news.example"})


@pytest.mark.parametrize("key, value, words", [
    ("timezone", "Mars/Olympus_Mons", "not a timezone"),
    ("quiet_hours", ("25:00", "07:00"), "HH:MM"),
    ("blocked_domains", ["not a domain"], "not a domain"),
    ("trusted_contacts", ["ann at partner"], "not an address or a domain"),
    ("sender_labels", ["shop.example Receipts"], "sender-or-domain = Label"),
    ("trust_tier", "god_mode", "Unknown trust tier"),
])
def test_bad_values_are_refused_in_words_and_nothing_changes(window, context, key, value, words):
    before = saved(context)
    _, _, show = window.editors[key]
    window._loading = True
    try:
        show(value)
    finally:
        window._loading = False
    window._save = lambda k, v: _apply(context, k, value)
    window._changed(key)
    assert words in window.error.text()
    assert saved(context) == before


def _apply(context, key, value):
    with context.session() as session:
        apply_setting(session, context.user_id, key, value, now=context.clock())


def test_choosing_a_tier_is_logged_as_the_persons_choice(context):
    _apply(context, "trust_tier", "high_autonomy")
    with context.session() as session:
        change = session.scalars(select(TierChangeRow)).one()
    assert (change.new_tier, change.by_person) == ("high_autonomy", True)


def test_unknown_setting_is_an_error(context):
    with pytest.raises(InputError):
        _apply(context, "colour", "blue")


def test_delete_all_my_data_asks_twice(window, monkeypatch):
    requested = []
    window.delete_all_requested.connect(lambda: requested.append(1))
    for answers, expected in (([False], []), ([True, False], []), ([True, True], [1])):
        replies = iter(answers)
        monkeypatch.setattr(window, "ask", lambda question, replies=replies: next(replies))
        window._confirm_delete()
        assert requested == expected


def test_erasing_removes_every_row_and_starts_fresh(context):
    with context.session() as session:
        record_health(session, context.user_id, Connector.GMAIL, HealthStatus.CONNECTED, at=context.clock())
        add_rule(session, context.user_id, conditions=[{"field": "kind", "operator": "eq", "value": "x"}],
                 effect="deny")
        session.add(DecisionLogEntry(user_id=context.user_id, action_kind="archive_email", target="m", allowed=True,
                                     requires_approval=False, confirmation="none", reason_code="auto_execute",
                                     message="ok", decided_by="default"))
        session.get(User, context.user_id).trust_tier = "suggest"
    with context.session() as session:
        counts = erase_person(session, context.user_id)
    assert counts["connector_health"] == 1 and counts["policy_rules"] == 1 and counts["decision_log"] == 1
    with context.engine.connect() as connection:
        for table in ("connector_health", "policy_rules", "decision_log", "tier_changes"):
            assert connection.scalar(text(f"SELECT count(*) FROM {table}")) == 0
    with context.session() as session:
        report = read_status(driver_connection(session), context.user_id, operator_paused=False, now=context.clock())
        assert report.trust_tier == "observer" and not report.user_paused
        assert session.scalar(select(func.count()).select_from(User)) == 1


def test_connectors_tab_shows_state_and_the_right_buttons(window, context):
    with context.session() as session:
        record_health(session, context.user_id, Connector.GMAIL, HealthStatus.NEEDS_REAUTH, at=context.clock(),
                      error_code="invalid_grant")
        report = read_status(driver_connection(session), context.user_id, operator_paused=False, now=context.clock())
    window.show_report(report)
    text_label, main, off = window.connector_rows[Connector.GMAIL]
    assert "needs reconnecting" in text_label.text() and "revoked or expired" in text_label.text()
    assert "needs_reauth" not in text_label.text() and "invalid_grant" not in text_label.text()
    assert main.text() == "Reconnect Gmail" and off.isEnabled()
    _, cal_main, cal_off = window.connector_rows[Connector.CALENDAR]
    assert cal_main.text() == "Connect Calendar" and not cal_off.isEnabled()
    assert "Gmail needs reconnecting" in window.banner.text() and not window.banner.isHidden()
    assert window.pause_banner.isHidden()
    with context.session() as session:
        from skytwin_desktop.store.users import pause

        pause(session, context.user_id, now=context.clock(), reason="Offsite")
        report = read_status(driver_connection(session), context.user_id, operator_paused=False, now=context.clock())
    window.show_report(report)
    assert not window.pause_banner.isHidden() and "Offsite" in window.pause_banner.text()
    assert not window.banner.isHidden(), "red and amber show together"
    actions = []
    window.connector_action.connect(lambda c, verb: actions.append((c, verb)))
    main.click()
    off.click()
    assert actions == [(Connector.GMAIL, "reconnect"), (Connector.GMAIL, "disconnect")]


@pytest.fixture
def rules_tab(qtbot, context):
    from skytwin_desktop.intents import Intents
    from skytwin_desktop.ui.rules_tab import RulesTab

    tab = RulesTab(Intents(context))
    qtbot.addWidget(tab)
    return tab


def fill(tab, monkeypatch, name, field, operator, value, effect):
    monkeypatch.setattr(tab, "open_dialog", lambda rule: (name, [{"field": field, "operator": operator,
                                                                  "value": value}], effect))


def test_rules_can_be_added_edited_reordered_and_deleted(rules_tab, monkeypatch, context):
    fill(rules_tab, monkeypatch, "No shops", "domain", "eq", "shop.example", "deny")
    rules_tab.buttons["add"].click()
    fill(rules_tab, monkeypatch, "Receipts", "param.label", "in", ["Receipts", "Bills"], "allow")
    rules_tab.buttons["add"].click()
    texts = [rules_tab.list.item(i).text() for i in range(rules_tab.list.count())]
    assert texts == ["No shops: if the sender's domain is shop.example → never do it",
                     "Receipts: if the action's label is one of Bills, Receipts → go ahead"]
    rules_tab.list.setCurrentRow(1)
    rules_tab.buttons["up"].click()
    assert rules_tab.list.item(0).text().startswith("Receipts") and rules_tab.selected()["name"] == "Receipts"
    fill(rules_tab, monkeypatch, "Receipts", "param.label", "eq", "Receipts", "require_approval")
    rules_tab.buttons["edit"].click()
    assert rules_tab.list.item(0).text() == "Receipts: if the action's label is Receipts → ask me first"
    with context.session() as session:
        policy = load_policy_settings(session, context.user_id)
    assert [r.name for r in policy.rules] == ["Receipts", "No shops"], "the evaluator sees the new order"
    rules_tab.list.setCurrentRow(0)
    rules_tab.buttons["delete"].click()
    assert rules_tab.list.count() == 1 and rules_tab.list.item(0).text().startswith("No shops")


def test_a_rule_the_evaluator_cannot_use_is_refused_in_words(rules_tab, monkeypatch):
    fill(rules_tab, monkeypatch, "Odd", "risk", "gt", "extreme", "deny")
    rules_tab.buttons["add"].click()
    assert "unknown risk tier" in rules_tab.error.text()
    assert rules_tab.list.count() == 0


def test_rule_dialog_keeps_every_condition(qtbot):
    from skytwin_desktop.ui.rules_tab import RuleDialog

    rule = {"id": 1, "name": "Trusted invites", "priority": 10, "effect": "allow",
            "conditions": [{"field": "kind", "operator": "eq", "value": "accept_invite"},
                           {"field": "domain", "operator": "in", "value": ["acme.example", "partner.example"]}]}
    dialog = RuleDialog(rule)
    qtbot.addWidget(dialog)
    assert dialog.result_rule() == ("Trusted invites", rule["conditions"], "allow"), "editing loses nothing"
    third = dialog.add_row(None)
    third.field.setCurrentText("risk")
    third.operator.setCurrentText("lte")
    third.value.setText("moderate")
    _name, conditions, _effect = dialog.result_rule()
    assert conditions[-1] == {"field": "risk", "operator": "lte", "value": "moderate"} and len(conditions) == 3
    dialog.remove_row(dialog.rows[0])
    assert [c["field"] for c in dialog.result_rule()[1]] == ["domain", "risk"]
    for row in list(dialog.rows):
        dialog.remove_row(row)
    assert len(dialog.rows) == 1 and not dialog.rows[0].remove.isEnabled(), "a rule keeps at least one condition"
