# Shared shell functions for Parley's scripts. Source it; do not run it.
# shellcheck shell=bash

PARLEY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Colour only for a person at a terminal; CI logs stay plain.
if [[ -t 1 ]]; then
  _c_bold=$'\e[1m' _c_red=$'\e[31m' _c_green=$'\e[32m' _c_dim=$'\e[2m' _c_off=$'\e[0m'
else
  _c_bold='' _c_red='' _c_green='' _c_dim='' _c_off=''
fi

step() { printf '%s==> %s%s\n' "$_c_bold" "$*" "$_c_off"; }
note() { printf '%s    %s%s\n' "$_c_dim" "$*" "$_c_off"; }
ok()   { printf '%s    ok: %s%s\n' "$_c_green" "$*" "$_c_off"; }
die()  { printf '%serror: %s%s\n' "$_c_red" "$*" "$_c_off" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

# Where `cargo install` puts binaries: the same rule cargo itself follows.
cargo_bin_dir() {
  if [[ -n "${CARGO_INSTALL_ROOT:-}" ]]; then
    printf '%s/bin' "$CARGO_INSTALL_ROOT"
  else
    printf '%s/bin' "${CARGO_HOME:-$HOME/.cargo}"
  fi
}

# Every script needs the same PATH: cargo-installed tools (trunk, wasm-bindgen)
# and the npm ones (wasm-opt from binaryen, which Trunk looks up on PATH).
parley_path() {
  local dir
  for dir in "${CARGO_HOME:-$HOME/.cargo}/bin" "$(cargo_bin_dir)" "$PARLEY_ROOT/node_modules/.bin"; do
    case ":$PATH:" in
      *":$dir:"*) ;;
      *) PATH="$dir:$PATH" ;;
    esac
  done
  export PATH
}

# The version of one package as Cargo.lock pins it (the first entry with that name).
cargo_lock_version() {
  local name="$1" lock="${2:-$PARLEY_ROOT/Cargo.lock}"
  awk -v want="$name" '
    /^\[\[package\]\]/ { inpkg = 1; name = ""; next }
    inpkg && $1 == "name" { gsub(/"/, "", $3); name = $3; next }
    inpkg && $1 == "version" && name == want { gsub(/"/, "", $3); print $3; exit }
  ' "$lock"
}

# Run a command as root: directly when we are root (CI, the dev machines), else through sudo.
as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    "$@"
  elif have sudo; then
    sudo "$@"
  else
    die "need root for: $* (no sudo here)"
  fi
}

# Seconds since an epoch-seconds start, for the summaries.
elapsed_since() { echo $(( $(date +%s) - $1 )); }
