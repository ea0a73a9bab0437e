"""The fault suite's shared set-up: an empty sandbox mailbox and calendar (every message in a
test is the test's own) and the app's parts connected to it."""

from __future__ import annotations

from tests.support import empty_google

sandbox, app = empty_google.sandbox, empty_google.app  # fixtures for every test here
