#!/usr/bin/env bash
# README command 2: set up, then run every check and test Parley has, failing fast.
#   formatting · clippy (native crates, then the wasm app) · cargo test · wasm browser tests
#   (when the app has any) · release app build · parley-server build · end-to-end in Chromium
# CI runs exactly this (.ci/run).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$PARLEY_ROOT"

started=$(date +%s)
logs="$(mktemp -d "${TMPDIR:-/tmp}/parley-test.XXXXXX")"
summary=()
current=""

on_exit() {
  local code=$?
  if ((code != 0)) && [[ -n "$current" ]]; then
    printf '\n%sFAILED: %s (exit %d). The output just above says why.%s\n' "$_c_red" "$current" "$code" "$_c_off" >&2
  fi
  if ((${#summary[@]})); then
    printf '\n%-44s %s\n' "step" "seconds"
    printf '%s\n' "${summary[@]}"
  fi
  rm -rf "$logs"
}
trap on_exit EXIT

# Runs one named step, timing it; its output is also kept so the test counts can be summed.
run_step() {
  local name="$1" t0
  shift
  current="$name"
  step "$name"
  t0=$(date +%s)
  "$@" 2>&1 | tee "$logs/$(echo "$name" | tr -c 'a-zA-Z0-9' '_').log"
  summary+=("$(printf '%-44s %s' "$name" "$(elapsed_since "$t0")")")
  current=""
}

run_step "setup (scripts/setup.sh)" bash scripts/setup.sh
parley_path

run_step "cargo fmt --check" cargo fmt --all -- --check
run_step "clippy: native crates" cargo clippy --workspace --exclude parley --all-targets -- -D warnings
run_step "clippy: wasm app" cargo clippy --target wasm32-unknown-unknown -p parley -- -D warnings
run_step "cargo test (wire, core, media, server)" cargo test --workspace --exclude parley
# Browser tests of the app's effects (wasm-bindgen-test in headless Chromium), once it has some.
if grep -rqs --include='*.rs' 'wasm_bindgen_test' src tests; then
  run_step "wasm tests in Chromium" env CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown -p parley
fi
run_step "trunk build --release" trunk build --release
run_step "cargo build -p parley-server" cargo build -p parley-server
run_step "end-to-end (node --test tests/e2e/)" node --test --test-concurrency=1 --test-reporter=spec tests/e2e/

# One closing line with every test counted: cargo's "test result" lines plus node's totals.
passed=0 failed=0
while read -r p f; do
  passed=$((passed + p)) failed=$((failed + f))
done < <(cat "$logs"/*.log | sed -n 's/.*test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p')
e2e_log="$(ls "$logs"/end_to_end*.log)"
e2e_pass="$(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' "$e2e_log" | tail -1)"
e2e_fail="$(sed -n 's/^ℹ fail \([0-9]*\)$/\1/p' "$e2e_log" | tail -1)"
passed=$((passed + ${e2e_pass:-0})) failed=$((failed + ${e2e_fail:-0}))
current=""
trap - EXIT
on_exit
printf '\nall checks passed in %ss\n' "$(elapsed_since "$started")"
printf 'tests: %d passed, %d failed\n' "$passed" "$failed"
