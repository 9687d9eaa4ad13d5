#!/usr/bin/env bash
# README command 1: set up, build the release app and server, and start parley-server in demo
# mode. It prints the agent url (open it) and the customer url (open it in a second tab).
# PARLEY_PORT picks the port (default 8080); data lives in .parley/demo and survives restarts.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$PARLEY_ROOT"

bash scripts/setup.sh
parley_path
step "trunk build --release"
trunk build --release
step "cargo build --profile server -p parley-server"
cargo build --profile server -p parley-server
target_dir="${CARGO_TARGET_DIR:-target}"
step "parley-server --demo (Ctrl-C stops it)"
mkdir -p .parley/demo
exec "$target_dir/server/parley-server" --demo --data-dir .parley/demo --dist dist --port "${PARLEY_PORT:-8080}"
