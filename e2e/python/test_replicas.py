"""Two replicas on one Postgres catalog behind nginx (round robin, no stickiness, https): every
flow works whichever replica answers, a replica killed mid-export loses nothing, and the proxy's
forwarded addresses count only when the proxy is trusted."""
import http.client
import json
import os
import re
import ssl
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pytest
import requests
from deltalake import write_deltalake

import pg
from admin import admin_session, partner_session
from replicas import Cluster
from concurrent.futures import ThreadPoolExecutor

from test_connect import Partner, csrf_of, issue, sign_in

METRICS = {"Authorization": "Bearer metrics-token-for-tests"}
ORDERS_PER_PARTNER = 6 * 2_000
BIG_ROWS = 1_500_000


def orders(commit):
    n = np.arange(commit * 4_000, (commit + 1) * 4_000, dtype=np.int64)
    return pa.table({"order_id": n, "partner_id": np.where(n % 2 == 0, "P1", "P2"), "amount": n * 0.5})


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    root = tmp_path_factory.mktemp("replicas")
    # Six commits: the partner's rows sit in six files, so the official client's downloads spread
    # over both replicas.
    for commit in range(6):
        write_deltalake(str(root / "orders"), orders(commit), partition_by=["partner_id"], mode="append")
    n = np.arange(BIG_ROWS, dtype=np.int64)
    write_deltalake(str(root / "lines"), pa.table({"n": n, "label": pa.array([f"line {i % 1000}" for i in range(BIG_ROWS)]), "amount": n * 0.25}))
    c = Cluster(root)
    a = c.a
    a.cli("share", "create", "retail")
    a.cli("table", "add", "retail.s.orders", "--location", str(root / "orders"), "--scope", "partner_id=partner_id")
    a.cli("table", "add", "retail.s.lines", "--location", str(root / "lines"))
    a.cli("recipient", "create", "acme", "--property", "partner_id=P1")
    a.cli("grant", "retail", "acme")
    done = a.cli("token", "create", "acme")
    c.acme_token = json.loads("\n".join(done.stdout.strip().splitlines()[:-1]))["bearerToken"]
    c.acme = {"Authorization": f"Bearer {c.acme_token}"}
    yield c
    c.stop()


@pytest.fixture(autouse=True)
def trust_the_test_certificate(cluster, monkeypatch):
    # requests (and the official client through it) and aiohttp trust nginx's self-signed certificate.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", cluster.cert)
    monkeypatch.setenv("SSL_CERT_FILE", cluster.cert)


def metrics(replica):
    resp = requests.get(replica.base + "/metrics", headers=METRICS)
    assert resp.status_code == 200, resp.text
    return resp.text


def served(replica, route):
    """How many requests of `route` (a route template) this replica answered."""
    pattern = re.compile(r'^portal_http_requests_total\{route="' + re.escape(route) + r'",[^}]*\} (\d+)$', re.M)
    return sum(int(n) for n in pattern.findall(metrics(replica)))


def sharing_calls(replica):
    return sum(int(n) for n in re.findall(r"^portal_sharing_calls_total\{[^}]*\} (\d+)$", metrics(replica), re.M))


# Runs in a process of its own: aiohttp (under the client's file reads) fixes its TLS trust when it
# is first imported, so the test certificate must be trusted from the start.
OFFICIAL_CLIENT = """
import json, sys
import delta_sharing
profile = sys.argv[1]
client = delta_sharing.SharingClient(profile)
tables = [sorted(t.name for t in client.list_all_tables()) for _ in range(4)]
df = delta_sharing.load_as_pandas(profile + "#retail.s.orders")
print(json.dumps({"tables": tables, "partners": sorted(set(df["partner_id"])), "ids": sorted(int(i) for i in df["order_id"])}))
"""


def test_the_official_client_reads_through_nginx_from_both_replicas(cluster, tmp_path):
    profile = tmp_path / "acme.share"
    cluster.a.cli("token", "create", "acme", "--profile", str(profile))
    assert json.loads(profile.read_text())["endpoint"] == cluster.endpoint
    before = [served(r, "/files/{table_id}/{*path}") for r in cluster.replicas]
    env = {**os.environ, "REQUESTS_CA_BUNDLE": cluster.cert, "SSL_CERT_FILE": cluster.cert}
    done = subprocess.run([sys.executable, "-c", OFFICIAL_CLIENT, str(profile)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    read = json.loads(done.stdout.strip().splitlines()[-1])
    assert read["tables"] == [["lines", "orders"]] * 4
    assert read["partners"] == ["P1"] and read["ids"] == list(range(0, 6 * 4_000, 2))
    # The URLs one replica signed were fetched from both: the key is the catalog's, shared.
    after = [served(r, "/files/{table_id}/{*path}") for r in cluster.replicas]
    assert all(a > b for a, b in zip(after, before)), (before, after)
    assert all(sharing_calls(r) > 0 for r in cluster.replicas)


def test_page_cursors_cross_replicas(cluster):
    url = f"{cluster.base}/api/v1/shares/retail/schemas/s/tables/orders/rows?_size=1000"
    seen, pages = [], 0
    while url:
        resp = requests.get(url, headers=cluster.acme)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        seen.extend(row[0] for row in body["rows"])
        url, pages = body["next_url"], pages + 1
    assert pages == ORDERS_PER_PARTNER // 1000 and len(seen) == len(set(seen)) == ORDERS_PER_PARTNER


def test_activation_sign_in_and_browsing_on_any_replica(cluster):
    # The activation page's form token is made by one replica and checked by the other.
    web = partner_session(cluster.front, "acme")
    for _ in range(4):
        page = web.get(cluster.base + "/")
        assert page.status_code == 200 and "orders" in page.text
    cookie = [c for c in web.cookies if c.name == "portal_session"][0]
    assert cookie.secure, "the public URL is https: the session cookie is Secure"
    hsts = web.get(cluster.base + "/login").headers.get("strict-transport-security", "")
    assert hsts.startswith("max-age=63072000"), f"https answers pin https (HSTS): {hsts!r}"


def test_a_new_token_is_shown_once_whichever_replica_answers(cluster):
    partner = Partner("acme", sign_in(cluster.front, cluster.acme_token), cluster.acme_token, "")
    shown = issue(partner, "pipeline on replicas")
    # The one-time id of the reveal is spent: showing it again (on any replica) shows nothing.
    for _ in range(2):
        again = partner.browser.page(shown.location)
        assert again.first("input", id="new-token") is None
    assert requests.get(cluster.base + "/delta-sharing/shares", headers={"Authorization": f"Bearer {shown.token}"}).status_code == 200


def test_concurrent_token_requests_on_both_replicas_stay_within_the_limit(cluster):
    a = cluster.a
    a.cli("recipient", "create", "racer", "--property", "partner_id=P1")
    a.cli("recipient", "policy", "racer", "--max-active-tokens", "3")
    done = a.cli("token", "create", "racer")
    token = json.loads("\n".join(done.stdout.strip().splitlines()[:-1]))["bearerToken"]
    browser = sign_in(cluster.front, token)
    csrf = csrf_of(browser.page())

    def attempt(i):
        web = requests.Session()
        web.cookies.update(browser.web.cookies)
        return web.post(cluster.base + "/connect/tokens", data={"csrf": csrf, "name": f"tool {i}"}, allow_redirects=False)

    # Eight requests at once, spread by nginx over both replicas: the CLI token plus two fit.
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(attempt, range(8)))
    assert all(r.status_code == 303 for r in answers), [r.status_code for r in answers]
    created = [r for r in answers if r.headers["location"].startswith("/connect?issued=")]
    assert len(created) == 2, [r.headers["location"] for r in answers]
    listed = a.cli("token", "list", "racer").stdout
    assert len(re.findall(r"\bactive\b", listed)) == 3, listed


def test_admin_sign_in_link_and_console_on_any_replica(cluster):
    web = admin_session(cluster.front)
    for _ in range(4):
        page = web.get(cluster.base + "/admin/recipients")
        assert page.status_code == 200 and "acme" in page.text


def job_row(cluster, job_id):
    out = pg.psql(cluster.database_url, f"SELECT status, coalesce(lease_owner, ''), attempts FROM export_jobs WHERE id = '{job_id}'").strip()
    status, owner, attempts = out.split("|")
    return status, owner, int(attempts)


def test_a_replica_killed_during_an_export_hands_the_job_to_the_other(cluster):
    created = requests.post(f"{cluster.base}/api/v1/shares/retail/schemas/s/tables/lines/exports?_format=csv&_dialect=plain", headers=cluster.acme)
    assert created.status_code == 202, created.text
    job_id = created.json()["id"]
    deadline = time.monotonic() + 60
    while (row := job_row(cluster, job_id))[0] != "running":
        assert row[0] == "queued" and time.monotonic() < deadline, row
        time.sleep(0.05)
    owner_pid = int(row[1].split("-")[-2])
    victim = next(r for r in cluster.replicas if r.proc.pid == owner_pid)
    survivor = next(r for r in cluster.replicas if r is not victim)
    victim.proc.kill()
    victim.proc.wait()
    try:
        deadline = time.monotonic() + 180
        while (row := job_row(cluster, job_id))[0] != "done":
            assert row[0] in ("running", "queued") and time.monotonic() < deadline, row
            time.sleep(0.2)
        assert row[2] == 2, "taken over once, after the lease lapsed"
        # Through nginx (which now reaches only the survivor) the file downloads complete.
        job = requests.get(f"{cluster.base}/api/v1/exports/{job_id}", headers=cluster.acme).json()
        assert job["status"] == "done" and job["rows_written"] == job["rows_total"] == BIG_ROWS
        body = requests.get(job["download_url"], headers=cluster.acme)
        assert body.status_code == 200
        lines = body.content.decode().splitlines()
        assert lines[0] == "n,label,amount" and len(lines) == BIG_ROWS + 1
        assert served(survivor, "/api/v1/exports/{id}/file") >= 1
        # Nothing was left half-done: the dead replica's part file is swept (by whichever replica
        # holds the sweep, once the dead one's hold on it lapses), no job is held by the dead replica.
        shared = cluster.a.data_dir.parent / "shared-exports"
        deadline = time.monotonic() + 120
        while list(shared.glob("*.part")):
            assert time.monotonic() < deadline, list(shared.glob("*.part"))
            time.sleep(1)
        assert pg.psql(cluster.database_url, f"SELECT count(*) FROM export_jobs WHERE lease_owner LIKE '%-{owner_pid}-%'").strip() == "0"
    finally:
        victim.start()


def https_from(cluster, source, path, headers):
    """A request to nginx from another loopback address (another client machine, in effect)."""
    context = ssl.create_default_context(cafile=cluster.cert)
    conn = http.client.HTTPSConnection("127.0.0.1", cluster.nginx.port, context=context, source_address=(source, 0), timeout=30)
    conn.request("GET", path, headers=headers)
    return conn.getresponse().status


def test_allow_lists_see_the_real_client_behind_the_proxy_and_ignore_forged_headers(cluster):
    a = cluster.a
    a.cli("recipient", "create", "fenced", "--property", "partner_id=P1", "--ip", "127.0.0.3")
    a.cli("grant", "retail", "fenced")
    token = json.loads("\n".join(a.cli("token", "create", "fenced").stdout.strip().splitlines()[:-1]))["bearerToken"]
    auth = {"Authorization": f"Bearer {token}"}
    assert https_from(cluster, "127.0.0.3", "/delta-sharing/shares", auth) == 200
    assert https_from(cluster, "127.0.0.4", "/delta-sharing/shares", auth) == 403
    # A client that forges the header is still seen at its own address: nginx appends the real one.
    assert requests.get(cluster.base + "/delta-sharing/shares", headers={**auth, "X-Forwarded-For": "127.0.0.3"}).status_code == 403
    # nginx passes a client's own `Forwarded` on untouched: the portal reads only X-Forwarded-For.
    assert requests.get(cluster.base + "/delta-sharing/shares", headers={**auth, "Forwarded": "for=127.0.0.3"}).status_code == 403
    # Called directly, a replica does not trust the caller's header at all.
    for replica in cluster.replicas:
        assert requests.get(replica.base + "/delta-sharing/shares", headers={**auth, "X-Forwarded-For": "127.0.0.3"}).status_code == 403
    audit = [json.loads(line) for line in a.cli("audit", "--limit", "20").stdout.splitlines()]
    mine = [e for e in audit if e.get("actor") == "recipient:fenced"]
    assert {e.get("client_ip") for e in mine if e["status"] == 200} == {"127.0.0.3"}
    assert "127.0.0.2" not in {e.get("client_ip") for e in mine}, "the proxy's own address is never the client's"


def test_health_readiness_and_guarded_metrics(cluster):
    assert requests.get(cluster.base + "/healthz").status_code == 200
    assert requests.get(cluster.base + "/readyz").text == "ready\n"
    assert requests.get(cluster.base + "/metrics").status_code == 404
    assert requests.get(cluster.base + "/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    # Whichever replica answers (one was restarted by the kill test, its counters fresh), every
    # family is declared, and what it counted is named by route templates, never by a partner.
    requests.get(cluster.base + "/delta-sharing/shares", headers=cluster.acme)
    text = requests.get(cluster.base + "/metrics", headers=METRICS).text
    for family in ("portal_http_requests_total", "portal_http_request_duration_seconds", "portal_sharing_calls_total",
                   "portal_sharing_files_signed_total", "portal_export_jobs", "portal_sessions_active", "portal_catalog_connections"):
        assert f"# TYPE {family} " in text, family
    assert re.search(r'^portal_http_requests_total\{route="/metrics",method="GET",status="404"\} \d+$', text, re.M), text[:2000]
    assert re.search(r'^portal_catalog_connections\{state="open"\} [1-9]', text, re.M)
    assert "acme" not in text and "retail" not in text


def test_an_async_query_submitted_on_one_replica_is_answered_by_the_other(cluster):
    """The query lives in the catalog: replica b answers what replica a accepted, with the same
    files and the version a pinned."""
    path = "/delta-sharing/shares/retail/schemas/s/tables/orders"
    caps = {**cluster.acme, "delta-sharing-capabilities": "asyncquery=true"}
    submitted = requests.post(cluster.a.base + path + "/query", json={"idempotencyKey": "hop-1"}, headers=caps)
    assert submitted.status_code == 200, submitted.text
    query_id = json.loads(submitted.text)["queryStatus"]["queryId"]
    deadline = time.time() + 30
    while True:
        answer = requests.post(f"{cluster.b.base}{path}/queries/{query_id}", json={}, headers=cluster.acme)
        assert answer.status_code == 200, answer.text
        if "queryStatus" not in answer.text:
            break
        assert time.time() < deadline
        time.sleep(0.1)
    sync = requests.post(cluster.a.base + path + "/query", json={}, headers=cluster.acme)
    ids = lambda resp: sorted(json.loads(l)["file"]["id"] for l in resp.text.splitlines() if '"file"' in l)  # noqa: E731
    assert answer.headers["delta-table-version"] == sync.headers["delta-table-version"]
    assert ids(answer) == ids(sync) and len(ids(sync)) == 6, "acme's six files, scoped to P1"
    again = requests.post(cluster.b.base + path + "/query", json={"idempotencyKey": "hop-1"}, headers=caps)
    assert json.loads(again.text)["queryStatus"]["queryId"] == query_id, "the key is known to every replica"
