"""Desktop notifications for the re-auth warning.

On Linux they go over D-Bus to the freedesktop notification service (with jeepney, which
marshals Notify's uint32 replaces_id and byte urgency cleanly), carry a Reconnect action, never
expire by themselves, and replace rather than stack. Elsewhere, or without a notification
service, Qt's tray balloon is the fallback. Clicks come back through `on_action`, on the same
connection that sent the notification.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from html import escape
from typing import Any

from skytwin_desktop.domain import APP_TITLE

log = logging.getLogger(__name__)
RECONNECT = "reconnect"
OPEN_APPROVALS = "open-approvals"
_PATH = "/org/freedesktop/Notifications"
_NAME = "org.freedesktop.Notifications"
_TIMEOUT = 3.0


class DBusNotifier:
    """Talks to org.freedesktop.Notifications on the session bus, sending and hearing on one
    connection: dunst and KDE send ActionInvoked and NotificationClosed only to the connection that
    called Notify. `on_action(key, tag)` is called from a listener thread that sleeps until a
    signal comes: hand it to the GUI thread with a queued signal."""

    def __init__(self, on_action: Callable[[str, str], None], on_closed: Callable[[str], None]) -> None:
        from jeepney import DBusAddress, MatchRule, message_bus
        from jeepney.io.threading import DBusRouter, open_dbus_connection

        self._address = DBusAddress(_PATH, bus_name=_NAME, interface=_NAME)
        self._connection = open_dbus_connection(bus="SESSION")
        self._router = DBusRouter(self._connection)
        self._ids: dict[str, int] = {}  # tag (e.g. "reauth-gmail") -> server id, reused to replace
        self._markup = False
        """Whether the server reads bodies as markup (dunst, GNOME, KDE do): then a subject's `<`
        and `&` are escaped, so mail text is shown as written and never as links or formatting."""
        self._on_action, self._on_closed = on_action, on_closed
        self._signals: queue.Queue[Any] = queue.Queue()
        rule = MatchRule(type="signal", interface=_NAME, path=_PATH)
        self._filter = self._router.filter(rule, queue=self._signals)
        # Servers that broadcast their signals instead reach us through this match.
        self._router.send_and_get_reply(message_bus.AddMatch(rule), timeout=_TIMEOUT)
        self._listener = threading.Thread(target=self._listen, name="notification-listener", daemon=True)
        self._listener.start()

    @classmethod
    def connect(cls, on_action: Callable[[str, str], None], on_closed: Callable[[str], None]) -> DBusNotifier | None:
        """A notifier, or None when there is no session bus or notification service."""
        try:
            notifier = cls(on_action, on_closed)
        except Exception as exc:  # noqa: BLE001 - no bus, no jeepney: fall back quietly
            log.info("No desktop notification service (%s); using the tray's own messages", type(exc).__name__)
            return None
        try:
            notifier._call("GetServerInformation", "", ())
            (capabilities,) = notifier._call("GetCapabilities", "", ())
            notifier._markup = "body-markup" in capabilities
            return notifier
        except Exception as exc:  # noqa: BLE001 - no notification service on the bus
            log.info("No desktop notification service (%s); using the tray's own messages", type(exc).__name__)
            notifier._stop_listening()
            return None

    def _call(self, method: str, signature: str, body: tuple[Any, ...]) -> Any:
        from jeepney import new_method_call
        from jeepney.wrappers import unwrap_msg

        reply = self._router.send_and_get_reply(new_method_call(self._address, method, signature, body),
                                                timeout=_TIMEOUT)
        return unwrap_msg(reply)

    def show(self, tag: str, summary: str, body: str, *, actions: tuple[tuple[str, str], ...] = (),
             persistent: bool = True) -> None:
        """`persistent`: critical urgency and no expiry (a warning that stays until it is fixed);
        otherwise a normal notification the server may expire. The first action is also the
        notification's default (a click on its body)."""
        if self._markup:
            body = escape(body, quote=False)
        flat = [item for pair in actions for item in pair]
        if actions:
            flat += ["default", actions[0][1]]
        hints = {"urgency": ("y", 2 if persistent else 1), "desktop-entry": ("s", "skytwin-desktop")}
        if persistent:
            hints["resident"] = ("b", True)
        icon = "dialog-warning" if persistent else "dialog-information"
        (server_id,) = self._call("Notify", "susssasa{sv}i",
                                  (APP_TITLE, self._ids.get(tag, 0), icon, summary, body, flat, hints,
                                   0 if persistent else -1))
        self._ids[tag] = server_id

    def close(self, tag: str) -> None:
        server_id = self._ids.pop(tag, None)
        if server_id is not None:
            self._call("CloseNotification", "u", (server_id,))

    def shutdown(self) -> None:
        """Close our notifications first: their buttons would do nothing once the app is gone."""
        for tag in list(self._ids):
            try:
                self.close(tag)
            except Exception as exc:  # noqa: BLE001 - the bus may fail in any way at exit; logged
                log.info("Could not close a notification at exit (%s)", type(exc).__name__)
        self._stop_listening()

    def _stop_listening(self) -> None:
        self._signals.put(None)
        self._listener.join(timeout=2)
        self._filter.close()
        self._router.close()
        self._connection.close()

    def _tag(self, server_id: int) -> str | None:
        return next((tag for tag, known in self._ids.items() if known == server_id), None)

    def _listen(self) -> None:
        from jeepney.low_level import HeaderFields

        while (message := self._signals.get()) is not None:  # sleeps until a signal or shutdown
            member = message.header.fields.get(HeaderFields.member)
            tag = self._tag(message.body[0]) if message.body else None
            if tag is None:
                continue  # someone else's notification
            try:
                if member == "ActionInvoked":
                    self._on_action(message.body[1], tag)
                elif member == "NotificationClosed":
                    self._ids.pop(tag, None)
                    self._on_closed(tag)
            except Exception:  # a handler's fault must not end the listening
                log.exception("Handling a notification signal failed")
