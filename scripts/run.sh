#!/usr/bin/env bash
# Opens the workbench (release build). With no arguments it prints an overview; any arguments
# are passed to the `tdm-workbench` command line, e.g. `scripts/run.sh rollout --env walker-walk`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
exec cargo run --quiet --release -- "$@"
