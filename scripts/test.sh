#!/usr/bin/env bash
# The project's test command: starts what the tests need on loopback, then runs every test of the workspace.
#
# - a real FTP server that we did not write (pyftpdlib, installed from PyPI when missing) for the tmas
#   crate's delivery tests; its URL reaches the tests as TMAS_TEST_FTP_URL, and TMAS_REQUIRE_EXTERNAL_FTP=1
#   makes those tests fail rather than skip when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(bash scripts/ftp-server.sh)"
export TMAS_REQUIRE_EXTERNAL_FTP=1
cleanup() { kill "${TMAS_TEST_FTP_PID:-}" 2>/dev/null || true; }
trap cleanup EXIT

cargo test --workspace --all-features
