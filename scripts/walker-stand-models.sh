#!/usr/bin/env bash
# Walker stand specialists, end to end: data from the project's own collectors, a TDM and the
# tokenized-delta MLP trained on it, then MPC evaluations beside ground truth, Brownian noise and
# zero action. Every stage resumes from its files (collections skip finished episodes, training
# continues with --resume, evaluations with --resume), so an interrupted run is simply started
# again. Outputs under runs/walker-stand/ (git-ignored); the figures it produced are in
# docs/results/walker-stand.md. Stages (collect train-tdm train-mlp ranking eval) can be picked:
# scripts/walker-stand-models.sh collect train-tdm
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin=${TDM_BIN:-./target/release/tdm-workbench}
out=runs/walker-stand
data=$out/data
mkdir -p "$data"
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(collect train-tdm train-mlp ranking eval)
want() { local s; for s in "${stages[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }
log() { echo "[$(date +%H:%M:%S)] $*"; }

if want collect; then
  # Ground-truth MPC experts (K 64, N 25 reaches ~980 on walker stand).
  log "collect: gt-mpc"
  $bin collect --env walker-stand --policy gt-mpc --samples 64 --horizon 25 \
    --episodes 12 --seed 1000 --out "$data/gt-mpc"
  # The same experts interrupted by 25-step Brownian branches: the kind of action sequence the
  # planner asks the model about, from the states the agent visits (~half the steps).
  log "collect: gt-mpc-branching"
  $bin collect --env walker-stand --policy gt-mpc-branching --samples 64 --horizon 25 \
    --branch-probability 0.04 --episodes 16 --seed 2000 --out "$data/branching"
  # Random data: falls, lying and kicking on the floor.
  log "collect: brownian"
  $bin collect --env walker-stand --policy brownian --episodes 24 --seed 3000 \
    --out "$data/brownian"
fi
list="$data/gt-mpc,$data/branching,$data/branching,$data/brownian"

if want train-tdm; then
  resume=(); [ -e "$out/tdm.safetensors" ] && resume=(--resume)
  log "train: TDM"
  # small preset, 256-token window = 8 walker steps of 32 tokens. 16000 steps (~15 min on 2
  # cores since the fused training ops; the first pass had 4000).
  $bin train --data "$list" --out "$out/tdm.safetensors" --preset small --context 256 \
    --steps "${TDM_STEPS:-16000}" --batch 16 --lr 2e-3 --warmup 400 --eval-every 500 \
    --save-every 500 "${resume[@]}"
fi

if want train-mlp; then
  resume=(); [ -e "$out/mlp-tokenized-delta.safetensors" ] && resume=(--resume)
  log "train: MLP tokenized + delta"
  $bin train --data "$list" --out "$out/mlp-tokenized-delta.safetensors" \
    --model mlp-tokenized-delta --steps 4000 --lr 1e-3 --warmup 200 \
    --eval-every 500 --save-every 500 "${resume[@]}"
fi

if want ranking; then
  # The fast signal: how well each model ranks the planner's K 64 x N 25 candidates against
  # their real returns, at 40 states of two 500-step ground-truth expert episodes.
  log "ranking"
  $bin ranking --env walker-stand \
    --model "gt,$out/mlp-tokenized-delta.safetensors,$out/tdm.safetensors" --samples 64 \
    --horizon 25 --probe-samples 64 --probe-horizon 25 --episodes 2 --steps 500 --every 25 \
    --seed 0 --json "$out/ranking-n25.json"
fi

if want eval; then
  # K 64, N 25, EVAL_EPISODES (4) episodes of 1000 steps, seeds from 0: the same for every
  # agent. --resume adds episodes to an earlier, shorter run.
  for m in gt "$out/mlp-tokenized-delta.safetensors" "$out/tdm.safetensors"; do
    name=$(basename "$m" .safetensors)
    log "eval: $name"
    $bin eval --env walker-stand --model "$m" --samples 64 --horizon 25 \
      --episodes "${EVAL_EPISODES:-4}" --seed 0 \
      --json "$out/eval-$name-n25.json" --resume
  done
  # Baselines over the same seeds: collect prints the return (mean, 68% CI) of its episodes.
  for p in brownian zero; do
    log "baseline: $p"
    $bin collect --env walker-stand --policy "$p" --episodes 4 --seed 0 --out "$out/baseline-$p"
  done
fi
log "done"
