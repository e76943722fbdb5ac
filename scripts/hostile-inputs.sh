#!/usr/bin/env bash
# Feeds the release binary bad inputs, one class of fault at a time, and sorts each outcome:
#   ok-refused   non-zero exit with a message that names the file or argument
#   vague        non-zero exit whose message does not name it
#   crashed      killed by a signal or aborted (panic, out of memory)
#   silent       exit 0 on input that should have been refused
#   overwrote    an existing file was replaced without --force
# and prints one line per case and the counts per outcome.
#   scripts/hostile-inputs.sh [WORK_DIR]     (default: runs/hostile)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
work="${1:-runs/hostile}"
rm -rf "$work"
mkdir -p "$work"
cargo build --quiet --release
bin="$PWD/target/release/tdm-workbench"
ckpt=assets/models/cartpole-swingup-small.safetensors
declare -A count

# run_case NAME NEEDLE COMMAND...: the command must fail with a message containing NEEDLE.
run_case() {
  local name="$1" needle="$2"
  shift 2
  local out rc
  out="$(timeout 120 "$@" 2>&1)"
  rc=$?
  local verdict
  if [ "$rc" -eq 124 ] || [ "$rc" -ge 128 ] || grep -q "panicked\|memory allocation of\|fatal error" <<<"$out"; then
    verdict=crashed
  elif [ "$rc" -eq 0 ]; then
    verdict=silent
  elif grep -qF -- "$needle" <<<"$out"; then
    verdict=ok-refused
  else
    verdict=vague
  fi
  count[$verdict]=$((${count[$verdict]:-0} + 1))
  printf '%-11s %-44s %s\n' "$verdict" "$name" "$(tail -n1 <<<"$out" | cut -c1-110)"
}

# keep_case NAME FILE COMMAND...: the command must fail and leave FILE byte-identical.
keep_case() {
  local name="$1" file="$2"
  shift 2
  local before after
  before="$(sha256sum "$file")"
  timeout 120 "$@" >/dev/null 2>&1
  local rc=$?
  after="$(sha256sum "$file")"
  local verdict=ok-refused
  [ "$before" != "$after" ] && verdict=overwrote
  [ "$rc" -eq 0 ] && [ "$verdict" = ok-refused ] && verdict=silent
  count[$verdict]=$((${count[$verdict]:-0} + 1))
  printf '%-11s %-44s\n' "$verdict" "$name"
}

mjcf() { printf '%s' "$2" >"$work/$1.xml"; echo "$work/$1.xml"; }

# --- MJCF files
f=tests/data/stack-starved.xml  # compiles, then runs out of stack on the first step
run_case "mjcf stack out of memory: rollout" "MuJoCo error at t" "$bin" rollout --env "mjcf:$f" --episodes 1
run_case "mjcf stack out of memory: collect" "MuJoCo error at t" "$bin" collect --env "mjcf:$f" --policy brownian --episodes 2 --max-steps 20 --out "$work/starved-data"
run_case "mjcf stack out of memory: eval (planner)" "MuJoCo error" "$bin" eval --env "mjcf:$f" --samples 8 --horizon 5 --episodes 1 --max-steps 5
run_case "mjcf stack out of memory: render" "MuJoCo error" "$bin" render --env "mjcf:$f" --steps 5 --out "$work/starved.png"
f=$(mjcf nanmass '<mujoco><worldbody><body><joint type="slide"/><geom size="0.1" mass="nan"/></body></worldbody><actuator><motor joint="0"/></actuator></mujoco>')
run_case "mjcf mass=nan" "nanmass.xml" "$bin" rollout --env "mjcf:$f" --episodes 1
f=$(mjcf far '<mujoco><worldbody><body pos="1e39 0 0"><joint type="slide"/><geom size="0.1"/></body></worldbody><actuator><motor joint="0"/></actuator></mujoco>')
run_case "mjcf body at 1e39: render" "far.xml" "$bin" render --env "mjcf:$f" --out "$work/far.png"
f=$(mjcf syntax '<mujoco><worldbody><body></worldbody></mujoco>')
run_case "mjcf syntax error" "syntax.xml" "$bin" rollout --env "mjcf:$f" --episodes 1
run_case "mjcf missing file" "/nonexistent/x.xml" "$bin" rollout --env mjcf:/nonexistent/x.xml --episodes 1

# --- checkpoints
head -c 100000 "$ckpt" >"$work/truncated.safetensors"
run_case "checkpoint truncated" "truncated.safetensors" "$bin" eval --env cartpole-swingup --model "$work/truncated.safetensors" --episodes 1 --max-steps 2
python3 - "$ckpt" "$work" <<'PY'
import json, struct, sys
src, out = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
n = struct.unpack("<Q", data[:8])[0]
header = json.loads(data[8:8 + n])
rest = data[8 + n:]
def write(name, edit):
    h = json.loads(json.dumps(header))
    meta = json.loads(h["__metadata__"]["tdm"])
    edit(meta)
    h["__metadata__"]["tdm"] = json.dumps(meta)
    b = json.dumps(h).encode()
    open(f"{out}/{name}.safetensors", "wb").write(struct.pack("<Q", len(b)) + b + rest)
write("layers", lambda m: m["model"].__setitem__("layers", 100000))
write("width", lambda m: m["model"].__setitem__("width", 1 << 40))
write("bins", lambda m: m["tokenizer"].__setitem__("bins", 7))
PY
for c in layers width bins; do
  run_case "checkpoint metadata: $c" "$c.safetensors" "$bin" eval --env cartpole-swingup --model "$work/$c.safetensors" --episodes 1 --max-steps 2
done
run_case "checkpoint for another scene" "24 obs, 6 act" "$bin" eval --env walker-stand --model "$ckpt" --episodes 1 --max-steps 2

# --- training
"$bin" collect --env cartpole-swingup --policy brownian --episodes 2 --max-steps 40 --out "$work/data" >/dev/null 2>&1
run_case "train --lr nan" "--lr" "$bin" train --data "$work/data" --out "$work/nan.safetensors" --preset tiny --steps 5 --lr nan
run_case "train --context 1000000" "--context" "$bin" train --data "$work/data" --out "$work/c.safetensors" --preset tiny --steps 5 --context 1000000
run_case "train --batch 100000000" "--batch" "$bin" train --data "$work/data" --out "$work/b.safetensors" --preset tiny --steps 5 --batch 100000000
cp "$ckpt" "$work/existing.safetensors"
keep_case "train --out EXISTING" "$work/existing.safetensors" "$bin" train --data "$work/data" --out "$work/existing.safetensors" --preset tiny --steps 2
"$bin" train --data "$work/data" --out "$work/run.safetensors" --preset tiny --steps 4 --save-every 2 >/dev/null 2>&1
run_case "train --resume with a changed --lr" "lr" "$bin" train --data "$work/data" --out "$work/run.safetensors" --preset tiny --steps 8 --lr 0.5 --resume

# --- datasets
cp -r "$work/data" "$work/nan-data"
python3 - "$work/nan-data" <<'PY'
import json, sys
d = sys.argv[1]
m = json.load(open(f"{d}/meta.json"))
m["episodes"][0]["file"] = "../../../etc/passwd"
json.dump(m, open(f"{d}/meta.json", "w"))
PY
run_case "dataset path outside the folder" "passwd" "$bin" data info "$work/nan-data"

# --- resources and arguments
run_case "eval --samples 100000000" "--samples" "$bin" eval --env cartpole-swingup --samples 100000000 --horizon 50 --episodes 1
run_case "eval TDM --samples 100000 (caches)" "GiB" "$bin" eval --env cartpole-swingup --model "$ckpt" --samples 100000 --horizon 50 --episodes 1
run_case "render --width 100000" "--width" "$bin" render --env cartpole-swingup --width 100000 --out "$work/w.png"
run_case "render --azimuth NaN" "azimuth" "$bin" render --env cartpole-swingup --azimuth NaN --out "$work/a.png"
echo '{}' >"$work/results.json"
keep_case "eval --json EXISTING" "$work/results.json" "$bin" eval --env cartpole-swingup --samples 4 --horizon 2 --episodes 1 --max-steps 2 --json "$work/results.json"

echo
for k in ok-refused vague crashed silent overwrote; do printf '%-11s %s\n' "$k" "${count[$k]:-0}"; done
