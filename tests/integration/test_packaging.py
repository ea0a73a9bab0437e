"""What packaging/ ships: the launcher entry, the AppStream metainfo, the icons, and a PyInstaller
build that runs. The validators are the freedesktop tools distributions run; a test whose tool is
missing is skipped."""

from __future__ import annotations

import importlib.util
import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

from skytwin_desktop import __version__
from skytwin_desktop.desktop_entry import APP_ID, DESKTOP_FILE, ICON_SIZES, desktop_entry_text

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGING = REPO_ROOT / "packaging"
METAINFO = PACKAGING / f"{APP_ID}.metainfo.xml"
_spec = importlib.util.spec_from_file_location("skytwin_packaging_generate", PACKAGING / "generate.py")
assert _spec is not None and _spec.loader is not None
generate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(generate)


def tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (Debian: {package})")
    return found


def test_the_packaged_entry_is_the_apps_template():
    assert (PACKAGING / DESKTOP_FILE).read_text() == desktop_entry_text(["skytwin-desktop"]), (
        "regenerate it with: python packaging/generate.py")


@pytest.mark.slow
def test_the_packaged_entry_passes_desktop_file_validate():
    done = subprocess.run([tool("desktop-file-validate", "desktop-file-utils"), str(PACKAGING / DESKTOP_FILE)],
                          check=False, capture_output=True, text=True)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


@pytest.mark.slow
def test_the_metainfo_passes_appstream_validation_without_a_single_hint():
    done = subprocess.run([tool("appstreamcli", "appstream"), "validate", "--no-net", "--strict", "--pedantic",
                           str(METAINFO)], check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pedantic" not in done.stdout and "warning" not in done.stdout, done.stdout


@pytest.mark.slow
def test_an_installed_tree_validates_with_its_launcher_and_icons(tmp_path: Path):
    """As a distribution package lays it out: the metainfo's launchable must resolve."""
    share = tmp_path / "usr" / "share"
    for source, target in [(METAINFO, share / "metainfo" / METAINFO.name),
                           (PACKAGING / DESKTOP_FILE, share / "applications" / DESKTOP_FILE),
                           (REPO_ROOT / "resources" / "icons" / "skytwin.svg",
                            share / "icons" / "hicolor" / "scalable" / "apps" / "skytwin-desktop.svg"),
                           *((generate.png_path(size), generate.png_path(size, share / "icons" / "hicolor"))
                             for size in ICON_SIZES)]:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    appstreamcli = tool("appstreamcli", "appstream")

    done = subprocess.run([appstreamcli, "validate-tree", "--no-net", "--strict", str(tmp_path)],
                          check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr

    (share / "applications" / DESKTOP_FILE).unlink()
    done = subprocess.run([appstreamcli, "validate-tree", "--no-net", "--strict", str(tmp_path)],
                          check=False, capture_output=True, text=True)
    assert done.returncode != 0 and "desktop-file-not-found" in done.stdout


def test_the_metainfo_names_this_app_and_version():
    component = ElementTree.parse(METAINFO).getroot()
    assert component.findtext("id") == APP_ID
    assert component.findtext("launchable[@type='desktop-id']") == DESKTOP_FILE
    assert component.findtext("provides/binary") == "skytwin-desktop"
    assert component.findtext("project_license") == "MIT"
    releases = component.findall("releases/release")
    assert releases and releases[0].get("version") == __version__, "add a <release> for the new version"


def test_every_icon_size_is_there_at_its_size():
    for size in ICON_SIZES:
        assert generate.png_size(generate.png_path(size).read_bytes()) == (size, size)


def test_the_icons_are_the_current_svg(tmp_path: Path, qapp):
    """A changed SVG without regenerated PNGs would show the old icon in menus. (`qapp` first, so
    the renderer does not create a bare QGuiApplication that later widget tests cannot use.)"""
    from PySide6.QtGui import QImage

    generate.render_pngs(root=tmp_path)
    for size in ICON_SIZES:
        fresh, shipped = (QImage(str(generate.png_path(size, root))) for root in (tmp_path, generate.HICOLOR))
        assert fresh.size() == shipped.size()
        worst = max(abs(a - b)
                    for y in range(size) for x in range(size)
                    for a, b in zip(fresh.pixelColor(x, y).getRgb(), shipped.pixelColor(x, y).getRgb(), strict=True))
        assert worst <= 8, f"{size}x{size} differs from the SVG; run python packaging/generate.py"


def test_the_windows_and_macos_icons_hold_every_png(tmp_path: Path):
    pngs = generate.read_pngs()

    ico = generate.write_ico(pngs, tmp_path / "app.ico").read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", ico)
    assert (reserved, kind) == (0, 1) and count == 7
    for index in range(count):
        width, height, _, _, planes, bits, length, offset = struct.unpack_from("<BBBBHHII", ico, 6 + 16 * index)
        image = ico[offset:offset + length]
        side = generate.png_size(image)[0]
        assert (width or 256, height or 256, planes, bits) == (side, side, 1, 32)
        assert image == pngs[side]

    icns = generate.write_icns(pngs, tmp_path / "app.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack_from(">I", icns, 4)[0] == len(icns)
    found, at = {}, 8
    while at < len(icns):
        kind_code, length = icns[at:at + 4], struct.unpack_from(">I", icns, at + 4)[0]
        found[kind_code] = generate.png_size(icns[at + 8:at + length])
        at += length
    assert found == {b"icp4": (16, 16), b"icp5": (32, 32), b"icp6": (64, 64), b"ic07": (128, 128),
                     b"ic08": (256, 256)}


@pytest.mark.slow
def test_the_pyinstaller_build_runs(tmp_path: Path):
    """The one-folder build finds its migrations, resources and the --demo sandbox."""
    pytest.importorskip("PyInstaller")
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                    "--distpath", str(tmp_path / "dist"), "--workpath", str(tmp_path / "build"),
                    str(PACKAGING / "skytwin-desktop.spec")], check=True, timeout=1800, capture_output=True)
    program = tmp_path / "dist" / "skytwin-desktop" / "skytwin-desktop"
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home"), "XDG_RUNTIME_DIR": str(runtime),
           "SKYTWIN_DATA_DIR": str(tmp_path / "data"), "LANG": "C.UTF-8"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(program), *args], env=env, cwd=tmp_path, check=False, capture_output=True,
                              text=True, timeout=120)

    version = run("--version")
    assert (version.returncode, version.stdout.strip()) == (0, f"skytwin-desktop {__version__}"), version.stderr

    status = run("status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["user"]["trust_tier"] == "observer"
    assert (tmp_path / "data" / "skytwin.db").is_file()  # the migrations ran from inside the bundle

    connect = run("--demo", "connect", "gmail")  # the sandbox, Google's libraries and the keyring, frozen
    assert connect.returncode == 0 and "Gmail connected." in connect.stdout, connect.stdout + connect.stderr
