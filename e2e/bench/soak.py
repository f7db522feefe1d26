"""Soak: minutes of mixed load on one portal, watching for server errors, memory growth and
leaking file descriptors. Run with `make soak` (release build, 10 minutes; not part of `make test`).

The portal (PORTAL_BIN, default target/release/portal) serves a fresh data directory seeded with
`portal demo`. Python threads, each with its own `requests.Session`, run these flows in a loop:

  protocol  Delta Sharing reads as a client does: shares, schemas, tables, version, metadata,
            query with and without predicate / limit hints, changes, then a couple of the signed
            file URLs (one whole, one ranged)
  preview   the rows API: filters, sorting, facets, column choice, paging, time travel
  download  export.csv / export.xlsx of small filtered views
  export    background export jobs: create, poll until done, download, delete; now and then
            cancelled right after creating
  signin    a browser signing in at /login with an access token (and the page's form token),
            loading /, /connect, a table page and the stylesheet, signing out
  admin     the admin API with an admin API token: a recipient is created, granted a share,
            given an activation link which is redeemed for a token, the token read with and
            revoked, the grant removed, the recipient deleted; now and then a share with a table
            made and deleted, a preview as a recipient, the audit log read

Every status >= 500 and every connection error is a failure (so is a sign-in answered with
`/login?error=unavailable`, the form's way of saying the server failed). The server's RSS
(/proc/<pid>/status VmRSS) and open file descriptors (/proc/<pid>/fd) are sampled every 5 s.
Criteria: zero server errors; RSS at the end <= 1.2 x RSS at the mark (2 minutes in, or 20 % of
the run when it is shorter than 10 minutes); open fds at the end <= fds at the mark + 10; every
kind of load completed flows; the portal stops cleanly on SIGTERM. Prints a report, writes
bench-results/soak.json (and the server's log beside it), exits 1 when a criterion fails.
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "e2e" / "python"))
import conftest  # noqa: E402
from conftest import Portal, free_port  # noqa: E402

OUT = ROOT / "bench-results" / "soak.json"
SAMPLE_EVERY = 5.0
RSS_FACTOR = 1.2
FD_SLACK = 10
TIMEOUT = 120
KINDS = ("protocol", "preview", "download", "export", "signin", "admin")
# Threads per kind of load (times --scale).
THREADS = {"protocol": 2, "preview": 2, "download": 1, "export": 1, "signin": 1, "admin": 1}
CSRF = re.compile(r'name="csrf"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf"')
FINISHED = {"done", "failed", "cancelled", "expired"}

ROWS = "/api/v1/shares/{}/schemas/{}/tables/{}/rows"
EXPORT = "/api/v1/shares/{}/schemas/{}/tables/{}/export.{}"
JOBS_CREATE = "/api/v1/shares/{}/schemas/{}/tables/{}/exports"
ADMIN = "/api/v1/admin"

# Tables each demo partner reads: (share, schema, table).
TABLES = {
    "acme_foods": [("wholesale", "commerce", "sales"), ("wholesale", "commerce", "stock"), ("partner_program", "analytics", "returns")],
    "nordic_goods": [("wholesale", "commerce", "sales"), ("wholesale", "commerce", "stock"), ("connected_retail", "retail", "sales_feed"), ("connected_retail", "retail", "stock")],
}
SALES_LIKE = {("wholesale", "commerce", "sales"), ("connected_retail", "retail", "sales_feed")}
SALES_VIEWS = [
    "_size=50",
    "country=DE&_sort_desc=revenue&_size=100",
    "units__gt=3&_facet=country&_size=1",
    "product__contains=oat&_facet=country&_facet=units&_size=20",
    "order_date__gte=2026-12-01&_count=all&_size=10",
    "country__in=DE,SE&units__lte=5&_sort=order_date&_size=200",
    "_col=order_id&_col=units&_col=revenue&_sort=units&_size=500",
    "_nocol=sku&_nocol=product&product__isblank=1&_size=25",
    "order_date__date=2026-11-20&_facet=country&_size=5",
    "_version=1&_size=20",
]
OTHER_VIEWS = ["_size=50", "_size=10&_count=all", "_sort=sku&_size=20"]
SMALL_DOWNLOADS = [
    "country=DE&units__gt=20",
    "country=SE&units__gt=20&_sort_desc=revenue",
    "order_date__gte=2026-12-25&_nocol=sku",
    "country=PL&units__gt=18&_dialect=excel",
    "product__contains=rice&country=IT",
]
JOB_VIEWS = ["country=DE", "country=SE&units__gt=3&_sort_desc=revenue", "units__lt=10&_nocol=sku", "order_date__gte=2026-11-01&_dialect=excel", ""]


def hint(op, column, value_type, value):
    return json.dumps({"op": op, "children": [{"op": "column", "name": column, "valueType": value_type}, {"op": "literal", "value": value, "valueType": value_type}]})


# --- Recording ------------------------------------------------------------------------------------


class Abort(Exception):
    """The flow cannot go on (an unexpected answer, already recorded)."""


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = Counter()
        self.flows = Counter()
        self.server_errors = []  # every 5xx / connection error / hidden server failure
        self.server_error_count = Counter()
        self.unexpected = Counter()  # (kind, what) -> count: answers the flow did not expect
        self.unexpected_examples = {}
        self.client_bugs = Counter()
        self.client_bug_examples = {}

    def record(self, kind, n=1):
        with self.lock:
            self.requests[kind] += n

    def server_error(self, kind, what, detail):
        with self.lock:
            self.server_error_count[kind] += 1
            if len(self.server_errors) < 200:
                self.server_errors.append({"at": time.strftime("%H:%M:%S"), "kind": kind, "request": what, "detail": detail[:600]})
        print(f"  !! server error ({kind}) {what}: {detail[:300]}", flush=True)

    def surprise(self, kind, what, detail):
        with self.lock:
            self.unexpected[(kind, what)] += 1
            self.unexpected_examples.setdefault((kind, what), detail[:400])

    def bug(self, kind, exc):
        key = (kind, f"{type(exc).__name__}: {exc}"[:200])
        with self.lock:
            self.client_bugs[key] += 1
            self.client_bug_examples.setdefault(key, traceback.format_exc()[-1500:])


def route_of(url):
    """The request's path with ids blurred, so repeated failures group together."""
    path = urlsplit(url).path
    path = re.sub(r"/(activate|admin/login)/[^/]+", r"/\1/<code>", path)
    path = re.sub(r"/files/[^/]+/.*", "/files/<table>/<path>", path)
    path = re.sub(r"/(exports|tokens)/[0-9A-Za-z_-]{8,}", r"/\1/<id>", path)
    path = re.sub(r"(soak_[a-z]+_)[0-9a-f]{8}", r"\1<n>", path)
    return path


class Client:
    """One thread's HTTP: every call is counted under the thread's kind; 5xx and connection
    errors are recorded as failures; an answer outside `expect` aborts the flow."""

    def __init__(self, stats, kind, base, headers=None):
        self.stats, self.kind, self.base = stats, kind, base
        self.http = requests.Session()
        self.http.headers.update(headers or {})

    def call(self, method, url, expect=(200,), session=None, **kw):
        http = session or self.http
        url = url if url.startswith("http") else self.base + url
        what = f"{method} {route_of(url)}"
        kw.setdefault("timeout", TIMEOUT)
        kw.setdefault("allow_redirects", False)
        self.stats.record(self.kind)
        try:
            resp = http.request(method, url, **kw)
            _ = resp.content
        except requests.RequestException as e:
            self.stats.server_error(self.kind, what, f"connection error: {type(e).__name__}: {e}")
            raise Abort() from e
        if resp.status_code >= 500:
            self.stats.server_error(self.kind, what, f"{resp.status_code} {resp.text[:500]}")
            raise Abort()
        if expect and resp.status_code not in expect:
            self.stats.surprise(self.kind, f"{what} -> {resp.status_code}", f"{url}\n{resp.text[:300]}")
            raise Abort()
        return resp

    def get(self, url, **kw):
        return self.call("GET", url, **kw)

    def post(self, url, **kw):
        return self.call("POST", url, **kw)

    def check(self, ok, what, detail=""):
        if not ok:
            self.stats.surprise(self.kind, what, detail)
            raise Abort()


def csrf_of(html):
    m = CSRF.search(html)
    return (m.group(1) or m.group(2)) if m else None


# --- The flows ------------------------------------------------------------------------------------


class Load:
    def __init__(self, portal, stats, partners, admin_token, stop, think, site_css):
        self.portal, self.stats, self.partners, self.admin_token = portal, stats, partners, admin_token
        self.stop, self.think, self.site_css = stop, think, site_css

    def run(self, kind, index):
        rng = random.Random(f"{kind}-{index}")
        flow = getattr(self, kind)
        client = None
        while not self.stop.is_set():
            if client is None:
                client = Client(self.stats, kind, self.portal.base)
            try:
                flow(client, rng)
                with self.stats.lock:
                    self.stats.flows[kind] += 1
            except Abort:
                pass
            except Exception as e:  # a bug of this script, or an answer of a shape it did not expect
                self.stats.bug(kind, e)
                time.sleep(0.5)
            if rng.random() < 0.02:  # a client reconnects now and then
                client.http.close()
                client = None
            if self.think:
                self.stop.wait(self.think)
        if client:
            client.http.close()

    def partner(self, rng):
        name = rng.choice(sorted(self.partners))
        return name, {"Authorization": f"Bearer {self.partners[name]}"}

    def protocol(self, c, rng):
        name, auth = self.partner(rng)
        ep = self.portal.endpoint
        shares = c.get(ep + "/shares", headers=auth).json()["items"]
        c.check(shares, "no shares listed")
        share = rng.choice(shares)["name"]
        c.get(f"{ep}/shares/{share}", headers=auth)
        c.get(f"{ep}/shares/{share}/schemas", headers=auth)
        tables = c.get(f"{ep}/shares/{share}/all-tables", headers=auth, params={"maxResults": 10}).json()["items"]
        c.check(tables, f"no tables in {share}")
        t = rng.choice(tables)
        path = f"{ep}/shares/{t['share']}/schemas/{t['schema']}/tables/{t['name']}"
        c.get(f"{ep}/shares/{share}/schemas/{t['schema']}/tables", headers=auth)
        c.get(path + "/version", headers=auth)
        c.get(path + "/metadata", headers=auth)
        bodies = [{}, {"limitHint": 5}, {"jsonPredicateHints": hint("equal", "partner_id", "string", "P001")}]
        if "sales" in t["name"]:
            bodies += [
                {"jsonPredicateHints": hint("greaterThan", "units", "long", "20")},
                {"jsonPredicateHints": hint("greaterThan", "units", "long", "100")},  # prunes every file
                {"predicateHints": ["country = 'DE'"]},
            ]
        files = []
        for body in rng.sample(bodies, 2):
            lines = c.post(path + "/query", headers=auth, json=body).text.splitlines()
            c.check(len(lines) >= 2, "query answered fewer than two lines", "\n".join(lines)[:300])
            files += [json.loads(l)["file"] for l in lines[2:] if '"file"' in l[:10]]
        if "sales" in t["name"] and rng.random() < 0.3:
            c.get(path + "/changes", headers=auth, params={"startingVersion": 1, "endingVersion": 2})
        for f in rng.sample(files, min(2, len(files))):
            if rng.random() < 0.5:
                got = c.get(f["url"])
                c.check(len(got.content) == f["size"], "file size differs from the query's")
            else:
                c.get(f["url"], headers={"Range": "bytes=0-3"}, expect=(206,))

    def preview(self, c, rng):
        name, auth = self.partner(rng)
        table = rng.choice(TABLES[name])
        view = rng.choice(SALES_VIEWS if table in SALES_LIKE else OTHER_VIEWS)
        body = c.get(ROWS.format(*table) + "?" + view, headers=auth).json()
        c.check("rows" in body and "columns" in body, "rows answer without rows", json.dumps(body)[:300])
        if body.get("next_url") and rng.random() < 0.5:
            c.get(body["next_url"], headers=auth)

    def download(self, c, rng):
        name, auth = self.partner(rng)
        table = rng.choice([t for t in TABLES[name] if t in SALES_LIKE])
        fmt = "xlsx" if rng.random() < 0.4 else "csv"
        view = rng.choice(SMALL_DOWNLOADS)
        if fmt == "xlsx":
            view = view.replace("&_dialect=excel", "")
        got = c.get(EXPORT.format(*table, fmt) + "?" + view, headers=auth)
        if fmt == "xlsx":
            c.check(got.content[:2] == b"PK", "xlsx download is no zip file")
        else:
            c.check(got.content.count(b"\n") >= 1, "csv download without a header line")

    def export(self, c, rng):
        name, auth = self.partner(rng)
        table = rng.choice([t for t in TABLES[name] if t in SALES_LIKE])
        fmt = "xlsx" if rng.random() < 0.3 else "csv"
        view = rng.choice(JOB_VIEWS)
        if fmt == "xlsx":
            view = view.replace("&_dialect=excel", "")
        params = "&".join(p for p in (view, f"_format={fmt}") if p)
        job = c.post(JOBS_CREATE.format(*table) + "?" + params, headers=auth, expect=(202,)).json()
        jobs = f"/api/v1/exports/{job['id']}"
        if rng.random() < 0.2:
            # Cancelled at once: it may be queued, running, or (small views are quick) done.
            gone = c.call("DELETE", jobs, headers=auth).json()
            c.check(gone["status"] in ("cancelled", "expired"), f"cancel left the job {gone['status']}")
            c.get(jobs, headers=auth)
            c.get(jobs + "/file", headers=auth, expect=tuple(range(400, 500)))
        else:
            end = time.monotonic() + 300
            while (state := c.get(jobs, headers=auth).json())["status"] not in FINISHED:
                c.check(time.monotonic() < end, "export job unfinished after 300 s", json.dumps(state))
                time.sleep(0.25)
            c.check(state["status"] == "done", f"export job {state['status']}", json.dumps(state)[:400])
            got = c.get(urljoin(self.portal.base, state["download_url"]), headers=auth)
            c.check(len(got.content) == state["bytes"], "job file size differs from the job's")
            expired = c.call("DELETE", jobs, headers=auth).json()
            c.check(expired["status"] == "expired", f"deleting a finished job left it {expired['status']}")
        if rng.random() < 0.1:
            c.get("/api/v1/exports", headers=auth)

    def signin(self, c, rng):
        name, auth = self.partner(rng)
        token = auth["Authorization"].split(" ", 1)[1]
        web = requests.Session()
        web.headers["Accept"] = "text/html"
        try:
            login = c.get("/login", session=web)
            csrf = csrf_of(login.text)
            c.check(csrf, "the login page has no form token")
            signed = c.post("/login", session=web, data={"csrf": csrf, "token": token, "next": "/"}, expect=(303,))
            where = signed.headers.get("location", "")
            if "error=unavailable" in where:
                self.stats.server_error("signin", "POST /login", f"303 -> {where} (the server failed behind the form)")
                raise Abort()
            c.check(where == "/", f"POST /login -> {where}")
            c.get("/", session=web)
            connect = c.get("/connect", session=web)
            if self.site_css:
                c.get("/pkg/portal.css", session=web)
            table = rng.choice(TABLES[name])
            view = rng.choice(["", "country=DE", "units__gt=3&_sort_desc=revenue"]) if table in SALES_LIKE else ""
            c.get(f"/shares/{table[0]}/{table[1]}/{table[2]}?{view}", session=web)
            csrf = csrf_of(connect.text)
            c.check(csrf, "/connect has no form token")
            out = c.post("/logout", session=web, data={"csrf": csrf}, expect=(303,))
            c.check("Max-Age=0" in out.headers.get("set-cookie", ""), "sign-out keeps the session cookie")
            again = c.get("/connect", session=web, expect=(302, 303))
            c.check(urlsplit(again.headers.get("location", "")).path == "/login", "signed out, /connect does not send to /login")
        finally:
            web.close()

    def admin(self, c, rng):
        api = {"Authorization": f"Bearer {self.admin_token}", "Accept": "application/json"}
        name = f"soak_rc_{uuid.uuid4().hex[:8]}"
        pid = rng.choice(["P001", "P002", "P003"])
        c.post(ADMIN + "/recipients", headers=api, json={"name": name, "comment": "soak", "properties": {"partner_id": pid}}, expect=(201,))
        try:
            c.call("PATCH", f"{ADMIN}/recipients/{name}", headers=api, json={"comment": "soak, edited", "properties": {"partner_id": pid, "tier": "soak"}})
            c.call("PUT", f"{ADMIN}/shares/wholesale/grants/{name}", headers=api)
            link = c.post(f"{ADMIN}/recipients/{name}/activation-links", headers=api, json={"ttlHours": 1}, expect=(201,)).json()["url"]
            # Redeemed as a partner's browser does: the link's page, then its form with the form token.
            web = requests.Session()
            try:
                page = c.get(link, session=web)
                profile = c.post(link, session=web, data={"csrf": csrf_of(page.text) or ""}).json()
            finally:
                web.close()
            token = {"Authorization": f"Bearer {profile['bearerToken']}"}
            listed = c.get(self.portal.endpoint + "/shares", headers=token).json()
            c.check([s["name"] for s in listed.get("items", [])] == ["wholesale"], "the new recipient does not see its grant", json.dumps(listed))
            c.get(ROWS.format("wholesale", "commerce", "sales") + "?_size=5", headers=token)
            detail = c.get(f"{ADMIN}/recipients/{name}", headers=api).json()
            active = [t["id"] for t in detail["tokens"] if t["status"] == "active"]
            c.check(len(active) == 1, "the activated recipient has not one active token", json.dumps(detail)[:400])
            c.post(f"{ADMIN}/recipients/{name}/tokens/{active[0]}/revoke", headers=api)
            c.get(self.portal.endpoint + "/shares", headers=token, expect=(401,))
            if rng.random() < 0.3:
                c.get(f"{ADMIN}/shares/wholesale/tables/commerce.sales/preview?as=acme_foods&country=DE&_size=20", headers=api)
            c.call("DELETE", f"{ADMIN}/shares/wholesale/grants/{name}", headers=api)
        finally:
            c.call("DELETE", f"{ADMIN}/recipients/{name}", headers=api)
        if rng.random() < 0.25:
            share = f"soak_sh_{uuid.uuid4().hex[:8]}"
            c.post(ADMIN + "/shares", headers=api, json={"name": share, "comment": "soak"}, expect=(201,))
            try:
                table = {"schema": "commerce", "name": "sales", "location": str(self.portal.data_dir / "demo" / "sales"), "history": True, "scope": "partner_id=partner_id"}
                c.post(f"{ADMIN}/shares/{share}/tables", headers=api, json=table, expect=(201,))
                c.get(f"{ADMIN}/shares/{share}", headers=api)
            finally:
                c.call("DELETE", f"{ADMIN}/shares/{share}", headers=api)
        if rng.random() < 0.2:
            c.get(ADMIN + "/audit?limit=50", headers=api)
        if rng.random() < 0.1:
            c.get(ADMIN + "/recipients", headers=api)


# --- Sampling the server --------------------------------------------------------------------------


def sample(pid):
    rss_kb = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss_kb = int(line.split()[1])
    return rss_kb, len(os.listdir(f"/proc/{pid}/fd"))


def at(samples, t):
    """The first sample at or after `t` seconds into the load (the last one if none is)."""
    return next((s for s in samples if s["t"] >= t), samples[-1])


# --- Main -----------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="how long the load runs (default 10)")
    ap.add_argument("--scale", type=int, default=1, help="threads per kind of load, times this (default 1: %s)" % ", ".join(f"{k} {n}" for k, n in THREADS.items()))
    ap.add_argument("--think", type=float, default=0.0, help="seconds each thread pauses between flows (default 0)")
    ap.add_argument("--keep", action="store_true", help="keep the data directory")
    args = ap.parse_args()

    duration = args.minutes * 60
    mark_t = min(120.0, 0.2 * duration)
    os.environ.setdefault("PORTAL_SITE_ROOT", str(ROOT / "target" / "site"))
    site_css = (Path(os.environ["PORTAL_SITE_ROOT"]) / "pkg" / "portal.css").is_file()
    if not site_css:
        print(f"note: no {os.environ['PORTAL_SITE_ROOT']}/pkg/portal.css; sign-ins skip the stylesheet", flush=True)
    print(f"portal: {conftest.PORTAL_BIN}", flush=True)

    data = Path(tempfile.mkdtemp(prefix="portal-soak-"))
    env = {"PORTAL_LOG": os.environ.get("PORTAL_LOG", "warn"), "PORTAL_AUTH_FAILURES_PER_MINUTE": "100000"}
    portal = Portal(data, free_port(), extra_env=env)
    portal.cli("demo")
    partners = {}
    for name in ("acme_foods", "nordic_goods"):
        done = portal.cli("token", "create", name)
        partners[name] = json.loads("\n".join(done.stdout.strip().splitlines()[:-1]))["bearerToken"]
    admin_token = portal.cli("admin", "token", "create", "--name", "soak").stdout.strip().splitlines()[-1].strip()
    assert admin_token.startswith("dsa_"), admin_token
    portal.start()
    pid = portal.proc.pid

    stats = Stats()
    stop = threading.Event()
    load = Load(portal, stats, partners, admin_token, stop, args.think, site_css)
    threads = [threading.Thread(target=load.run, args=(kind, i), name=f"{kind}-{i}", daemon=True) for kind, n in THREADS.items() for i in range(n * args.scale)]
    print(f"soak: {args.minutes:g} min, {len(threads)} threads ({', '.join(f'{k} {n * args.scale}' for k, n in THREADS.items())}), "
          f"server pid {pid}, RSS/fd mark at {mark_t:.0f} s", flush=True)

    samples = []
    rss, fds = sample(pid)
    samples.append({"t": 0.0, "rss_kb": rss, "fds": fds, "requests": 0})
    started = time.monotonic()
    for t in threads:
        t.start()
    next_sample, next_print = SAMPLE_EVERY, 30.0
    server_died = False
    while True:
        now = time.monotonic() - started
        if now >= duration:
            break
        time.sleep(max(0.0, min(next_sample, duration) - now))
        if portal.proc.poll() is not None:
            server_died = True
            print(f"!! the portal exited during the soak (code {portal.proc.returncode})", flush=True)
            break
        t = time.monotonic() - started
        rss, fds = sample(pid)
        samples.append({"t": round(t, 1), "rss_kb": rss, "fds": fds, "requests": sum(stats.requests.values())})
        next_sample += SAMPLE_EVERY
        if t >= next_print:
            next_print += 30.0
            print(f"  {t:6.0f} s  {sum(stats.requests.values()):>8} requests  {sum(stats.server_error_count.values())} server errors  "
                  f"RSS {rss / 1024:7.1f} MiB  fds {fds}", flush=True)
    load_s = time.monotonic() - started
    stop.set()
    for t in threads:
        t.join(timeout=TIMEOUT + 30)
    stuck = [t.name for t in threads if t.is_alive()]

    idle = None
    if not server_died and portal.proc.poll() is None:
        time.sleep(2)
        rss, fds = sample(pid)
        idle = {"rss_kb": rss, "fds": fds}

    # Stop with SIGTERM; a clean stop is exit code 0 within the grace period.
    clean_stop, stop_code, stop_s = False, portal.proc.returncode, None
    if portal.proc.poll() is None:
        s = time.monotonic()
        portal.proc.send_signal(signal.SIGTERM)
        try:
            stop_code = portal.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            portal.proc.kill()
            stop_code = portal.proc.wait()
        stop_s = round(time.monotonic() - s, 2)
        clean_stop = stop_code == 0
    log = (data / "server.log").read_text(errors="replace")
    log_errors = [l for l in log.splitlines() if re.search(r"\bERROR\b|panicked", l)]

    # --- Figures and criteria ---------------------------------------------------------------------
    mark = at(samples, mark_t)
    end = samples[-1]
    ratio = end["rss_kb"] / mark["rss_kb"] if mark["rss_kb"] else float("inf")
    total = sum(stats.requests.values())
    errors = sum(stats.server_error_count.values())
    criteria = {
        "zero server errors (5xx, connection errors)": errors == 0,
        f"RSS at end <= {RSS_FACTOR} x RSS at the mark": ratio <= RSS_FACTOR,
        f"open fds flat: fds at end <= fds at the mark + {FD_SLACK}": end["fds"] <= mark["fds"] + FD_SLACK,
        "every kind of load completed flows": all(stats.flows[k] > 0 for k in KINDS) and not stuck,
        "portal stopped cleanly on SIGTERM (exit 0)": clean_stop and not server_died,
    }
    report = {
        "portal_bin": conftest.PORTAL_BIN,
        "minutes": args.minutes,
        "duration_s": round(load_s, 1),
        "threads": {k: n * args.scale for k, n in THREADS.items()},
        "requests": {k: stats.requests[k] for k in KINDS},
        "flows": {k: stats.flows[k] for k in KINDS},
        "total_requests": total,
        "requests_per_s": round(total / load_s, 1) if load_s else 0,
        "server_errors": errors,
        "server_errors_by_kind": dict(stats.server_error_count),
        "server_error_examples": stats.server_errors,
        "unexpected_answers": {f"{k}: {w}": n for (k, w), n in stats.unexpected.items()},
        "unexpected_examples": {f"{k}: {w}": d for (k, w), d in stats.unexpected_examples.items()},
        "client_bugs": {f"{k}: {w}": n for (k, w), n in stats.client_bugs.items()},
        "client_bug_examples": {f"{k}: {w}": d for (k, w), d in stats.client_bug_examples.items()},
        "mark_s": mark["t"],
        "rss_start_mib": round(samples[0]["rss_kb"] / 1024, 1),
        "rss_mark_mib": round(mark["rss_kb"] / 1024, 1),
        "rss_end_mib": round(end["rss_kb"] / 1024, 1),
        "rss_max_mib": round(max(s["rss_kb"] for s in samples) / 1024, 1),
        "rss_ratio_end_over_mark": round(ratio, 3),
        "fds_start": samples[0]["fds"],
        "fds_mark": mark["fds"],
        "fds_end": end["fds"],
        "fds_max": max(s["fds"] for s in samples),
        "after_load_idle": idle,
        "stop": {"exit_code": stop_code, "seconds": stop_s, "stuck_threads": stuck},
        "server_log_error_lines": log_errors[:50],
        "rules": {"rss": f"RSS at end <= {RSS_FACTOR} x RSS at the mark (min(120 s, 20 % of the run))",
                  "fds": f"flat = fds at end <= fds at the mark + {FD_SLACK}"},
        "criteria": {k: ("PASS" if v else "FAIL") for k, v in criteria.items()},
        "samples": samples,
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2))
    shutil.copy(data / "server.log", OUT.with_name("soak-server.log"))

    print(f"\n== soak: {load_s / 60:.1f} min, {total} requests ({report['requests_per_s']} req/s), {errors} server errors")
    for k in KINDS:
        print(f"  {k:<9} {stats.requests[k]:>8} requests  {stats.flows[k]:>6} flows  {stats.server_error_count[k]} server errors")
    for e in stats.server_errors[:20]:
        print(f"  !! {e['at']} {e['kind']}: {e['request']}: {e['detail'][:300]}")
    if stats.unexpected:
        print("  unexpected answers (the flow stopped there; not a criterion):")
        for (k, w), n in stats.unexpected.most_common(15):
            print(f"    {n:>5} x {k}: {w}   {stats.unexpected_examples[(k, w)].splitlines()[-1][:200]}")
    if stats.client_bugs:
        print("  errors in this script (not the server's):")
        for (k, w), n in stats.client_bugs.most_common(10):
            print(f"    {n:>5} x {k}: {w}")
    if log_errors:
        print(f"  server log: {len(log_errors)} ERROR/panic lines, first ones:")
        for l in log_errors[:10]:
            print("    " + l[:300])
    print(f"  RSS   start {report['rss_start_mib']} MiB, at {mark['t']:.0f} s {report['rss_mark_mib']} MiB, end {report['rss_end_mib']} MiB "
          f"(x{report['rss_ratio_end_over_mark']}), max {report['rss_max_mib']} MiB" + (f", idle after load {idle['rss_kb'] / 1024:.1f} MiB" if idle else ""))
    print(f"  fds   start {report['fds_start']}, at {mark['t']:.0f} s {report['fds_mark']}, end {report['fds_end']}, max {report['fds_max']}"
          + (f", idle after load {idle['fds']}" if idle else ""))
    print(f"  stop  SIGTERM -> exit {stop_code} in {stop_s} s")
    print(f"  rules: {report['rules']['rss']}; {report['rules']['fds']}")
    for k, v in criteria.items():
        print(f"  {'PASS' if v else 'FAIL'}  {k}")
    print(f"wrote {OUT} and {OUT.with_name('soak-server.log')}")
    if args.keep or not all(criteria.values()):
        print(f"data directory kept: {data}")
    else:
        shutil.rmtree(data, ignore_errors=True)
    sys.exit(0 if all(criteria.values()) else 1)


if __name__ == "__main__":
    main()
