#!/usr/bin/env bash
# Installs everything a fresh Debian 12 machine of this project's kind lacks to build,
# run and test Parley. Idempotent: each step is skipped when its tool is already there
# at the right version, so a second run takes seconds.
#
#   wasm32 target · Trunk 0.21.x · wasm-bindgen CLI (= Cargo.lock's wasm-bindgen)
#   npm packages from package-lock.json (wasm-opt from binaryen, playwright-core, ...)
#   Debian: chromium chromium-driver ffmpeg opus-tools
#
# Source scripts/lib.sh and call parley_path afterwards to get the same PATH.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
parley_path
cd "$PARLEY_ROOT"

setup_started=$(date +%s)
# Overridable so the install paths can be exercised without touching the real machine.
APT_GET="${PARLEY_APT_GET:-apt-get}"
APT_PACKAGES=(chromium chromium-driver ffmpeg opus-tools)
TRUNK_SERIES="0.21"

# --- Rust toolchain and the wasm target ---------------------------------------------------
have cargo || die "cargo not found: this machine kind ships Rust via rustup; install rustup first"
have rustup || die "rustup not found: needed to add the wasm32-unknown-unknown target"
if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  ok "rust target wasm32-unknown-unknown"
else
  step "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# --- Debian packages: the browser for the end-to-end tests, media tools for voice notes ----
dpkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg_installed "$pkg" || missing+=("$pkg")
done
# Node runs the end-to-end tests and npm installs wasm-opt; Debian's own is a fallback.
have node || missing+=(nodejs)
have npm || missing+=(npm)
if ((${#missing[@]} == 0)); then
  ok "apt packages: ${APT_PACKAGES[*]}"
else
  step "apt-get install ${missing[*]}"
  # The package lists may be empty or stale on a new machine: update once, only now.
  as_root env DEBIAN_FRONTEND=noninteractive "$APT_GET" update -qq
  as_root env DEBIAN_FRONTEND=noninteractive "$APT_GET" install -y -qq "${missing[@]}"
fi

# --- Trunk 0.21.x (0.22 needs a newer rustc than this machine has) ----------------------
trunk_version() { trunk --version 2>/dev/null | awk '{print $2}'; }
if [[ "$(trunk_version)" == "$TRUNK_SERIES".* ]]; then
  ok "trunk $(trunk_version)"
else
  step "cargo install --locked trunk --version ^$TRUNK_SERIES  (about 5 minutes on 2 cores)"
  [[ -n "$(trunk_version)" ]] && note "replacing trunk $(trunk_version)"
  cargo install --locked --force trunk --version "^$TRUNK_SERIES"
  [[ "$(trunk_version)" == "$TRUNK_SERIES".* ]] || die "trunk on PATH is '$(trunk_version)' after install (PATH=$PATH)"
fi

# --- wasm-bindgen CLI at exactly the version the app links --------------------------------
wb_want="$(cargo_lock_version wasm-bindgen)"
[[ -n "$wb_want" ]] || die "no wasm-bindgen entry in Cargo.lock: run 'cargo generate-lockfile' first"
wb_version() { wasm-bindgen --version 2>/dev/null | awk '{print $2}'; }
if [[ "$(wb_version)" == "$wb_want" ]]; then
  ok "wasm-bindgen $wb_want"
else
  step "cargo install wasm-bindgen-cli --version =$wb_want  (about 2 minutes)"
  [[ -n "$(wb_version)" ]] && note "replacing wasm-bindgen $(wb_version)"
  # Not --locked: the CLI's own lock pins a crate that is no longer in the registry.
  cargo install --force wasm-bindgen-cli --version "=$wb_want"
  [[ "$(wb_version)" == "$wb_want" ]] || die "wasm-bindgen on PATH is '$(wb_version)' after install, want $wb_want"
fi
# Trunk refuses a tool whose version differs from Trunk.toml's [tools]; say so here, clearly.
if [[ -f Trunk.toml ]]; then
  trunk_wb="$(sed -n 's/^[[:space:]]*wasm_bindgen[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' Trunk.toml)"
  if [[ -n "$trunk_wb" && "$trunk_wb" != "$wb_want" ]]; then
    die "Trunk.toml [tools] wasm_bindgen = \"$trunk_wb\" but Cargo.lock has wasm-bindgen $wb_want: make them equal"
  fi
fi

# --- npm packages (wasm-opt, playwright-core, @rails/actioncable, axe-core, pixelmatch) ---
lock_hash="$(cat package.json package-lock.json | sha256sum | awk '{print $1}')-node$(node --version)"
stamp=node_modules/.parley-lock-hash
if [[ -f "$stamp" && "$(cat "$stamp")" == "$lock_hash" ]]; then
  ok "node_modules matches package-lock.json"
else
  step "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  printf '%s\n' "$lock_hash" >"$stamp"
fi
wasm_opt_version="$(wasm-opt --version 2>/dev/null || true)"
[[ "$wasm_opt_version" == *version_132* ]] || die "wasm-opt on PATH is '$wasm_opt_version', want version_132 (npm binaryen@132)"
ok "wasm-opt ${wasm_opt_version##* }"

[[ -x /usr/bin/chromium ]] || die "/usr/bin/chromium missing after apt install"
ok "$(/usr/bin/chromium --version 2>/dev/null | head -1)"
ok "setup done in $(elapsed_since "$setup_started")s"
