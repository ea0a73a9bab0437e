"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fake_dbus import start_private_bus


@pytest.fixture
def private_bus() -> Iterator[str]:
    """The address of a private D-Bus session daemon of its own, stopped after the test."""
    started = start_private_bus()
    if started is None:
        pytest.skip("needs dbus-daemon (Debian package dbus-daemon; .ci/run installs it)")
    daemon, address = started
    yield address
    daemon.terminate()
    daemon.wait(timeout=10)
