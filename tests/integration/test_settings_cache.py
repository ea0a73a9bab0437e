"""Settings reach the evaluator when they change, from any process, without reloading per decision."""

from __future__ import annotations

import subprocess
import sys

import pytest

from skytwin_desktop.store import policy as store_policy
from skytwin_desktop.store.models import User
from skytwin_desktop.store.policy import SettingsCache, add_rule
from skytwin_desktop.store.users import pause, resume
from tests.policy_helpers import action, risk

pytestmark = pytest.mark.slow  # starts processes


def test_reloads_only_when_something_changed(context, monkeypatch):
    loads = []
    real = store_policy.load_policy_settings
    monkeypatch.setattr(store_policy, "load_policy_settings", lambda s, u: loads.append(1) or real(s, u))
    cache = SettingsCache(context.user_id)
    with context.session() as session:
        first = cache.current(session)
        assert cache.current(session) is first
    assert len(loads) == 1

    changes = [
        lambda s: pause(s, context.user_id, now=context.clock(), reason="away"),
        lambda s: resume(s, context.user_id),
        lambda s: add_rule(s, context.user_id, conditions=[{"field": "kind", "operator": "eq", "value": "x"}],
                           effect="deny"),
        lambda s: setattr(s.get(User, context.user_id), "trust_tier", "suggest"),
        lambda s: setattr(s.get(User, context.user_id), "timezone", "Asia/Tokyo"),
    ]
    for n, change in enumerate(changes, start=2):
        with context.session() as session:
            change(session)
        with context.session() as session:
            cache.current(session)
            cache.current(session)
        assert len(loads) == n


def test_a_pause_from_another_process_applies_to_the_next_decision(context, data_dir):
    cache = SettingsCache(context.user_id)

    def next_decision():
        with context.session() as session:
            return context.gate.decide(session, context.user_id, action(), settings=cache.current(session),
                                       trust_tier="high_autonomy", risk=risk(), now=context.clock())

    assert next_decision().decision.auto_execute
    done = subprocess.run([sys.executable, "-m", "skytwin_desktop", "pause", "--reason", "from the CLI"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    decision = next_decision().decision
    assert (decision.requires_approval, decision.reason_code) == (True, "user_paused")
    assert "from the CLI" in decision.message
