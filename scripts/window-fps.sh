#!/usr/bin/env bash
# The window's frame rate on this machine's software rasteriser (Xvfb + llvmpipe), at both render
# qualities, on the scenes a user meets first: each run opens the real window at 1280x800 for
# SECS seconds (default 20) with the MPC agent planning K 128 candidates (128 trails drawn),
# then prints `gui --measure`'s line.
#   scripts/window-fps.sh [SECS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
secs="${1:-20}"
scripts/setup.sh --gui
cargo build --quiet --release
bin="$PWD/target/release/tdm-workbench"
display=":$((90 + RANDOM % 100))"
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb_pid=$!
trap 'kill "$xvfb_pid" 2>/dev/null || true' EXIT
export DISPLAY="$display"
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
for scene in "cartpole-swingup --model gt --samples 128 --horizon 20" \
             "walker-stand --model gt --samples 128 --horizon 25" \
             "cartpole-swingup --policy zero"; do
  for quality in high low; do
    # shellcheck disable=SC2086
    line="$("$bin" gui --scene $scene --render-quality "$quality" --measure "$secs" 2>/dev/null | grep '^window:' || echo "no frame rate reported (the window did not open?)")"
    echo "$scene | $line"
  done
done
