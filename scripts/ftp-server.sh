#!/usr/bin/env bash
# Starts a real FTP server (pyftpdlib, not written by us) on a free loopback port with a fresh
# temporary directory and a user/password, for the tmas crate's external FTP test.
#
#   eval "$(scripts/ftp-server.sh)"      # exports TMAS_TEST_FTP_URL, TMAS_TEST_FTP_DIR, TMAS_TEST_FTP_PID
#   cargo test -p tmas --all-features --test external_ftp
#   kill "$TMAS_TEST_FTP_PID"
#
# Only `export ...` lines go to stdout; progress goes to stderr.
set -euo pipefail

PYTHON="${PYTHON:-python3}"
FTP_USER="${TMAS_TEST_FTP_USER:-tmas}"
FTP_PASS="${TMAS_TEST_FTP_PASS:-tmas-$RANDOM$RANDOM}"

if ! "$PYTHON" -c 'import pyftpdlib' >/dev/null 2>&1; then
    echo "installing pyftpdlib..." >&2
    "$PYTHON" -m pip install --quiet --disable-pip-version-check pyftpdlib >&2 \
        || "$PYTHON" -m pip install --quiet --disable-pip-version-check --user pyftpdlib >&2
fi

ROOT="$(mktemp -d "${TMPDIR:-/tmp}/tmas-ftp.XXXXXX")"
mkdir -p "$ROOT/files"
PORT="$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"

cat >"$ROOT/server.py" <<'PY'
import logging, sys
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer

user, password, home, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
logging.basicConfig(level=logging.WARNING)
authorizer = DummyAuthorizer()
authorizer.add_user(user, password, home, perm="elradfmwMT")
handler = FTPHandler
handler.authorizer = authorizer
handler.passive_ports = None
server = FTPServer(("127.0.0.1", port), handler)
server.serve_forever()
PY

nohup "$PYTHON" "$ROOT/server.py" "$FTP_USER" "$FTP_PASS" "$ROOT/files" "$PORT" >"$ROOT/server.log" 2>&1 &
PID=$!

for _ in $(seq 1 100); do
    if "$PYTHON" -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex(('127.0.0.1', $PORT)))" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$PID" 2>/dev/null; then
        echo "pyftpdlib failed to start:" >&2
        cat "$ROOT/server.log" >&2
        exit 1
    fi
    sleep 0.1
done

echo "pyftpdlib FTP server on 127.0.0.1:$PORT (pid $PID, files in $ROOT/files)" >&2
echo "export TMAS_TEST_FTP_URL='ftp://$FTP_USER:$FTP_PASS@127.0.0.1:$PORT/'"
echo "export TMAS_TEST_FTP_DIR='$ROOT/files'"
echo "export TMAS_TEST_FTP_PID='$PID'"
