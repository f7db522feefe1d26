"""Two replicas on one Postgres catalog behind nginx (round robin, no stickiness, https): every
flow works whichever replica answers, a replica killed mid-export loses nothing, and the proxy's
forwarded addresses count only when the proxy is trusted."""
import http.client
import json
import re
import ssl
import time

import numpy as np
import pyarrow as pa
import pytest
import requests
from deltalake import write_deltalake

import pg
from admin import admin_session, partner_session
from replicas import Cluster
from test_connect import Partner, issue, sign_in

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


def test_the_official_client_reads_through_nginx_from_both_replicas(cluster, tmp_path):
    import delta_sharing

    profile = tmp_path / "acme.share"
    cluster.a.cli("token", "create", "acme", "--profile", str(profile))
    assert json.loads(profile.read_text())["endpoint"] == cluster.endpoint
    before = [served(r, "/files/{table_id}/{*path}") for r in cluster.replicas]
    client = delta_sharing.SharingClient(str(profile))
    for _ in range(4):
        assert {t.name for t in client.list_all_tables()} == {"orders", "lines"}
    df = delta_sharing.load_as_pandas(f"{profile}#retail.s.orders")
    assert len(df) == ORDERS_PER_PARTNER and set(df["partner_id"]) == {"P1"}
    assert sorted(df["order_id"]) == list(range(0, 6 * 4_000, 2))
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


def test_a_new_token_is_shown_once_whichever_replica_answers(cluster):
    partner = Partner("acme", sign_in(cluster.front, cluster.acme_token), cluster.acme_token, "")
    shown = issue(partner, "pipeline on replicas")
    # The one-time id of the reveal is spent: showing it again (on any replica) shows nothing.
    for _ in range(2):
        again = partner.browser.page(shown.location)
        assert again.first("input", id="new-token") is None
    assert requests.get(cluster.base + "/delta-sharing/shares", headers={"Authorization": f"Bearer {shown.token}"}).status_code == 200


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
        # Nothing was left half-done: no part file, no job still held by the dead replica.
        shared = cluster.a.data_dir.parent / "shared-exports"
        assert not list(shared.glob("*.part"))
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
    text = requests.get(cluster.base + "/metrics", headers=METRICS).text
    for family in ("portal_http_requests_total", "portal_http_request_duration_seconds_bucket", "portal_sharing_calls_total",
                   "portal_sharing_files_signed_total", "portal_export_jobs", "portal_sessions_active", "portal_catalog_connections"):
        assert f"\n{family}" in text, family
    # Route templates, never a partner's names or ids.
    assert "acme" not in text and 'route="/delta-sharing/shares"' in text
