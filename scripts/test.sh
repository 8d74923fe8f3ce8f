#!/usr/bin/env bash
# The one test command: installs what the tests need (only what is missing), then runs every
# test in release mode. A fresh machine needs nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo test --release "$@"
