"""The re-auth notification over real D-Bus: Notify marshalled as the spec wants (uint32
replaces_id, byte urgency, no expiry, a Reconnect action), replaced rather than stacked, closed by
the app, and a click on Reconnect delivered back."""

from __future__ import annotations

import threading

import pytest

from skytwin_desktop.ui.notify import OPEN_APPROVALS, RECONNECT, DBusNotifier
from tests.support.fake_notifications import FakeNotificationService

pytestmark = pytest.mark.slow  # starts processes


@pytest.fixture
def bus(monkeypatch, private_bus):
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", private_bus)
    service = FakeNotificationService(private_bus)
    yield service
    service.stop()


def test_notify_replace_close_and_click(bus):
    clicks, clicked = [], threading.Event()

    def on_action(key, tag):
        clicks.append((key, tag))
        clicked.set()

    notifier = DBusNotifier.connect(on_action=on_action, on_closed=lambda tag: None)
    assert notifier is not None
    try:
        notifier.show("reauth-gmail", "Gmail needs reconnecting", "Google access was revoked or expired.",
                      actions=((RECONNECT, "Reconnect Gmail"),))
        notifier.show("reauth-gmail", "Gmail needs reconnecting", "Still disconnected.",
                      actions=((RECONNECT, "Reconnect Gmail"),))
        (signature, first, first_id), (_, second, second_id) = bus.notified
        assert signature == "susssasa{sv}i"
        app, replaces, _icon, summary, _body, actions, hints, expire = first
        assert (app, replaces, summary) == ("SkyTwin Desktop", 0, "Gmail needs reconnecting")
        assert actions == ["reconnect", "Reconnect Gmail", "default", "Reconnect Gmail"], "a click on the body too"
        assert hints["urgency"] == ("y", 2) and expire == 0, "critical and never expiring by itself"
        assert second[1] == first_id and second_id == first_id, "the update replaces, never stacks"
        bus.click(first_id, RECONNECT)
        assert clicked.wait(10)
        assert clicks == [(RECONNECT, "reauth-gmail")]
        notifier.close("reauth-gmail")
        assert bus.closed == [first_id]
    finally:
        notifier.shutdown()


def test_no_notification_service_means_the_tray_fallback(monkeypatch, tmp_path):
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus-here")
    assert DBusNotifier.connect(on_action=lambda *a: None, on_closed=lambda tag: None) is None


def test_batch_notice_is_ordinary_and_quitting_closes_what_is_still_shown(bus):
    notifier = DBusNotifier.connect(on_action=lambda *a: None, on_closed=lambda tag: None)
    assert notifier is not None
    notifier.show("reauth-gmail", "Gmail needs reconnecting", "Revoked.", actions=((RECONNECT, "Reconnect Gmail"),))
    notifier.show("approvals", "2 actions wait for your approval", "One\nTwo",
                  actions=((OPEN_APPROVALS, "Open Approvals"),), persistent=False)
    (_, _, warning_id), (_, batch, batch_id) = bus.notified
    hints, expire = batch[6], batch[7]
    assert hints["urgency"] == ("y", 1) and "resident" not in hints and expire == -1, "normal, may expire"
    notifier.shutdown()
    assert sorted(bus.closed) == sorted([warning_id, batch_id]), "no dead Reconnect button left behind"


def test_mail_text_in_a_body_is_escaped_for_servers_that_read_markup(bus):
    """dunst, GNOME and KDE read bodies as markup: a subject's tags must show as written, not
    become a link or formatting that could pass for SkyTwin's own words."""
    notifier = DBusNotifier.connect(on_action=lambda *a: None, on_closed=lambda tag: None)
    assert notifier is not None
    notifier.show("approvals", "An action waits for your approval",
                  "Archive: <b>Pay now</b> & <a href='http://127.0.0.1:9/'>confirm</a>", persistent=False)
    (_, body, _), = bus.notified
    assert body[4] == "Archive: &lt;b&gt;Pay now&lt;/b&gt; &amp; &lt;a href='http://127.0.0.1:9/'&gt;confirm&lt;/a&gt;"
    notifier.shutdown()
