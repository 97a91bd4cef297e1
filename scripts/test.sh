#!/usr/bin/env bash
# The project's test command: starts what the tests need on loopback, then runs every test of the workspace.
#
# - a real FTP server that we did not write (pyftpdlib, installed from PyPI when missing) for the tmas
#   crate's delivery tests: TMAS_TEST_FTP_URL;
# - a throwaway PostgreSQL cluster (installed from Debian's packages when missing) for sync-core's
#   PostgreSQL state store and work leases: SYNC_TEST_DATABASE_URL.
# The REQUIRE variables make those tests fail, rather than skip, when their server is missing.
#
# The official specifications (Lightspeed OpenAPI, Business Central $metadata) are read from
# ../shared/reference beside the checkout, or POS_SYNC_REFERENCE_DIR; without them the contract tests fail
# unless POS_SYNC_SKIP_SPEC_TESTS=1.
set -euo pipefail
cd "$(dirname "$0")/.."

cleanup() {
    kill "${TMAS_TEST_FTP_PID:-}" 2>/dev/null || true
    kill "${SYNC_TEST_PG_PID:-}" 2>/dev/null || true
    if [ -n "${SYNC_TEST_PG_DIR:-}" ]; then rm -rf "$SYNC_TEST_PG_DIR"; fi
}
trap cleanup EXIT

reference="${POS_SYNC_REFERENCE_DIR:-$(pwd)/../shared/reference}"
if [ -f "$reference/README.md" ]; then
    export POS_SYNC_REFERENCE_DIR="$(cd "$reference" && pwd)"
    echo "== official specifications: $POS_SYNC_REFERENCE_DIR"
elif [ "${POS_SYNC_SKIP_SPEC_TESTS:-}" = 1 ]; then
    echo "== official specifications: not checked (POS_SYNC_SKIP_SPEC_TESTS=1)"
else
    echo "the official specifications were not found at $reference (set POS_SYNC_REFERENCE_DIR, or POS_SYNC_SKIP_SPEC_TESTS=1 to skip the contract tests)" >&2
    exit 2
fi

eval "$(bash scripts/ftp-server.sh)"
export TMAS_REQUIRE_EXTERNAL_FTP=1
eval "$(bash scripts/pg-server.sh)"
export SYNC_REQUIRE_POSTGRES=1

cargo test --workspace --all-features
