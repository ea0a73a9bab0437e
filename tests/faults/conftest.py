"""The fault suite's shared set-up: an empty sandbox mailbox and calendar (every message in a
test is the test's own) and the app's parts connected to it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from skytwin_desktop.clock import utc_now
from skytwin_desktop.composition import build_context
from skytwin_desktop.config import Config
from skytwin_desktop.domain import Connector
from skytwin_desktop.sandbox import GoogleSandbox


@pytest.fixture
def sandbox():
    with GoogleSandbox(sample=False) as running:
        yield running


@pytest.fixture
def app(google):
    context = build_context(Config.from_env(), clock=utc_now)
    context.connectors.connect(Connector.GMAIL)
    context.connectors.connect(Connector.CALENDAR)
    yield context
    context.close()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "skytwin_desktop", *args], capture_output=True, text=True,
                          timeout=120)
