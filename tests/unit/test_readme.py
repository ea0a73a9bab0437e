"""The README's promise: exactly two set-up commands, and CI runs the same test command."""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def setup_commands() -> list[str]:
    text = (REPO_ROOT / "README.md").read_text()
    section = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, re.S)]


def test_readme_has_exactly_two_setup_commands():
    commands = setup_commands()
    assert len(commands) == 2
    run, test = commands
    assert "skytwin-desktop" in run and "pytest" not in run
    assert "pytest" in test and "[test]" in test
    assert all("\n" not in command for command in commands)


def test_ci_runs_the_readme_test_command():
    ci = (REPO_ROOT / ".ci" / "run").read_text().splitlines()
    assert setup_commands()[1] in ci


def test_images_the_readme_shows_exist():
    text = (REPO_ROOT / "README.md").read_text()
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
        assert (REPO_ROOT / image).is_file(), image
