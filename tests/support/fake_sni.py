"""A StatusNotifierWatcher for tests, on a private D-Bus session bus: what a desktop's SNI tray
host offers. It records the items that register, and reads an item's properties and menu the
way a host does (a virtual X screen supplies the display Qt's xcb platform needs)."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

from jeepney import DBusAddress, Properties, new_method_call, new_method_return
from jeepney.io.blocking import open_dbus_connection

from tests.support.fake_dbus import FakeService

WATCHER = "org.kde.StatusNotifierWatcher"
ITEM = "org.kde.StatusNotifierItem"


def start_xvfb() -> tuple[subprocess.Popen, str] | None:
    """A virtual X screen on a free display number, or None when Xvfb is not installed."""
    if shutil.which("Xvfb") is None:
        return None
    server = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", "800x600x24", "-nolisten", "tcp"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    number = server.stdout.readline().strip()
    return server, f":{number}"


class FakeWatcher(FakeService):
    bus_name = WATCHER

    def __init__(self, address: str) -> None:
        self.items: list[str] = []
        super().__init__(address)
        self._client = open_dbus_connection(address)

    def stop(self) -> None:
        super().stop()
        self._client.close()

    def item_property(self, name: str) -> Any:
        (value,) = self._client.send_and_get_reply(
            Properties(DBusAddress("/StatusNotifierItem", bus_name=self.items[0], interface=ITEM)).get(name),
            timeout=5).body
        return value[1]

    def menu_labels(self) -> list[str]:
        """The item's menu as a host shows it (com.canonical.dbusmenu), mnemonics removed."""
        menu = self.item_property("Menu")
        reply = self._client.send_and_get_reply(new_method_call(
            DBusAddress(menu, bus_name=self.items[0], interface="com.canonical.dbusmenu"), "GetLayout", "iias",
            (0, -1, [])), timeout=5)
        labels: list[str] = []

        def walk(node: tuple) -> None:
            _id, properties, children = node
            if "label" in properties:
                labels.append(properties["label"][1].replace("_", ""))
            for child in children:
                walk(child[1])

        walk(reply.body[1])
        return labels

    def answer(self, connection, message, member) -> None:
        if member == "RegisterStatusNotifierItem":
            self.items.append(message.body[0])
            connection.send(new_method_return(message))
        elif member == "Get":
            known = {"IsStatusNotifierHostRegistered": ("b", True), "ProtocolVersion": ("i", 0),
                     "RegisteredStatusNotifierItems": ("as", self.items)}
            connection.send(new_method_return(message, "v", (known.get(message.body[1], ("b", False)),)))
        else:
            connection.send(new_method_return(message))
