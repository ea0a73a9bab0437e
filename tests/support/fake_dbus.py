"""A private D-Bus session bus for tests, and the shape every fake service on it shares: own a
well-known name and answer method calls on a thread until stopped."""

from __future__ import annotations

import shutil
import subprocess
import threading

from jeepney import HeaderFields, Message, MessageType, message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection


def start_private_bus() -> tuple[subprocess.Popen, str] | None:
    """A dbus-daemon of the test's own and its address, or None when dbus-daemon is not installed."""
    if shutil.which("dbus-daemon") is None:
        return None
    daemon = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    address = daemon.stdout.readline().strip()
    return daemon, address


class FakeService:
    """Subclasses name the bus name they own and answer each call in `answer`."""

    bus_name = ""

    def __init__(self, address: str) -> None:
        self.address = address
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        assert self._ready.wait(10), f"the fake {self.bus_name} did not start"

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def answer(self, connection: DBusConnection, message: Message, member: str) -> None:
        raise NotImplementedError

    def between_calls(self, connection: DBusConnection) -> None:
        """Room for sending signals the test asked for."""

    def _serve(self) -> None:
        connection = open_dbus_connection(self.address)
        with connection:
            connection.send_and_get_reply(message_bus.RequestName(self.bus_name), timeout=5)
            self._ready.set()
            while not self._stop.is_set():
                self.between_calls(connection)
                try:
                    message = connection.receive(timeout=0.1)
                except TimeoutError:
                    continue
                if message.header.message_type == MessageType.method_call:
                    self.answer(connection, message, message.header.fields.get(HeaderFields.member))
