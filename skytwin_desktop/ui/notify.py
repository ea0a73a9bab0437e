"""Desktop notifications for the re-auth warning.

On Linux they go over D-Bus to the freedesktop notification service (with jeepney, which
marshals Notify's uint32 replaces_id and byte urgency cleanly), carry a Reconnect action, never
expire by themselves, and replace rather than stack. Elsewhere, or without a notification
service, Qt's tray balloon is the fallback. Clicks come back through `on_action`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)
APP_NAME = "SkyTwin Desktop"
RECONNECT = "reconnect"
OPEN_APPROVALS = "open-approvals"
_PATH = "/org/freedesktop/Notifications"
_NAME = "org.freedesktop.Notifications"
_TIMEOUT = 3.0


class DBusNotifier:
    """Talks to org.freedesktop.Notifications on the session bus. `on_action(key, tag)` is called
    from a listener thread: hand it to the GUI thread with a queued signal."""

    def __init__(self, on_action: Callable[[str, str], None], on_closed: Callable[[str], None]) -> None:
        from jeepney import DBusAddress
        from jeepney.io.blocking import open_dbus_connection

        self._address = DBusAddress(_PATH, bus_name=_NAME, interface=_NAME)
        self._send = open_dbus_connection(bus="SESSION")
        self._ids: dict[str, int] = {}  # tag (e.g. "reauth-gmail") -> server id, reused to replace
        self._on_action, self._on_closed = on_action, on_closed
        self._stop = threading.Event()
        self._listener = threading.Thread(target=self._listen, name="notification-listener", daemon=True)
        self._listener.start()

    @classmethod
    def connect(cls, on_action, on_closed) -> DBusNotifier | None:
        """A notifier, or None when there is no session bus or notification service."""
        try:
            notifier = cls(on_action, on_closed)
            notifier._call("GetServerInformation", "", ())
            return notifier
        except Exception as exc:  # no bus, no service, no jeepney: fall back quietly
            log.info("No desktop notification service (%s); using the tray's own messages", type(exc).__name__)
            return None

    def _call(self, method: str, signature: str, body: tuple):
        from jeepney import new_method_call

        reply = self._send.send_and_get_reply(new_method_call(self._address, method, signature, body),
                                              timeout=_TIMEOUT)
        return reply.body

    def show(self, tag: str, summary: str, body: str, *, actions: tuple[tuple[str, str], ...] = (),
             persistent: bool = True) -> None:
        """`persistent`: critical urgency and no expiry (a warning that stays until it is fixed);
        otherwise a normal notification the server may expire."""
        flat = [item for pair in actions for item in pair]
        hints = {"urgency": ("y", 2 if persistent else 1), "desktop-entry": ("s", "skytwin-desktop")}
        if persistent:
            hints["resident"] = ("b", True)
        icon = "dialog-warning" if persistent else "dialog-information"
        (server_id,) = self._call("Notify", "susssasa{sv}i",
                                  (APP_NAME, self._ids.get(tag, 0), icon, summary, body, flat, hints,
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
            except Exception as exc:
                log.info("Could not close a notification at exit (%s)", type(exc).__name__)
        self._stop.set()
        self._listener.join(timeout=2)
        self._send.close()

    def _tag(self, server_id: int) -> str | None:
        return next((tag for tag, known in self._ids.items() if known == server_id), None)

    def _listen(self) -> None:
        from jeepney import MatchRule, message_bus
        from jeepney.io.blocking import open_dbus_connection
        from jeepney.low_level import HeaderFields

        try:
            connection = open_dbus_connection(bus="SESSION")
        except Exception:
            return
        with connection:
            rule = MatchRule(type="signal", interface=_NAME, path=_PATH)
            connection.send_and_get_reply(message_bus.AddMatch(rule), timeout=_TIMEOUT)
            with connection.filter(rule) as queue:
                while not self._stop.is_set():
                    try:
                        message = connection.recv_until_filtered(queue, timeout=0.5)
                    except TimeoutError:
                        continue
                    except Exception:
                        return
                    member = message.header.fields.get(HeaderFields.member)
                    tag = self._tag(message.body[0]) if message.body else None
                    if tag is None:
                        continue  # someone else's notification
                    if member == "ActionInvoked":
                        self._on_action(message.body[1], tag)
                    elif member == "NotificationClosed":
                        self._ids.pop(tag, None)
                        self._on_closed(tag)
