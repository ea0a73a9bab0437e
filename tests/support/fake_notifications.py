"""A freedesktop notification service for tests, on a private D-Bus session bus: it records
every Notify and CloseNotification exactly as marshalled, and can click an action. Like dunst and
KDE, it sends ActionInvoked and NotificationClosed only to the connection that called Notify
(a signal with a destination), never as a broadcast."""

from __future__ import annotations

import queue

from jeepney import DBusAddress, HeaderFields, new_method_return, new_signal

from tests.support.fake_dbus import FakeService

PATH, NAME = "/org/freedesktop/Notifications", "org.freedesktop.Notifications"

DUNST_CAPABILITIES = ["actions", "body", "body-hyperlinks", "icon-static", "synchronous", "private-synchronous",
                      "x-canonical-private-synchronous", "x-dunst-stack-tag", "body-markup"]
"""What dunst 1.9 answers to GetCapabilities (read from the real one): bodies are markup."""


class FakeNotificationService(FakeService):
    bus_name = NAME

    def __init__(self, address: str) -> None:
        self.notified: list[tuple] = []
        self.closed: list[int] = []
        self._next_id = 0
        self._owners: dict[int, str] = {}
        """Server id -> the unique bus name that called Notify for it."""
        self._outbox: queue.Queue = queue.Queue()
        self._emitter = DBusAddress(PATH, interface=NAME)
        super().__init__(address)

    def click(self, server_id: int, key: str) -> None:
        self._outbox.put(("ActionInvoked", "us", (server_id, key)))

    def _signal(self, member: str, signature: str, body: tuple):
        message = new_signal(self._emitter, member, signature, body)
        message.header.fields[HeaderFields.destination] = self._owners[body[0]]
        return message

    def between_calls(self, connection) -> None:
        while not self._outbox.empty():
            connection.send(self._signal(*self._outbox.get()))

    def answer(self, connection, message, member) -> None:
        if member == "GetServerInformation":
            connection.send(new_method_return(message, "ssss", ("fake", "skytwin-tests", "1", "1.2")))
        elif member == "GetCapabilities":
            connection.send(new_method_return(message, "as", (DUNST_CAPABILITIES,)))
        elif member == "Notify":
            replaces_id = message.body[1]
            if replaces_id == 0:
                self._next_id += 1
            server_id = replaces_id or self._next_id
            self._owners[server_id] = message.header.fields[HeaderFields.sender]
            self.notified.append((message.header.fields.get(HeaderFields.signature), message.body, server_id))
            connection.send(new_method_return(message, "u", (server_id,)))
        elif member == "CloseNotification":
            self.closed.append(message.body[0])
            connection.send(new_method_return(message, "", ()))
            connection.send(self._signal("NotificationClosed", "uu", (message.body[0], 3)))
