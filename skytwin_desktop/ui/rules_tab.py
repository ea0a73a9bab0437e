"""The Rules tab: the person's own policy rules, in the order they are checked, with add, edit,
delete and reorder. A rule the evaluator could not use is refused here, in words."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from skytwin_desktop import words
from skytwin_desktop.policy.rules import FIELDS, Operator
from skytwin_desktop.ui.widgets import named, text_label

EFFECT_LABELS = words.EFFECT
_LIST_OPERATORS = {Operator.IN.value, Operator.NOT_IN.value}


class RuleStore(Protocol):
    def rules(self) -> list[dict[str, Any]]: ...
    def save_rule(self, rule_id: int | None, name: str, conditions: list[dict[str, Any]], effect: str) -> None: ...
    def delete_rule(self, rule_id: int) -> None: ...
    def move_rule(self, rule_id: int, steps: int) -> None: ...


def describe(rule: dict[str, Any]) -> str:
    conditions = " and ".join(words.rule_condition(c["field"], c["operator"], c["value"]) for c in rule["conditions"])
    name = f"{rule['name']}: " if rule["name"] else ""
    return f"{name}if {conditions} → {words.effect(rule['effect'])}"


class ConditionRow(QWidget):
    """One `field operator value` line of a rule."""

    def __init__(self, condition: dict[str, Any] | None = None) -> None:
        super().__init__()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.field = named(QComboBox(), "rule-field")
        self.field.setEditable(True)  # param.<name> needs typing
        self.field.addItems([f for f in FIELDS if f != "param.<name>"])
        self.field.setToolTip("Any action field, risk or risk.<dimension>, or param.<name>")
        self.operator = named(QComboBox(), "rule-operator")
        self.operator.addItems([op.value for op in Operator])
        self.value = named(QLineEdit(), "rule-value")
        self.value.setPlaceholderText("for in / not_in: values separated by commas")
        self.remove = named(QPushButton("Remove"), "rule-remove-condition")
        for widget in (self.field, self.operator, self.value, self.remove):
            row.addWidget(widget)
        if condition:
            self.field.setCurrentText(condition["field"])
            self.operator.setCurrentText(condition["operator"])
            value = condition["value"]
            self.value.setText(", ".join(map(str, value)) if isinstance(value, list) else str(value))

    def condition(self) -> dict[str, Any]:
        operator = self.operator.currentText()
        raw = self.value.text().strip()
        value: Any = [part.strip() for part in raw.split(",") if part.strip()] if operator in _LIST_OPERATORS else raw
        return {"field": self.field.currentText().strip(), "operator": operator, "value": value}


class RuleDialog(QDialog):
    """A rule: a name, every condition that must hold, and what then happens."""

    def __init__(self, rule: dict[str, Any] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Rule")
        form = QFormLayout(self)
        self.name = named(QLineEdit(), "rule-name")
        self.conditions_box = QVBoxLayout()
        self.rows: list[ConditionRow] = []
        add = named(QPushButton("Add a &condition"), "rule-add-condition")
        add.clicked.connect(lambda: self.add_row(None))
        self.effect = named(QComboBox(), "rule-effect")
        for value, label in EFFECT_LABELS.items():
            self.effect.addItem(label, value)
        form.addRow("&Name", self.name)
        form.addRow("If all of", self.conditions_box)
        form.addRow("", add)
        form.addRow("&Then", self.effect)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        for condition in (rule or {}).get("conditions") or [None]:
            self.add_row(condition)
        if rule:
            self.name.setText(rule["name"])
            self.effect.setCurrentIndex(self.effect.findData(rule["effect"]))

    def add_row(self, condition: dict[str, Any] | None) -> ConditionRow:
        row = ConditionRow(condition)
        row.remove.clicked.connect(lambda: self.remove_row(row))
        self.rows.append(row)
        self.conditions_box.addWidget(row)
        self._update_remove_buttons()
        return row

    def remove_row(self, row: ConditionRow) -> None:
        if len(self.rows) > 1:  # a rule needs at least one condition
            self.rows.remove(row)
            self.conditions_box.removeWidget(row)
            row.setParent(None)
        self._update_remove_buttons()

    def _update_remove_buttons(self) -> None:
        for row in self.rows:
            row.remove.setEnabled(len(self.rows) > 1)

    def result_rule(self) -> tuple[str, list[dict[str, Any]], str]:
        return self.name.text().strip(), [row.condition() for row in self.rows], self.effect.currentData()


class RulesTab(QWidget):
    def __init__(self, store: RuleStore) -> None:
        super().__init__()
        self.store = store
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Your rules are checked in this order, after the built-in ones that always apply."))
        self.list = named(QListWidget(), "rules")
        self.list.setWordWrap(True)
        layout.addWidget(self.list)
        row = QHBoxLayout()
        self.buttons = {}
        for key, label in (("add", "&Add…"), ("edit", "&Edit…"), ("delete", "Re&move"), ("up", "Move &up"),
                           ("down", "Move do&wn")):
            button = named(QPushButton(label), f"rule-{key}")
            row.addWidget(button)
            self.buttons[key] = button
        layout.addLayout(row)
        self.error = text_label(objectName="rule-error")
        self.error.setStyleSheet("color:#b91c1c;")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        self.buttons["add"].clicked.connect(lambda: self.edit(None))
        self.buttons["edit"].clicked.connect(lambda: self.edit(self.selected()))
        self.buttons["delete"].clicked.connect(self.delete_selected)
        self.buttons["up"].clicked.connect(lambda: self.move_selected(-1))
        self.buttons["down"].clicked.connect(lambda: self.move_selected(1))
        self.list.itemDoubleClicked.connect(lambda _item: self.edit(self.selected()))
        self.reload()

    def reload(self, select: int | None = None) -> None:
        self.list.clear()
        for rule in self.store.rules():
            item = QListWidgetItem(describe(rule))
            item.setData(256, rule)
            self.list.addItem(item)
            if rule["id"] == select:
                self.list.setCurrentItem(item)

    def selected(self) -> dict[str, Any] | None:
        item = self.list.currentItem()
        return item.data(256) if item else None

    def selected_id(self) -> int | None:
        rule = self.selected()
        return rule["id"] if rule else None

    def open_dialog(self, rule: dict[str, Any] | None) -> tuple[str, list[dict[str, Any]], str] | None:
        """A separate method so tests can fill the dialog in."""
        dialog = RuleDialog(rule, self)
        return dialog.result_rule() if dialog.exec() == QDialog.DialogCode.Accepted else None

    def edit(self, rule: dict[str, Any] | None) -> None:
        answer = self.open_dialog(rule)
        if answer is not None:
            rule_id = rule["id"] if rule else None
            self._do(lambda: self.store.save_rule(rule_id, *answer), select=rule_id)

    def delete_selected(self) -> None:
        rule_id = self.selected_id()
        if rule_id is not None:
            self._do(lambda: self.store.delete_rule(rule_id))

    def move_selected(self, steps: int) -> None:
        rule_id = self.selected_id()
        if rule_id is not None:
            self._do(lambda: self.store.move_rule(rule_id, steps), select=rule_id)

    def _do(self, change: Callable[[], object], select: int | None = None) -> None:
        try:
            change()
            self.error.setText("")
        except Exception as exc:  # noqa: BLE001 - shown in words; nothing changed
            self.error.setText(str(exc))
        self.reload(select=select)
