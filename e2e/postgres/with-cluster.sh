#!/usr/bin/env bash
# Runs a command with a throwaway Postgres cluster; the command finds it in PORTAL_TEST_POSTGRES.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d /tmp/portal-pg-XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
trap '"$here/cluster.sh" stop "$root"; rm -rf "$root"' EXIT
PORTAL_TEST_POSTGRES=$("$here/cluster.sh" start "$root" "$port")
export PORTAL_TEST_POSTGRES
"$@"
