#!/usr/bin/env bash
# The whole test suite: set-up (idempotent), formatting, lints, tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh --gui-test
# The UI tests render with wgpu on Mesa's software GL (llvmpipe): pinned so golden images
# compare like with like on every machine.
export WGPU_BACKEND="${WGPU_BACKEND:-gl}"
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo test --all-targets
cargo test --doc
