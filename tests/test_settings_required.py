"""`settings` is a required argument of evaluate: leaving it out fails the type check, not only at run time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CALL = """
from datetime import UTC, datetime
from skytwin_desktop.policy import PolicyEvaluator, PolicySettings, ProposedAction, RiskAssessment
evaluator = PolicyEvaluator(operator_paused=False)
evaluator.evaluate(ProposedAction("archive_email", "m1"), {settings}trust_tier="observer",
                   risk=RiskAssessment(), now=datetime.now(UTC))
"""


def type_check(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    snippet = tmp_path / "caller.py"
    snippet.write_text(source)
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--follow-imports=silent", "--no-error-summary",
         "--cache-dir", str(tmp_path / "mypy-cache"), str(snippet)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )


def test_leaving_out_settings_fails_the_type_check(tmp_path: Path):
    without = type_check(tmp_path, CALL.format(settings=""))
    assert without.returncode == 1
    assert 'Missing positional argument "settings"' in without.stdout
    passing_none = type_check(tmp_path, CALL.format(settings="None, "))
    assert passing_none.returncode == 1 and "incompatible type" in passing_none.stdout
    with_settings = type_check(tmp_path, CALL.format(settings="PolicySettings(), "))
    assert with_settings.returncode == 0, with_settings.stdout
