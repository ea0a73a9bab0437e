"""A freedesktop notification service for tests, on a private D-Bus session bus: it records
every Notify and CloseNotification exactly as marshalled, and can click an action."""

from __future__ import annotations

import queue
import shutil
import subprocess
import threading

from jeepney import DBusAddress, HeaderFields, MessageType, message_bus, new_method_return, new_signal
from jeepney.io.blocking import open_dbus_connection

PATH, NAME = "/org/freedesktop/Notifications", "org.freedesktop.Notifications"


def start_private_bus() -> tuple[subprocess.Popen, str] | None:
    if shutil.which("dbus-daemon") is None:
        return None
    daemon = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    address = daemon.stdout.readline().strip()
    return daemon, address


class FakeNotificationService:
    def __init__(self, address: str) -> None:
        self.address = address
        self.notified: list[tuple] = []
        self.closed: list[int] = []
        self._next_id = 0
        self._outbox: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        assert self._ready.wait(10), "the fake notification service did not start"

    def click(self, server_id: int, key: str) -> None:
        self._outbox.put(("ActionInvoked", "us", (server_id, key)))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        connection = open_dbus_connection(self.address)
        with connection:
            connection.send_and_get_reply(message_bus.RequestName(NAME), timeout=5)
            self._ready.set()
            emitter = DBusAddress(PATH, interface=NAME)
            while not self._stop.is_set():
                while not self._outbox.empty():
                    member, signature, body = self._outbox.get()
                    connection.send(new_signal(emitter, member, signature, body))
                try:
                    message = connection.receive(timeout=0.1)
                except TimeoutError:
                    continue
                if message.header.message_type != MessageType.method_call:
                    continue
                member = message.header.fields.get(HeaderFields.member)
                if member == "GetServerInformation":
                    connection.send(new_method_return(message, "ssss", ("fake", "skytwin-tests", "1", "1.2")))
                elif member == "GetCapabilities":
                    connection.send(new_method_return(message, "as", (["actions", "body", "persistence"],)))
                elif member == "Notify":
                    replaces_id = message.body[1]
                    if replaces_id == 0:
                        self._next_id += 1
                    server_id = replaces_id or self._next_id
                    self.notified.append((message.header.fields.get(HeaderFields.signature), message.body, server_id))
                    connection.send(new_method_return(message, "u", (server_id,)))
                elif member == "CloseNotification":
                    self.closed.append(message.body[0])
                    connection.send(new_method_return(message, "", ()))
                    connection.send(new_signal(emitter, "NotificationClosed", "uu", (message.body[0], 3)))
