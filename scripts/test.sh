#!/usr/bin/env bash
# The project's test command: starts what the tests need on loopback, then runs every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

cleanup() { :; }
trap 'cleanup' EXIT

cargo test --workspace --all-features
