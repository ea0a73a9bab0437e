"""Fixtures for tests whose every message is their own: an empty sandbox mailbox and calendar,
and the app's parts with Gmail and Calendar connected to it. A test module (or conftest) imports
them, and they stand in for the sample-filled ones of tests/conftest.py there."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from skytwin_desktop.clock import utc_now
from skytwin_desktop.composition import AppContext, build_context
from skytwin_desktop.config import Config
from skytwin_desktop.domain import Connector
from skytwin_desktop.sandbox import GoogleSandbox


@pytest.fixture
def sandbox() -> Iterator[GoogleSandbox]:
    """An empty mailbox and calendar, so every signal in a test is the test's own."""
    with GoogleSandbox(sample=False) as running:
        yield running


@pytest.fixture
def app(google: GoogleSandbox) -> Iterator[AppContext]:
    context = build_context(Config.from_env(), clock=utc_now)
    context.connectors.connect(Connector.GMAIL)
    context.connectors.connect(Connector.CALENDAR)
    yield context
    context.close()
