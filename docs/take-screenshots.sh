#!/usr/bin/env bash
# Screenshots of the running app on a virtual screen, with a real tray host (tint2) and a
# notification daemon (dunst) in a private D-Bus session. Writes PNGs into docs/.
# Needs Debian's xvfb tint2 dunst dbus x11-xserver-utils imagemagick xdotool libxcb-cursor0.
# Usage: docs/take-screenshots.sh [python]
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHON=${1:-$PWD/.venv/bin/python}
export SKYTWIN_DATA_DIR=$(mktemp -d)
export DISPLAY=:97 QT_QPA_PLATFORM=xcb
Xvfb "$DISPLAY" -screen 0 800x500x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null; rm -rf "$SKYTWIN_DATA_DIR"' EXIT
for _ in $(seq 40); do xsetroot -solid '#c9d1d9' 2>/dev/null && break; sleep 0.25; done

dbus-run-session -- bash -euo pipefail -c '
  wait_for() {  # wait_for SECONDS COMMAND...: poll until COMMAND succeeds
    local limit=$1; shift
    for _ in $(seq $((limit * 4))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
    echo "timed out waiting for: $*" >&2; return 1
  }
  corner() { import -window root -crop 420x190+380+310 +repage -resize 200% "docs/$1.png"; }
  app() { "$PYTHON" -m skytwin_desktop >/dev/null 2>&1 & echo $!; }

  # No tray host yet: the app shows its window instead.
  pid=$(app)
  wait_for 20 xdotool search --name "^SkyTwin Desktop$" getwindowgeometry
  sleep 1
  import -window root -crop 300x160+0+0 +repage -resize 200% docs/no-tray.png
  kill $pid; wait $pid 2>/dev/null || true

  dunst >/dev/null 2>&1 &
  tint2 >/tmp/skytwin-tint2.log 2>&1 &
  wait_for 30 grep -q "systray started" /tmp/skytwin-tint2.log

  pid=$(app)
  sleep 4
  corner tray
  xdotool mousemove 640 485 click 3
  sleep 1
  corner tray-menu
  xdotool key Escape
  kill $pid; wait $pid 2>/dev/null || true

  "$PYTHON" -m skytwin_desktop pause --reason "Screenshots" >/dev/null
  pid=$(app)
  sleep 4
  xdotool mousemove 640 485 click 3
  sleep 1
  corner tray-paused
  kill $pid; wait $pid 2>/dev/null || true
  kill %1 %2 2>/dev/null || true
'
echo "screenshots written to docs/"
