#!/usr/bin/env bash
# One ground-truth planning step for cartpole (K = 128 x N = 100) in this workbench, beside the
# peer, MuJoCo's native rollout module (python mujoco.rollout 3.17.0), on the same MJCF, 1 thread
# and all cores, in one run. Installs the peer into third_party/pyenv the first time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
venv=third_party/pyenv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import mujoco" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet mujoco==3.17.0 numpy
fi
cargo build --quiet --release
cores=$(nproc)
./target/release/tdm-workbench bench plan --env cartpole-swingup --samples 128 --horizon 100 --repeats 20
for t in 1 "$cores"; do
  "$venv/bin/python" scripts/bench_rollout_peer.py assets/mjcf/cartpole.xml 128 100 "$t" 20
done
