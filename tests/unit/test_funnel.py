"""The executor funnel and the decision log: nothing runs without a logged decision that allows
it (or the person's approval), and no connector write happens outside the funnel."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import func, select

from skytwin_desktop.domain import Confirmation
from skytwin_desktop.policy import Check, Decision
from skytwin_desktop.store.models import DecisionLogEntry
from skytwin_desktop.store.policy import load_policy_settings
from skytwin_desktop.twin.executor import (
    ApprovalGrant,
    ExecutionRefused,
    Executor,
    connector_write,
    issue_grant,
)
from skytwin_desktop.twin.gate import LoggedDecision
from tests.policy_helpers import action, risk

PACKAGE = Path(__file__).resolve().parents[2] / "skytwin_desktop"


class FakeMailbox:
    """A connector double whose write method is guarded exactly as real connectors' are."""

    def __init__(self) -> None:
        self.archived: list[str] = []

    @connector_write
    def archive(self, message_id: str) -> str:
        self.archived.append(message_id)
        return "archived"


@pytest.fixture
def mailbox() -> FakeMailbox:
    return FakeMailbox()


@pytest.fixture
def executor(mailbox: FakeMailbox) -> Executor:
    return Executor({"archive_email": lambda act: mailbox.archive(act.target),
                     "send_reply": lambda act: mailbox.archive(act.target)})


def decide(context, act, tier="high_autonomy"):
    with context.session() as session:
        return context.gate.decide(session, context.user_id, act,
                                   settings=load_policy_settings(session, context.user_id),
                                   trust_tier=tier, risk=risk(), now=context.clock())


def test_an_allowed_decision_executes_through_the_funnel(context, executor, mailbox):
    act = action()
    logged = decide(context, act)
    assert logged.decision.auto_execute
    assert executor.execute(act, logged) == "archived"
    assert mailbox.archived == ["msg-1"]


def test_approval_required_without_a_grant_is_refused(context, executor, mailbox):
    act = action()
    logged = decide(context, act, tier="observer")
    with pytest.raises(ExecutionRefused, match="approval"):
        executor.execute(act, logged)
    assert mailbox.archived == []
    assert executor.execute(act, logged, issue_grant(1, act.key)) == "archived"


def test_a_grant_for_another_action_is_refused(context, executor, mailbox):
    act = action()
    logged = decide(context, act, tier="observer")
    with pytest.raises(ExecutionRefused, match="another action"):
        executor.execute(act, logged, issue_grant(1, "sig-2:archive_email"))
    assert mailbox.archived == []


def test_a_deny_is_refused_even_with_a_grant(context, executor, mailbox):
    act = action(spend=3.0)
    logged = decide(context, act)
    assert not logged.decision.allowed
    with pytest.raises(ExecutionRefused, match="denied"):
        executor.execute(act, logged, issue_grant(1, act.key))
    assert mailbox.archived == []


def test_a_decision_for_another_action_is_refused(context, executor, mailbox):
    logged = decide(context, action())
    with pytest.raises(ExecutionRefused):
        executor.execute(action(key="sig-9:archive_email"), logged)
    assert mailbox.archived == []


def test_connector_writes_outside_the_funnel_are_refused(mailbox):
    with pytest.raises(ExecutionRefused, match="only through the executor"):
        mailbox.archive("msg-1")
    assert mailbox.archived == []


def test_decisions_and_grants_cannot_be_made_by_hand():
    decision = Decision(True, False, Confirmation.NONE, "auto_execute", "ok", Check.DEFAULT)
    with pytest.raises(TypeError):
        LoggedDecision(decision, 1, "k", object())
    with pytest.raises(TypeError):
        ApprovalGrant(1, "k", object())


def test_every_decision_lands_in_the_log(context):
    acts = [action(), action("send_reply", reversible=False), action(spend=1.0), action("run_shell")]
    logged = [decide(context, act) for act in acts]
    with context.session() as session:
        rows = session.scalars(select(DecisionLogEntry).order_by(DecisionLogEntry.id)).all()
    assert [row.id for row in rows] == [item.log_id for item in logged]
    for row, item in zip(rows, logged, strict=True):
        assert (row.reason_code, row.decided_by, row.allowed, row.requires_approval, row.confirmation) == (
            item.decision.reason_code, item.decision.decided_by.value, item.decision.allowed,
            item.decision.requires_approval, item.decision.confirmation.value)
        assert row.message


def test_a_failing_evaluation_is_a_logged_deny(context, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(context.gate.evaluator, "evaluate", explode)
    logged = decide(context, action())
    assert not logged.decision.allowed and logged.decision.reason_code == "evaluation_failed"
    with context.session() as session:
        assert session.scalar(select(func.count()).select_from(DecisionLogEntry)) == 1


# --- Static proof over the real code: what must only happen in one place happens only there. ---

def calls_in_package(names: set[str]) -> dict[str, list[str]]:
    """Every call `x.name(...)` or `name(...)` to one of `names`, by module path."""
    found: dict[str, list[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func_node = node.func
                name = func_node.attr if isinstance(func_node, ast.Attribute) else getattr(func_node, "id", None)
                if name in names:
                    found.setdefault(str(path.relative_to(PACKAGE)), []).append(f"{name}:{node.lineno}")
    return found


def connector_write_methods() -> set[str]:
    """Names of every function decorated with @connector_write in the package."""
    names = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for decorator in node.decorator_list:
                    if getattr(decorator, "id", getattr(decorator, "attr", None)) == "connector_write":
                        names.add(node.name)
    return names


HANDLER_MODULES = {"twin/steps.py"}
"""The action handlers the executor dispatches to: the only code that calls connector writes."""


def test_connector_write_methods_are_called_only_from_the_handlers():
    writes = connector_write_methods()
    callers = calls_in_package(writes) if writes else {}
    assert set(callers) <= HANDLER_MODULES, callers


def test_only_the_gate_evaluates_and_makes_logged_decisions():
    assert set(calls_in_package({"evaluate"})) <= {"twin/gate.py"}
    assert set(calls_in_package({"LoggedDecision"})) == {"twin/gate.py"}
    assert set(calls_in_package({"ApprovalGrant"})) == {"twin/executor.py"}
    assert set(calls_in_package({"issue_grant"})) <= {"twin/approving.py"}


def test_the_scanner_finds_a_violation(tmp_path: Path, monkeypatch):
    """The static checks above are only worth something if they can see a bad call."""
    import tests.unit.test_funnel as module

    (tmp_path / "twin").mkdir()
    (tmp_path / "twin" / "sneaky.py").write_text(
        "from x import connector_write\n"
        "class C:\n    @connector_write\n    def modify(self): pass\n"
        "def bypass(c):\n    c.modify()\n    evaluator.evaluate(1, 2, 3, 4, 5)\n"
    )
    monkeypatch.setattr(module, "PACKAGE", tmp_path)
    assert module.connector_write_methods() == {"modify"}
    assert module.calls_in_package({"modify"}) == {"twin/sneaky.py": ["modify:6"]}
    assert "twin/sneaky.py" in module.calls_in_package({"evaluate"})
