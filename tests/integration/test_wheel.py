"""The built wheel carries migrations and resources, installs into a fresh venv and runs.

Offline on purpose (tests talk to no registry): the wheel goes into a brand-new venv with
--no-index, and that venv borrows the already-installed dependencies through a .pth line.
`.ci/run` additionally installs the wheel with its dependencies from the registry.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # starts processes

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-index", "--no-build-isolation",
         "--quiet", "-w", str(out), str(REPO_ROOT)],
        check=True, timeout=300,
    )
    (built,) = out.glob("skytwin_desktop-*.whl")
    return built


def test_wheel_contains_migrations_resources_and_the_command(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "skytwin_desktop/migrations/env.py" in names
    assert "skytwin_desktop/migrations/script.py.mako" in names
    assert any(n.startswith("skytwin_desktop/migrations/versions/0001_") for n in names)
    assert "skytwin_desktop/resources/icons/listening.svg" in names
    assert "skytwin_desktop/resources/icons/hicolor/48x48/apps/skytwin-desktop.png" in names, "the launcher icon"
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "skytwin-desktop = skytwin_desktop.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_wheel_installs_and_runs_in_a_fresh_venv(wheel: Path, tmp_path: Path):
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
                   check=True, timeout=300)
    fresh_site = Path(subprocess.check_output(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip())
    (fresh_site / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "SKYTWIN_DATA_DIR": str(tmp_path / "data")}
    where = subprocess.run([str(python), "-c", "import skytwin_desktop; print(skytwin_desktop.__file__)"],
                           env=env, cwd=tmp_path, capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()).is_relative_to(venv), "must run the installed wheel, not the source tree"

    done = subprocess.run([str(venv / "bin" / "skytwin-desktop"), "status", "--json"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["user"]["trust_tier"] == "observer"
    assert (tmp_path / "data" / "skytwin.db").is_file()
    assert os.stat(tmp_path / "data" / "skytwin.db").st_mode & 0o077 == 0
