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

# Runs one named step, timing it; its output is also kept (in step_log[name]) so the test
# counts can be read back.
declare -A step_log
run_step() {
  local name="$1" t0 log
  shift
  current="$name"
  step "$name"
  t0=$(date +%s)
  log="$logs/$(printf '%s' "$name" | tr -c 'a-zA-Z0-9' '_').log"
  step_log["$name"]="$log"
  "$@" 2>&1 | tee "$log"
  summary+=("$(printf '%-44s %s' "$name" "$(elapsed_since "$t0")")")
  current=""
}

run_step "setup (scripts/setup.sh)" bash scripts/setup.sh
parley_path

run_step "cargo fmt --check" cargo fmt --all -- --check
run_step "clippy: native crates" cargo clippy --workspace --exclude parley --all-targets -- -D warnings
run_step "clippy: wasm app" cargo clippy --target wasm32-unknown-unknown -p parley -- -D warnings
run_step "cargo test (wire, core, media, server)" cargo test --workspace --exclude parley
# Browser tests of the app's effects (wasm-bindgen-test in headless Chromium; the browser's
# flags are in webdriver.json).
run_step "wasm tests in Chromium" env CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown -p parley
run_step "trunk build --release" trunk build --release
run_step "cargo build -p parley-server" cargo build -p parley-server
run_step "end-to-end (node --test tests/e2e/)" node --test --test-concurrency=1 --test-reporter=spec tests/e2e/

# One closing line with every test counted. Each test step's own totals: libtest's (cargo's
# and wasm-bindgen-test's) "test result" lines, node's spec summary. A test that did not run
# (ignored, skipped, todo, cancelled) fails the run, and so does a step that ran no test
# (a test binary with none, such as a crate's doc-tests, is normal; a whole step is not).
passed=0 failed=0 not_run=0 problems=()
# libtest: "test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; ..."
libtest_counts() {
  sed -n 's/.*test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed; \([0-9]*\) ignored.*/\1 \2 \3/p' "$1" |
    awk '{ p += $1; f += $2; i += $3; n += 1 } END { print n + 0, p + 0, f + 0, i + 0 }'
}
for name in "cargo test (wire, core, media, server)" "wasm tests in Chromium"; do
  read -r binaries p f i < <(libtest_counts "${step_log[$name]}")
  printf '%-44s %d passed, %d failed, %d ignored\n' "$name" "$p" "$f" "$i"
  passed=$((passed + p)) failed=$((failed + f)) not_run=$((not_run + i))
  ((binaries > 0 && p + f > 0)) || problems+=("$name ran no test (no \"test result\" line with a test)")
  ((i == 0)) || problems+=("$name: $i ignored")
done
# node's spec reporter: "ℹ tests 40", "ℹ pass 40", "ℹ fail 0", "ℹ cancelled 0", "ℹ skipped 0", "ℹ todo 0".
e2e="end-to-end (node --test tests/e2e/)"
declare -A node
for key in tests pass fail cancelled skipped todo; do
  node[$key]="$(sed -n "s/^ℹ $key \([0-9]*\)\$/\1/p" "${step_log[$e2e]}" | tail -1)"
  [[ -n "${node[$key]}" ]] || problems+=("$e2e: no \"ℹ $key N\" line in node's summary (has its format changed?)")
  node[$key]="${node[$key]:-0}"
done
printf '%-44s %d passed, %d failed, %d cancelled, %d skipped, %d todo\n' "$e2e" \
  "${node[pass]}" "${node[fail]}" "${node[cancelled]}" "${node[skipped]}" "${node[todo]}"
passed=$((passed + node[pass])) failed=$((failed + node[fail]))
not_run=$((not_run + node[cancelled] + node[skipped] + node[todo]))
((node[tests] > 0)) || problems+=("$e2e ran no test")
for key in cancelled skipped todo; do
  ((node[$key] == 0)) || problems+=("$e2e: ${node[$key]} $key")
done
printf 'not run (ignored, skipped, todo, cancelled): %d\n' "$not_run"

current=""
trap - EXIT
on_exit
if ((${#problems[@]})); then
  printf '\n%sFAILED: not every test ran:%s\n' "$_c_red" "$_c_off" >&2
  printf '  %s\n' "${problems[@]}" >&2
  printf 'tests: %d passed, %d failed\n' "$passed" "$failed"
  exit 1
fi
printf '\nall checks passed in %ss\n' "$(elapsed_since "$started")"
printf 'tests: %d passed, %d failed\n' "$passed" "$failed"
