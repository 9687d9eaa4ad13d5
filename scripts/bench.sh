#!/usr/bin/env bash
# Benchmark: builds the release app and server, runs them in headless Chromium and prints a
# table; the figures also go to bench-results/bench.json. Arguments go to the runner:
#   ./scripts/bench.sh [--runs 20] [--only sizes,cold_load_to_first_message] [--skip voice_remux]
# (`cable_load` names the cable load section for --only and --skip.)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$PARLEY_ROOT"

bash scripts/setup.sh
parley_path
step "trunk build --release"
trunk build --release
step "cargo build --profile server -p parley-server"
cargo build --profile server -p parley-server

# True unless --only leaves section $1 out or --skip names it (the runner's own rule).
wants_section() {
  local name="$1" only="" skip="" prev="" a
  for a in "${bench_args[@]}"; do
    case "$prev" in --only) only="$a" ;; --skip) skip="$a" ;; esac
    case "$a" in --only=*) only="${a#--only=}" ;; --skip=*) skip="${a#--skip=}" ;; esac
    prev="$a"
  done
  [[ -n "$only" && ",$only," != *",$name,"* ]] && return 1
  [[ ",$skip," == *",$name,"* ]] && return 1
  return 0
}
bench_args=("$@")
target_dir="${CARGO_TARGET_DIR:-target}"

# Cable load: subscribers and one client that never reads, messages posted at concurrency 16
# (a Rust client, server/examples/cable_load.rs, against the server binary). The first run is
# the target's size (fan-out p99 under 100 ms), the second the issue's full size.
if wants_section cable_load; then
  step "cable load benchmark"
  cargo build --profile server -p parley-server --example cable_load
  for size in "300 300 --target-p99-ms 100" "1000 1000"; do
    read -r subscribers messages rest <<<"$size"
    # shellcheck disable=SC2086
    "$target_dir/server/examples/cable_load" --server "$target_dir/server/parley-server" \
      --subscribers "$subscribers" --messages "$messages" --concurrency 16 $rest
  done
fi

step "benchmark"
exec node tests/e2e/bench/run.mjs "$@"
