"""Starts the real `portal` binary on a fresh data directory, seeded with `portal demo`."""
import json
import os
import re
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

import pg

PORTAL_BIN = os.environ.get("PORTAL_BIN", str(Path(__file__).resolve().parents[2] / "target/debug/portal"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Portal:
    def __init__(self, data_dir: Path, port: int, extra_env=None):
        self.data_dir = data_dir
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.endpoint = f"{self.base}/delta-sharing"
        # Every test process calls from 127.0.0.1, and many suites try bad credentials on purpose:
        # the throttle is off unless a test sets it (test_throttling.py tests it, default included).
        quiet = {"PORTAL_AUTH_FAILURES_PER_MINUTE": "1000000"}
        self.env = {**os.environ, **quiet, "PORTAL_DATA_DIR": str(data_dir), "PORTAL_ADDR": f"127.0.0.1:{port}", "PORTAL_CONFIG": str(data_dir / "none.toml"), **(extra_env or {})}
        if pg.on_postgres() and "PORTAL_DATABASE_URL" not in (extra_env or {}):
            self.env["PORTAL_DATABASE_URL"] = pg.new_database()
        self.proc = None

    @property
    def database_url(self):
        return self.env.get("PORTAL_DATABASE_URL")

    def catalog_bytes(self):
        """Everything the catalog holds (the SQLite file, or a dump of the Postgres database)."""
        if self.database_url and self.database_url.startswith("postgres"):
            return pg.dump(self.database_url)
        return (self.data_dir / "catalog.db").read_bytes()

    def cli(self, *args, check=True):
        """Runs `portal <args>`; returns the completed process (stdout/stderr as text)."""
        done = subprocess.run([PORTAL_BIN, *args], env=self.env, capture_output=True, text=True, timeout=300)
        if check and done.returncode != 0:
            raise AssertionError(f"portal {' '.join(args)} failed ({done.returncode}): {done.stderr}")
        return done

    def start(self):
        log = open(self.data_dir / "server.log", "w")
        self.proc = subprocess.Popen([PORTAL_BIN, "serve"], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                requests.get(self.base + "/", timeout=1)
                return self
            except requests.ConnectionError:
                if self.proc.poll() is not None:
                    raise AssertionError("portal serve exited: " + (self.data_dir / "server.log").read_text())
                time.sleep(0.2)
        raise AssertionError("portal did not start listening in 60 s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)

    def profile(self, recipient, path: Path, *extra):
        """Creates a token with the CLI, writes the profile, returns (path, token id)."""
        done = self.cli("token", "create", recipient, "--profile", str(path), *extra)
        return path, done.stdout.strip().splitlines()[-1]

    def activate(self, link, session=None):
        """Presses the activation page's button as a browser does: the page's form token goes
        with the POST (the form is protected against cross-site requests)."""
        session = session or requests.Session()
        page = session.get(link)
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        return session.post(link, data={"csrf": token.group(1) if token else ""})

    def share_new_table(self, table, location, recipient, profile_dir):
        """Shares the Delta table at `location` as `share.schema.table` (a new share) with a new
        recipient; returns that recipient's bearer headers."""
        share = table.split(".")[0]
        self.cli("share", "create", share)
        self.cli("table", "add", table, "--location", str(location))
        self.cli("recipient", "create", recipient)
        self.cli("grant", share, recipient)
        path, _ = self.profile(recipient, Path(profile_dir) / f"{recipient}.share")
        return {"Authorization": f"Bearer {self.token_of(path)}"}

    def token_of(self, profile_path):
        return json.loads(Path(profile_path).read_text())["bearerToken"]

    def audit(self, limit=200):
        return [json.loads(line) for line in self.cli("audit", "--limit", str(limit)).stdout.splitlines()]


@pytest.fixture(scope="session")
def portal(tmp_path_factory):
    data = tmp_path_factory.mktemp("portal-data")
    p = Portal(data, free_port())
    demo = p.cli("demo")
    p.activation_links = dict(re.findall(r"^\s+(\w+) \(P\d+\): (\S+)$", demo.stdout, re.M))
    assert set(p.activation_links) == {"acme_foods", "nordic_goods"}, demo.stdout
    p.start()
    yield p
    p.stop()


@pytest.fixture(scope="session")
def acme_profile(portal, tmp_path_factory):
    path, _ = portal.profile("acme_foods", tmp_path_factory.mktemp("profiles") / "acme.share")
    return path


@pytest.fixture(scope="session")
def nordic_profile(portal, tmp_path_factory):
    path, _ = portal.profile("nordic_goods", tmp_path_factory.mktemp("profiles") / "nordic.share")
    return path


@pytest.fixture(scope="session")
def demo_dir(portal):
    return portal.data_dir / "demo"


@pytest.fixture(scope="session")
def acme(portal, acme_profile):
    """Bearer headers of the demo partner acme_foods (partner_id P001)."""
    return {"Authorization": f"Bearer {portal.token_of(acme_profile)}"}


@pytest.fixture(scope="session")
def nordic(portal, nordic_profile):
    """Bearer headers of the demo partner nordic_goods (partner_id P002)."""
    return {"Authorization": f"Bearer {portal.token_of(nordic_profile)}"}


@pytest.fixture(scope="session")
def sales_p001(demo_dir):
    """Ground truth: acme_foods' rows of the demo sales table, read directly with delta-rs."""
    from deltalake import DeltaTable

    df = DeltaTable(str(demo_dir / "sales")).to_pandas()
    return df[df.partner_id == "P001"].reset_index(drop=True)
