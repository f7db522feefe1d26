"""The tests' Postgres: a throwaway Debian cluster (e2e/postgres/cluster.sh), one database per portal.

`PORTAL_TEST_POSTGRES` names a running server to use instead (make test starts one cluster for the
Rust tests and both Python passes); otherwise the first call starts a cluster for this session."""
import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

CLUSTER = Path(__file__).resolve().parents[1] / "postgres" / "cluster.sh"
_server = None


def server_url():
    global _server
    if _server is None:
        _server = os.environ.get("PORTAL_TEST_POSTGRES") or _start_cluster()
    return _server


def _start_cluster():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = tempfile.mkdtemp(prefix="portal-pg-")
    url = subprocess.run([str(CLUSTER), "start", root, str(port)], check=True, capture_output=True, text=True).stdout.strip()

    def stop():
        subprocess.run([str(CLUSTER), "stop", root], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)

    atexit.register(stop)
    return url


def new_database():
    """A new, empty database on the test server; returns its URL."""
    name = "p_" + uuid.uuid4().hex[:16]
    server = server_url()
    psql(server, f"CREATE DATABASE {name}")
    return server.rsplit("/", 1)[0] + "/" + name


def psql(url, sql):
    return subprocess.run(["psql", "-X", "-q", "-t", "-A", url, "-c", sql], check=True, capture_output=True, text=True).stdout


def dump(url):
    """Everything the database holds, as text."""
    return subprocess.run(["pg_dump", "--data-only", url], check=True, capture_output=True).stdout


def on_postgres():
    """True when this test run keeps every portal's catalog in Postgres (the second pass of make test)."""
    return os.environ.get("PORTAL_TEST_CATALOG") == "postgres"
