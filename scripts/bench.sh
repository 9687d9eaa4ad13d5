#!/usr/bin/env bash
# Benchmark: builds the release app and server, runs them in headless Chromium and prints a
# table; the figures also go to bench-results/bench.json. Arguments go to the runner:
#   ./scripts/bench.sh [--runs 20] [--only sizes,cold_load_to_first_message] [--skip voice_remux]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$PARLEY_ROOT"

bash scripts/setup.sh
parley_path
step "trunk build --release"
trunk build --release
step "cargo build --release -p parley-server"
cargo build --release -p parley-server
step "benchmark"
exec node tests/e2e/bench/run.mjs "$@"
