#!/usr/bin/env bash
# The planner family on cartpole swing-up at an equal budget of 128 imagined candidates per plan
# (random shooting K 128; CEM, MPPI and predictive sampling K 32 x 4 rounds), N 50, 4 episodes,
# seeds 0-3, for ground truth (and, with MODEL=FILE, a learned model). Results in runs/planners/;
# the figures are in docs/results/planners.md. Resumable (--resume).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin=${TDM_BIN:-./target/release/tdm-workbench}
model=${MODEL:-gt}
horizon=${HORIZON:-50}
name=$(basename "$model" .safetensors)
out=runs/planners
mkdir -p "$out"
common=(--env cartpole-swingup --model "$model" --horizon "$horizon" --episodes "${EPISODES:-4}" --seed 0)
[ -n "${MAX_STEPS:-}" ] && common+=(--max-steps "$MAX_STEPS")
$bin eval "${common[@]}" --samples 128 --json "$out/rs-$name-n$horizon.json" --resume
$bin eval "${common[@]}" --planner cem --samples 32 --iterations 4 --json "$out/cem-$name-n$horizon.json" --resume
$bin eval "${common[@]}" --planner mppi --samples 32 --iterations 4 --noise white --variance 0.3 --temperature 0.5 --json "$out/mppi-$name-n$horizon.json" --resume
$bin eval "${common[@]}" --planner predictive-sampling --samples 32 --iterations 4 --spline-points 4 --variance 0.3 --json "$out/ps-$name-n$horizon.json" --resume
