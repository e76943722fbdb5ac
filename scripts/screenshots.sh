#!/usr/bin/env bash
# Starts the real workbench window on a virtual X display (Xvfb), drives it with xdotool the way
# a person would (orbit the camera, pick a scene from the menu, generate a walker in the
# designer, double-click a body) and saves a screenshot after each step. Then it starts the
# window as a user first sees it - cartpole driven by MPC with the bundled TDM, all candidates
# drawn - lets it run (LIVE_SECS, default 90 s of wall clock) and screenshots it.
#   scripts/screenshots.sh [OUT_DIR]      (default: runs/screenshots)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="${1:-runs/screenshots}"
mkdir -p "$out"
scripts/setup.sh --gui
cargo build --quiet --release
bin="$PWD/target/release/tdm-workbench"

display=":$((90 + RANDOM % 100))"
runtime="$(mktemp -d)"
chmod 700 "$runtime"
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >"$runtime/xvfb.log" 2>&1 &
xvfb_pid=$!
app_pid=""
cleanup() {
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null || true
  kill "$xvfb_pid" 2>/dev/null || true
  rm -rf "$runtime"
}
trap cleanup EXIT
export DISPLAY="$display" XDG_RUNTIME_DIR="$runtime"
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done

shot() {
  xwd -root -silent | /usr/bin/convert xwd:- "png:$out/$1.png"
  echo "screenshot: $out/$1.png" >&2
}

"$bin" gui --scene cartpole-swingup >"$out/app.log" 2>&1 &
app_pid=$!
xdotool search --sync --name "TDM Workbench" >/dev/null
sleep 4
shot 01-cartpole

# Help > Keys and mouse (also F1): the bindings over the view; closed again with its x.
xdotool mousemove 168 12 click 1
sleep 0.5
xdotool mousemove 200 40 click 1
sleep 1
shot 01b-help
xdotool key --clearmodifiers F1
sleep 0.5

# Orbit: left-drag across the viewport.
xdotool mousemove 800 420 mousedown 1
for _ in $(seq 12); do xdotool mousemove_relative -- 12 -3; sleep 0.05; done
xdotool mouseup 1
sleep 1
shot 02-orbit

# Zoom out with the wheel, then pan with a right-drag.
for _ in $(seq 3); do xdotool mousemove 800 420 click 5; sleep 0.05; done
xdotool mousemove 800 420 mousedown 3
for _ in $(seq 8); do xdotool mousemove_relative -- -10 0; sleep 0.05; done
xdotool mouseup 3
sleep 1
shot 03-zoom-pan

# Pick a scene: Scene menu -> humanoid-stand (the fourth entry).
xdotool mousemove 27 12 click 1
sleep 0.7
shot 04-scene-menu
xdotool mousemove 60 111 click 1
sleep 3
shot 05-humanoid

# Generate a walker: Designer tab, tree family via Random, then let it move.
xdotool mousemove 195 37 click 1
sleep 0.7
xdotool mousemove 132 162 click 1
sleep 3
shot 06-designer-random-walker

# Select the first link in the designer's tree list: it is tinted in the view.
xdotool mousemove 100 235 click 1
sleep 1.5
shot 07-selected-link

# Reset the view, then double-click the middle of the view (selects whatever body is there).
xdotool mousemove 125 12 click 1
sleep 0.5
xdotool mousemove 150 40 click 1
sleep 0.5
xdotool mousemove 805 420 click --repeat 2 --delay 80 1
sleep 1.5
shot 08-double-click

# Scene > Open MJCF... on a desktop without a portal: the in-window browser opens, and says so.
xdotool mousemove 27 12 click 1
sleep 0.7
xdotool mousemove 60 259 click 1
sleep 2
shot 08b-open-mjcf-no-portal
xdotool key Escape
sleep 0.5

kill "$app_pid" 2>/dev/null || true
wait "$app_pid" 2>/dev/null || true

# A preset from the command line: its scene, planner and model, shown in the Planner tab.
"$bin" gui --preset presets/walker-stand-mpc.json >"$out/app-preset.log" 2>&1 &
app_pid=$!
xdotool search --sync --name "TDM Workbench" >/dev/null
sleep 5
xdotool mousemove 123 37 click 1
sleep 3
shot 08c-preset-walker-planner
kill "$app_pid" 2>/dev/null || true
wait "$app_pid" 2>/dev/null || true

# Live MPC with the bundled TDM (the default start), K = 64, N = 20, lock-step.
"$bin" gui >"$out/app-live.log" 2>&1 &
app_pid=$!
xdotool search --sync --name "TDM Workbench" >/dev/null
sleep "${LIVE_SECS:-90}"
shot 09-live-tdm-mpc
# Only the imagined trails, then a click on the view to highlight the nearest candidate.
xdotool mousemove 805 420 click 1
sleep 1
shot 10-live-tdm-highlight

echo "screenshots in $out; app logs: $out/app.log, $out/app-live.log" >&2
