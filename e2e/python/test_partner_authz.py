"""Who may read what on the partner side: every partner-facing route × every kind of caller.

One table, `connected_retail.retail.sales_feed` (scoped by partner_id), read through every door a
partner has: the pages, the rows API, the direct downloads, background exports, the Delta
Sharing protocol and the signed file links the protocol hands out. The callers:
- anonymous (no credentials) → 401 JSON on the APIs and the protocol, a redirect to /login for pages;
- another recipient (a valid token, the share not granted) → 404, exactly like a table that does
  not exist; lists (the home page, /connect, the export list, the share list) answer 200 without
  a trace of the table;
- an expired token (the recipient's tokens rotated without overlap) and a revoked token → as anonymous;
- a recipient whose IP allow-list excludes the caller's address → 403;
- an address that failed `PORTAL_AUTH_FAILURES_PER_MINUTE` (5 here) authentications → 429 with
  `Retry-After` on every route, even with a valid token (`RESOURCE_EXHAUSTED` JSON on the APIs);
- the valid recipient → the route's success.
No refused answer carries a row of the table (its order ids, read with delta-rs, are looked for)
or its schema; a 404 is the 404 of an unknown table with the name swapped.

The portal runs behind a trusted proxy (127.0.0.1), so each request names its client address in
`X-Forwarded-For`: every cell comes from an address of its own, so refusals in one cell never
count towards another cell's throttle.

Signed file links (`/files/...`) are capabilities, like a cloud store's pre-signed URLs: whoever
holds the link may read that file until it expires, whatever credentials come with it; the link
cannot be altered (403). Only the throttle stands in front of them."""
import itertools
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from admin import AdminApi, bearer, partner_token
from conftest import Portal, free_port

SHARE, SCHEMA, TABLE = "connected_retail", "retail", "sales_feed"
FAIL_LIMIT = 5
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CALLERS = ["anonymous", "other", "expired", "revoked", "ip_denied", "throttled", "valid"]
ALLOWED_NET = "10.20.30.0/24"

# Every cell's client address: its own, so no cell's failures count towards another's throttle.
_addresses = itertools.count(1)
_throttled_addresses = itertools.count(100)


def fresh_address():
    n = next(_addresses)
    return f"100.64.{n // 250}.{n % 250 + 1}"


def fresh_throttled_address():
    n = next(_throttled_addresses)
    assert n < 255, "out of 203.0.113.0/24 addresses"
    return f"203.0.113.{n}"


def forwarded(address):
    return {"X-Forwarded-For": address}


# --- The world: one portal, its recipients and their credentials ---------------------------------


@dataclass
class World:
    portal: Portal
    tokens: dict  # caller kind -> bearer token (None for anonymous)
    view: str  # a small view of the table (one order date)
    markers: set  # the valid recipient's order ids in that view (nobody else's)
    schema_words: list  # column comments of the table: its schema, which refusals must not show
    job_id: str  # a finished export of the valid recipient
    file_url: str  # a signed data file link from the valid recipient's query
    names: dict = field(default_factory=dict)


def names_of(kind):
    return {"valid": "mx_valid", "other": "mx_other", "expired": "mx_expired", "revoked": "mx_revoked", "ip_denied": "mx_ipdeny"}[kind]


def protocol_status(portal, token, address=None):
    return requests.get(portal.endpoint + "/shares", headers={**bearer(token), **forwarded(address or fresh_address())}, timeout=60).status_code


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from deltalake import DeltaTable

    root = tmp_path_factory.mktemp("partner-authz")
    (root / "data").mkdir()
    p = Portal(root / "data", free_port(), extra_env={"PORTAL_TRUSTED_PROXIES": "127.0.0.1/32", "PORTAL_AUTH_FAILURES_PER_MINUTE": str(FAIL_LIMIT)})
    p.cli("demo")
    for kind in ("valid", "expired", "revoked", "ip_denied"):
        ip = ["--ip", ALLOWED_NET] if kind == "ip_denied" else []
        p.cli("recipient", "create", names_of(kind), "--property", "partner_id=P002", *ip)
        p.cli("grant", SHARE, names_of(kind))
    # Another recipient: a real partner with grants of its own, only not this share.
    p.cli("recipient", "create", names_of("other"), "--property", "partner_id=P001")
    p.cli("grant", "wholesale", names_of("other"))
    tokens = {"anonymous": None}
    token_ids = {}
    for kind in ("valid", "other", "expired", "revoked", "ip_denied"):
        tokens[kind], token_ids[kind] = partner_token(p, names_of(kind))
    tokens["throttled"] = tokens["valid"]
    p.start()
    try:
        # Each credential works before it is spoilt: the refusals below are the spoiling's doing.
        for kind in ("valid", "other", "expired", "revoked"):
            assert protocol_status(p, tokens[kind]) == 200, kind
        assert protocol_status(p, tokens["ip_denied"], "10.20.30.7") == 200, "the allow-listed recipient reads from its network"
        assert protocol_status(p, tokens["ip_denied"], "198.51.100.9") == 403
        AdminApi.platform(p).ok("POST", f"/recipients/{names_of('expired')}/rotate", {"overlapHours": 0}, status=201)
        listed = p.cli("token", "list", names_of("expired")).stdout
        assert re.search(rf"^{token_ids['expired']}\s+expired\b", listed, re.M), listed
        p.cli("token", "revoke", names_of("revoked"), token_ids["revoked"])
        assert protocol_status(p, tokens["expired"]) == 401 and protocol_status(p, tokens["revoked"]) == 401

        valid = {**bearer(tokens["valid"])}
        api = f"{p.base}/api/v1/shares/{SHARE}/schemas/{SCHEMA}/tables/{TABLE}"
        first = requests.get(api + "/rows?_size=1", headers=valid, timeout=60)
        assert first.status_code == 200, first.text
        day = first.json()["rows"][0][2]
        view = f"order_date={day}"
        sales = DeltaTable(str(p.data_dir / "demo" / "sales")).to_pandas()
        mine = set(sales[(sales.partner_id == "P002") & (sales.order_date.astype(str) == day)].order_id)
        others = set(sales[sales.partner_id != "P002"].order_id)
        markers = mine - others
        assert len(markers) > 20, f"the view {view} holds enough rows to look for"
        meta = requests.get(f"{p.endpoint}/shares/{SHARE}/schemas/{SCHEMA}/tables/{TABLE}/metadata", headers=valid, timeout=60)
        fields = json.loads(meta.text.splitlines()[1])["metaData"]["schemaString"]
        schema_words = [f["metadata"]["comment"] for f in json.loads(fields)["fields"] if f.get("metadata", {}).get("comment")]
        assert len(schema_words) >= 5, schema_words

        made = requests.post(api + f"/exports?{view}&_format=csv", headers=valid, timeout=60)
        assert made.status_code == 202, made.text
        job_id = made.json()["id"]
        for _ in range(600):
            job = requests.get(f"{p.base}/api/v1/exports/{job_id}", headers=valid, timeout=60).json()
            if job["status"] not in ("queued", "running"):
                break
            time.sleep(0.1)
        assert job["status"] == "done", job

        query = requests.post(f"{p.endpoint}/shares/{SHARE}/schemas/{SCHEMA}/tables/{TABLE}/query", json={}, headers=valid, timeout=60)
        assert query.status_code == 200, query.text
        files = [json.loads(line)["file"] for line in query.text.splitlines()[2:]]
        assert files and all(f["partitionValues"]["partner_id"] == "P002" for f in files)
        w = World(p, tokens, view, markers, schema_words, job_id, files[0]["url"])
        w.names = {k: names_of(k) for k in ("valid", "other", "expired", "revoked", "ip_denied")}
        yield w
    finally:
        p.stop()


# --- The routes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str
    # page: a browser page; api: /api/v1; protocol: /delta-sharing; file: a signed data file link.
    kind: str
    ok: int = 200
    # What another recipient gets: "404" (as if it did not exist) or "list" (200, without the table).
    other: str = "404"
    # What the unknown twin of a 404 changes: the "table" name, the "share" name or the "job" id.
    unknown: str = "table"
    json: dict = None

    def __str__(self):
        return self.name


T = "/shares/{share}/schemas/{schema}/tables/{table}"
ROUTES = [
    Route("page home", "GET", "/", "page", other="list"),
    Route("page table", "GET", "/shares/{share}/{schema}/{table}?{view}", "page"),
    Route("page connect", "GET", "/connect", "page", other="list"),
    Route("page exports", "GET", "/exports", "page", other="list"),
    Route("api rows", "GET", "/api/v1" + T + "/rows?{view}&_size=100", "api"),
    Route("api export.csv", "GET", "/api/v1" + T + "/export.csv?{view}", "api"),
    Route("api export.xlsx", "GET", "/api/v1" + T + "/export.xlsx?{view}", "api"),
    Route("api job create", "POST", "/api/v1" + T + "/exports?{view}&_format=csv", "api", ok=202),
    Route("api job list", "GET", "/api/v1/exports", "api", other="list"),
    Route("api job", "GET", "/api/v1/exports/{job}", "api", unknown="job"),
    Route("api job file", "GET", "/api/v1/exports/{job}/file", "api", unknown="job"),
    Route("protocol shares", "GET", "/delta-sharing/shares", "protocol", other="list"),
    Route("protocol all-tables", "GET", "/delta-sharing/shares/{share}/all-tables", "protocol", unknown="share"),
    Route("protocol metadata", "GET", "/delta-sharing" + T + "/metadata", "protocol"),
    Route("protocol query", "POST", "/delta-sharing" + T + "/query", "protocol", json={"limitHint": 1}),
    Route("protocol version", "GET", "/delta-sharing" + T + "/version", "protocol"),
    Route("protocol changes", "GET", "/delta-sharing" + T + "/changes?startingVersion=1&endingVersion=2", "protocol"),
    Route("signed file", "GET", "{file_url}", "file", other="list"),
    Route("forged file", "GET", "{forged_url}", "file", ok=403, other="list"),
]


def expected(route, caller):
    if caller == "throttled":
        return 429
    if route.kind == "file":
        return route.ok  # the link is the credential: whoever holds it, whatever else they send
    if caller in ("anonymous", "expired", "revoked"):
        return 302 if route.kind == "page" else 401
    if caller == "ip_denied":
        return 403
    if caller == "other":
        return 200 if route.other == "list" else 404
    return route.ok


def fill(world, route, table=TABLE, share=SHARE, job=None):
    url = route.path.format(
        share=share, schema=SCHEMA, table=table, view=world.view, job=job or world.job_id,
        file_url=world.file_url, forged_url=world.file_url.replace("sig=", "sig=x"),
    )
    return url if url.startswith("http") else world.portal.base + url


def send(world, route, caller, address, url=None):
    headers = forwarded(address)
    if world.tokens[caller]:
        headers.update(bearer(world.tokens[caller]))
    if route.kind == "page":
        headers["Accept"] = "text/html"
    return requests.request(route.method, url or fill(world, route), headers=headers, json=route.json, allow_redirects=False, timeout=120)


def throttle(world, address):
    """Fails FAIL_LIMIT bearer authentications from `address` (a fresh one: the first is a plain 401)."""
    got = [requests.get(world.portal.endpoint + "/shares", headers={**bearer("dss_" + uuid.uuid4().hex), **forwarded(address)}, timeout=60).status_code for _ in range(FAIL_LIMIT)]
    assert got == [401] * FAIL_LIMIT, f"{FAIL_LIMIT} failed authentications from a fresh address are 401s: {got}"


def jobs_of(world):
    """The export jobs of the recipients that may have any: the valid one and the other one."""
    ids = {}
    for kind in ("valid", "other"):
        resp = requests.get(world.portal.base + "/api/v1/exports", headers={**bearer(world.tokens[kind]), **forwarded(fresh_address())}, timeout=60)
        assert resp.status_code == 200, resp.text
        ids[kind] = [j["id"] for j in resp.json()["items"]]
    return ids


def leaks(world, body: str):
    found = [m for m in world.markers if m in body]
    return found[:3]


def normalized(text, *names):
    """A refusal with what varies between two requests taken out: form tokens, script nonces,
    and the names typed."""
    for nonce in set(re.findall(r'nonce="([^"]+)"', text)):
        text = text.replace(nonce, "<nonce>")
    text = re.sub(r'(name=\\?"csrf\\?" value=\\?")[^"\\]+', r"\1<csrf>", text)
    text = re.sub(r'(\\?"csrf\\?":\\?")[^"\\]+', r"\1<csrf>", text)
    for name in names:
        text = text.replace(name, "<name>")
    return text


def error_body(resp, code=None, protocol=False):
    body = resp.json()
    assert body.get("errorCode") and body.get("message"), body
    if protocol:
        assert set(body) == {"errorCode", "message"}, body
    if code:
        assert body["errorCode"] == code, body
    return body


def check_valid(world, route, resp):
    text = resp.text if route.kind != "file" and not route.name.endswith("xlsx") else ""
    if route.kind == "page":
        assert "text/html" in resp.headers["content-type"]
        want = {"page home": [SHARE, TABLE], "page table": [], "page connect": [SHARE], "page exports": [world.job_id]}[route.name]
        assert all(w in text for w in want), f"the page shows {want}"
        if route.name == "page table":
            assert leaks(world, text), "the table page shows the view's rows"
    elif route.name in ("api rows", "api export.csv", "api job file"):
        assert len(leaks(world, text)) >= 3, "the answer holds the view's rows"
    elif route.name == "api export.xlsx":
        assert resp.headers["content-type"] == XLSX and resp.content[:2] == b"PK"
    elif route.name == "api job create":
        assert resp.json()["status"] in ("queued", "running", "done") and resp.json()["table"] == f"{SHARE}.{SCHEMA}.{TABLE}"
    elif route.name == "api job list":
        assert world.job_id in [j["id"] for j in resp.json()["items"]]
    elif route.name == "api job":
        assert resp.json()["id"] == world.job_id and resp.json()["status"] == "done"
    elif route.name == "protocol shares":
        assert SHARE in [s["name"] for s in resp.json()["items"]]
    elif route.name == "protocol all-tables":
        assert TABLE in [t["name"] for t in resp.json()["items"]]
    elif route.name in ("protocol metadata", "protocol query", "protocol changes"):
        lines = [json.loads(line) for line in text.splitlines()]
        assert "protocol" in lines[0] and "metaData" in lines[1]
    elif route.name == "protocol version":
        assert resp.headers["delta-table-version"] == "2"
    elif route.name == "signed file":
        assert resp.content[:4] == b"PAR1" and resp.content[-4:] == b"PAR1"


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_partner_authorization(world, route, caller):
    want = expected(route, caller)
    if caller == "throttled":
        address = fresh_throttled_address()
        throttle(world, address)
    else:
        address = fresh_address()  # 100.64.0.0/10: outside the ip_denied recipient's allow-list too
    jobs_before = jobs_of(world) if route.name == "api job create" and want != 202 else None
    resp = send(world, route, caller, address)
    where = f"{caller} from {address}: {route.method} {fill(world, route)}"
    assert resp.status_code == want, f"{where} -> {resp.status_code} {resp.headers.get('location')} {resp.text[:300]}"
    text = resp.text if not resp.content.startswith(b"PK") and not resp.content.startswith(b"PAR1") else ""

    if want == 200 and (caller == "valid" or route.name == "signed file") or want == 202:
        check_valid(world, route, resp)
        return

    # Every refusal, and every list another recipient sees: none of the table's rows.
    assert not leaks(world, text), f"{where}: rows of the table in the answer"
    if jobs_before is not None:
        assert jobs_of(world) == jobs_before, "a refused export starts no job"
    if want != 200:
        assert not [w for w in world.schema_words if w in text], f"{where}: the table's schema in the answer"

    if want == 429:
        retry = resp.headers.get("retry-after", "")
        assert retry.isdigit() and 1 <= int(retry) <= 60, f"{where}: Retry-After {retry!r}"
        if route.kind != "page":
            error_body(resp, "RESOURCE_EXHAUSTED", protocol=route.kind == "protocol")
        assert TABLE not in text and SHARE not in text, f"{where}: a throttled answer names the table"
    elif want == 302:
        loc = urlsplit(resp.headers["location"])
        assert loc.path == "/login", f"{where}: sent to {resp.headers['location']}"
        target = urlsplit(fill(world, route))
        asked = target.path + (f"?{target.query}" if target.query else "")
        assert parse_qs(loc.query).get("next", ["/"]) == [asked], f"{where}: comes back to {asked} after signing in"
    elif want in (401, 403):
        if route.kind != "page":
            error_body(resp, {401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED"}[want], protocol=route.kind == "protocol")
            assert TABLE not in text and SHARE not in text, f"{where}: a refusal names the table"
    elif want == 404:
        # Exactly the answer to a table (share, job) that does not exist, but for the name typed.
        twin = {"table": "zz_" + uuid.uuid4().hex[:8], "share": "zz_" + uuid.uuid4().hex[:8], "job": str(uuid.uuid4())}[route.unknown]
        typed = {"table": TABLE, "share": SHARE, "job": world.job_id}[route.unknown]
        twin_url = fill(world, route, **{route.unknown: twin})
        unknown = send(world, route, caller, fresh_address(), twin_url)
        assert unknown.status_code == 404, (twin_url, unknown.status_code)
        assert normalized(text, typed) == normalized(unknown.text, twin), f"{where}: the 404 differs from an unknown {route.unknown}'s:\n{text[-600:]}\n---\n{unknown.text[-600:]}"
        if route.kind != "page":
            error_body(resp, "RESOURCE_DOES_NOT_EXIST", protocol=route.kind == "protocol")
        if route.unknown == "job":
            assert TABLE not in text and SHARE not in text, f"{where}: another's job is named by its table"
    elif want == 200:  # another recipient's own list
        for secret in (SHARE, TABLE, world.job_id, world.names["valid"]):
            assert secret not in text, f"{where}: {secret} in another recipient's list"
        if route.kind == "page":
            assert "text/html" in resp.headers["content-type"] and world.names["other"] in text, f"{where}: the page is the other recipient's, signed in"
        elif route.name == "api job list":
            assert resp.json()["items"] == []
        elif route.name == "protocol shares":
            assert [s["name"] for s in resp.json()["items"]] == ["wholesale"]


# --- The throttle is per address --------------------------------------------------------------------


def test_throttle_is_per_client_address(world):
    p, token = world.portal, world.tokens["valid"]
    rows = f"{p.base}/api/v1/shares/{SHARE}/schemas/{SCHEMA}/tables/{TABLE}/rows?_size=1"
    blocked, neighbour, nearly = "203.0.113.50", "203.0.113.51", "203.0.113.52"

    def get(url, address=None, **headers):
        sent = {**bearer(token), **headers, **(forwarded(address) if address else {})}
        return requests.get(url, headers=sent, allow_redirects=False, timeout=60)

    assert get(rows, blocked).status_code == 200, "a fresh address reads"
    # One failure short of the limit: the address still reads with a valid token.
    for _ in range(FAIL_LIMIT - 1):
        assert get(p.endpoint + "/shares", nearly, Authorization="Bearer dss_wrong").status_code == 401
    assert get(rows, nearly).status_code == 200, f"{FAIL_LIMIT - 1} failures do not throttle"
    # At the limit, everything from that address is refused, the valid token too.
    throttle(world, blocked)
    problems = []
    for what, resp in (
        ("rows API", get(rows, blocked)),
        ("protocol", get(p.endpoint + "/shares", blocked)),
        ("page", get(p.base + "/", blocked, Accept="text/html")),
        ("signed file", requests.get(world.file_url, headers=forwarded(blocked), timeout=60)),
        ("anonymous API", requests.get(rows, headers=forwarded(blocked), timeout=60)),
        ("a client's own X-Forwarded-For before the proxy's", get(rows, "192.0.2.77, " + blocked)),
    ):
        retry = resp.headers.get("retry-after", "")
        if resp.status_code != 429 or not retry.isdigit() or not 1 <= int(retry) <= 60:
            problems.append(f"{what} from {blocked}: {resp.status_code} Retry-After {retry!r}")
        elif what != "page" and resp.json().get("errorCode") != "RESOURCE_EXHAUSTED":
            problems.append(f"{what}: {resp.text[:200]}")
    # Other addresses, and the proxy's own, are unaffected.
    for what, resp in (
        ("the neighbouring address", get(rows, neighbour)),
        ("the nearly throttled address", get(rows, nearly)),
        ("no forwarding header (the proxy itself)", get(rows)),
        ("protocol from the neighbour", get(p.endpoint + "/shares", neighbour)),
    ):
        if resp.status_code != 200:
            problems.append(f"{what}: {resp.status_code} {resp.text[:200]}")
    # Health checks stay open to every address (load balancers call them).
    health = requests.get(p.base + "/readyz", headers=forwarded(blocked), timeout=60)
    if health.status_code != 200:
        problems.append(f"/readyz from {blocked}: {health.status_code}")
    assert not problems, "\n".join(problems)
