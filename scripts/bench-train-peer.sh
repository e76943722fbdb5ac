#!/usr/bin/env bash
# Training speed beside a PyTorch peer, in one invocation: `tdm-workbench bench tdm` and
# scripts/bench_train_peer.py (the same TDM in PyTorch eager: sizes, step layout, range-restricted
# loss, AdamW, float32, batch 16, 2 threads) on each preset, alternating, ROUNDS times each.
# PyTorch is installed into runs/peer-venv (git-ignored; PyPI's torch wheel with its CUDA
# libraries, ~5 GiB, only its CPU path is used) on first use.
#
#   scripts/bench-train-peer.sh                  # base at context 256, small at context 128
#   PRESETS="base:512" ROUNDS=3 scripts/bench-train-peer.sh
#
# Prints one line per run and writes runs/bench-train-peer.json (all runs). The figures in
# docs/results/training-speed.md came from this script.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin=${TDM_BIN:-./target/release/tdm-workbench}
presets=${PRESETS:-"base:256 small:128"}
rounds=${ROUNDS:-3}
steps=${STEPS:-30}
venv=runs/peer-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
  echo "installing PyTorch into $venv (first use)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet torch numpy
fi
[ -x "$bin" ] || cargo build --release
out=runs/bench-train-peer.json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
results=()
for p in $presets; do
  name=${p%%:*}; ctx=${p##*:}
  read -r layers width heads < <(case $name in
    tiny) echo 2 32 2;; small) echo 2 64 4;; base) echo 4 128 4;; large) echo 6 256 8;;
    *) echo "unknown preset $name" >&2; exit 2;; esac)
  for r in $(seq 1 "$rounds"); do
    "$bin" bench tdm --preset "$name" --context "$ctx" --train-steps "$steps" --samples 8 \
      --horizon 2 --repeats 1 --json "$tmp/ours.json" > /dev/null
    ours=$(python3 -c "import json;print(round(json.load(open('$tmp/ours.json'))['train_tokens_per_s']))")
    peer=$("$venv/bin/python" scripts/bench_train_peer.py --layers "$layers" --width "$width" \
      --heads "$heads" --context "$ctx" --steps "$steps" --threads 2 | tail -1)
    theirs=$(python3 -c "import json,sys;print(round(json.loads(sys.argv[1])['train_tokens_per_s']))" "$peer")
    echo "$name context $ctx round $r: tdm-workbench $ours tokens/s, pytorch $theirs tokens/s"
    results+=("{\"preset\":\"$name\",\"context\":$ctx,\"round\":$r,\"ours\":$ours,\"pytorch\":$theirs}")
  done
done
printf '[%s]\n' "$(IFS=,; echo "${results[*]}")" > "$tmp/all.json"
mkdir -p runs && mv "$tmp/all.json" "$out"
echo "written to $out"
