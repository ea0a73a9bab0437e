#!/usr/bin/env bash
# Screenshots of the running app on a virtual screen, with a real tray host (tint2) and a
# notification daemon (dunst) in a private D-Bus session, against the local Google sandbox.
# Needs Debian's xvfb tint2 dunst dbus x11-xserver-utils x11-utils imagemagick xdotool libxcb-cursor0,
# and the test dependencies (for the keyring file and the stand-in browser).
# Usage: docs/take-screenshots.sh   (writes PNGs into docs/)
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHON=${PYTHON:-$PWD/.venv/bin/python}
export DISPLAY=:97 QT_QPA_PLATFORM=xcb
Xvfb "$DISPLAY" -screen 0 900x600x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null' EXIT
for _ in $(seq 40); do xsetroot -solid '#c9d1d9' 2>/dev/null && break; sleep 0.25; done

dbus-run-session -- bash -euo pipefail -c '
  wait_for() { local limit=$1; shift
    for _ in $(seq $((limit * 4))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
    echo "timed out waiting for: $*" >&2; return 1; }
  corner() { import -window root -crop 460x300+440+300 +repage "docs/$1.png"; }
  icon() {  # the tray icon: its centre moves with the width of the panel clock (the weekday)
    local line pos; line=$(xwininfo -root -tree | grep "\"SkyTwin Desktop\": (" | grep -E " 2[0-9]x2[0-9]\+" | head -1 || true)
    pos=${line##* +}; ix=$(( ${pos%%+*} + 11 )); iy=$(( ${pos##*+} + 11 )); }
  menu_item() { xdotool mousemove "$ix" "$iy" click 3; sleep 1; xdotool mousemove $((ix + 61)) $((iy - $1)) click 1; }

  scene() {  # scene NAME [env...]: run the app in a fresh data dir with the given scene
    export SKYTWIN_DATA_DIR=$(mktemp -d) XDG_DATA_HOME=$(mktemp -d)
    coproc SCENE_PROC { env "$@" "$PYTHON" docs/screenshot_scene.py; }
    read -r ready <&"${SCENE_PROC[0]}"
    sleep 6
    icon
  }
  end_scene() { eval "exec ${SCENE_PROC[1]}>&-"; wait "$SCENE_PROC_PID" 2>/dev/null || true; }

  scene SCENE=healthy  # no tray host yet: the status window stands in for the icon
  import -window root -crop 540x260+0+0 +repage docs/no-tray.png
  end_scene

  dunst >/dev/null 2>&1 &
  tint2 >/tmp/skytwin-tint2.log 2>&1 &
  wait_for 30 grep -q "systray started" /tmp/skytwin-tint2.log

  scene SCENE=fresh  # a first start: nothing connected; the window that guides and one notification
  import -window root docs/first-run.png
  "$PYTHON" -m skytwin_desktop connect gmail >/dev/null 2>&1 &  # carried out by the app; no browser opens
  connect=$!
  sleep 3
  import -window root docs/sign-in-waiting.png
  xdotool mousemove "$ix" "$iy" click 3; sleep 1; corner tray-menu-sign-in; xdotool key Escape; sleep 0.5
  kill $connect 2>/dev/null || true
  end_scene

  scene SCENE=healthy
  sleep 0
  xdotool mousemove "$ix" "$iy" click 3; sleep 1; corner tray-menu; xdotool key Escape; sleep 0.5
  menu_item 104; sleep 1.5
  import -window root docs/pause-window.png
  win=$(xdotool search --name "^Pause SkyTwin$" | head -1)
  xdotool windowfocus --sync "$win" key Escape; sleep 0.5  # Cancel: nothing paused
  xdotool mousemove "$ix" "$iy" click 1; sleep 1.5
  import -window root docs/dashboard.png
  end_scene

  scene SCENE=revoked SCENE_PAUSE="Travelling this week"
  menu_item 36; sleep 2
  win=$(xdotool search --name "^SkyTwin settings$" | head -1)
  for tab in e:general c:connectors a:autonomy r:rules d:data b:about; do
    xdotool windowfocus --sync "$win" key "alt+${tab%%:*}"; sleep 0.7
    import -window "$win" "docs/settings-${tab#*:}.png"
  done
  xdotool windowunmap "$win"
  xdotool mousemove "$ix" "$iy" click 3; sleep 1; corner tray-menu-amber; xdotool key Escape; sleep 0.5
  xdotool mousemove "$ix" "$iy" click 1; sleep 1.5
  import -window root docs/status-window.png
  end_scene

  scene SCENE=offline  # Google unreachable: grey, "not reading", since when and when it tries again
  xdotool mousemove "$ix" "$iy"; sleep 2; import -window root -crop 900x60+0+540 +repage docs/tray-not-reading-tooltip.png
  xdotool mousemove "$ix" "$iy" click 1; sleep 1.5
  import -window root docs/not-reading.png
  end_scene

  scene SCENE=working  # the first poll: two chores done, two waiting, one notification
  sleep 4
  import -window root docs/approvals-notification.png
  menu_item 80; sleep 2
  win=$(xdotool search --name "^SkyTwin approvals$" | head -1)
  import -window "$win" docs/approvals-window.png
  xdotool windowfocus --sync "$win" key alt+c; sleep 0.7
  xdotool windowfocus --sync "$win" key Tab Down; sleep 0.5
  import -window "$win" docs/approvals-activity.png
  end_scene

  # The icons on a light panel: the default tint2 theme with a light background (docs/tint2-light.rc).
  pkill tint2 || true
  tint2 -c docs/tint2-light.rc >/tmp/skytwin-tint2.log 2>&1 &
  wait_for 30 grep -q "systray started" /tmp/skytwin-tint2.log
  scene SCENE=healthy
  import -window root -crop 200x40+700+560 +repage docs/tray-light-listening.png
  end_scene
  scene SCENE=revoked SCENE_PAUSE="Travelling this week"
  import -window root -crop 200x40+700+560 +repage docs/tray-light-attention-paused.png
  end_scene
  scene SCENE=fresh
  import -window root -crop 200x40+700+560 +repage docs/tray-light-not-connected.png
  end_scene
'
echo "screenshots written to docs/"
