"""The outside probe's smaller findings: what every answer's headers say (no framing, no
Referer, no caching of what is per caller), console banners that show only what the portal
wrote, and signed-out page loads that are real redirects for every client."""
import http.client
import re
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests

from admin import AdminApi, admin_session, bearer, forms_of, partner_session, redirect_target


def framing_and_referrer(resp, what):
    problems = []
    if resp.headers.get("x-frame-options") != "DENY":
        problems.append(f"{what}: X-Frame-Options {resp.headers.get('x-frame-options')!r}")
    if "frame-ancestors 'none'" not in resp.headers.get("content-security-policy", ""):
        problems.append(f"{what}: CSP {resp.headers.get('content-security-policy')!r}")
    if resp.headers.get("referrer-policy") != "no-referrer":
        problems.append(f"{what}: Referrer-Policy {resp.headers.get('referrer-policy')!r}")
    return problems


def test_no_page_can_be_framed_or_leak_its_address(portal):
    code = portal.activation_links["acme_foods"].rsplit("/", 1)[1]
    urls = [
        "/login",
        "/admin/login",
        f"/activate/{code}",  # a secret link: its address must not go out as Referer
        "/admin/login/not-a-code",
        "/api/v1/openapi.json",
        "/delta-sharing/shares",
        "/no/such/page",
    ]
    problems = []
    for url in urls:
        problems += framing_and_referrer(requests.get(portal.base + url, allow_redirects=False), url)
    assert not problems, "\n".join(problems)


def test_pages_run_only_their_own_scripts_and_nothing_else_runs_any(portal):
    """Pages: a nonce-based CSP (a fresh nonce per answer, the one their inline hydration script
    carries). APIs, downloads and server-written pages: a CSP that runs no script. Everything:
    Permissions-Policy and nosniff; no HSTS over plain http."""
    first, second = (requests.get(portal.base + "/login") for _ in range(2))
    policy = first.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert "default-src 'self'" in policy and "'unsafe-inline'" not in policy and "object-src 'none'" in policy
    assert f'nonce="{nonce}"' in first.text, "the hydration script carries the header's nonce"
    assert nonce not in second.headers["content-security-policy"], "every answer has its own nonce"
    for url in ["/delta-sharing/shares", "/api/v1/openapi.json", "/healthz", "/api/v1/no-such-thing"]:
        answer = requests.get(portal.base + url)
        assert answer.headers["content-security-policy"].startswith("default-src 'none'"), url
    for answer in [first, requests.get(portal.base + "/delta-sharing/shares")]:
        assert "camera=()" in answer.headers["permissions-policy"] and answer.headers["x-content-type-options"] == "nosniff"
        assert "strict-transport-security" not in answer.headers, "plain http: no HSTS"


def test_pages_rendered_at_once_each_carry_the_nonce_of_their_own_policy(portal):
    """Under load (many pages rendered at the same time on every worker thread), every page still
    comes with its policy, and every inline script it holds carries that policy's nonce: a page
    without them does not hydrate, so its buttons do nothing."""
    partner = partner_session(portal, "acme_foods")
    pages = ["/", "/connect", "/exports", "/shares/wholesale/commerce/sales?country=DE", "/login"] * 8
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda url: (url, partner.get(portal.base + url)), pages))
    problems = []
    for url, answer in answers:
        policy = answer.headers.get("content-security-policy", "")
        nonce = re.search(r"'nonce-([^']+)'", policy)
        carried = set(re.findall(r'nonce="([^"]*)"', answer.text))
        if answer.status_code != 200 or nonce is None or carried != {nonce.group(1)}:
            problems.append(f"{url}: {answer.status_code}, policy {policy!r}, scripts' nonces {sorted(carried)}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "path,content_type,status",
    [
        ("/login", "application/json", 303),  # a form endpoint sent JSON: back to the form
        ("/delta-sharing/shares/wholesale/schemas/commerce/tables/sales/query", "application/json", 401),  # no token
        ("/api/v1/shares/wholesale/schemas/commerce/tables/sales/exports", "text/plain", 401),
    ],
)
def test_a_request_refused_before_its_body_arrives_leaves_the_connection_usable(portal, path, content_type, status):
    """Clients keep connections alive and send the body after the headers. When the portal
    refuses a request without needing its body, the next request on the same connection must
    still get its answer, not a connection dropped without one."""
    conn = http.client.HTTPConnection(urlsplit(portal.base).netloc, timeout=30)
    body = b'{"predicateHints": []}'
    conn.putrequest("POST", path)
    conn.putheader("Content-Type", content_type)
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders()
    time.sleep(0.3)  # the handler has answered by now; the body is still on its way
    conn.send(body)
    first = conn.getresponse()
    first.read()
    assert first.status == status
    conn.request("GET", "/login", headers={"Accept": "text/html"})
    second = conn.getresponse()
    assert second.status == 200 and "<form" in second.read().decode()
    conn.close()


def test_authenticated_answers_are_never_cached(portal, acme):
    partner = partner_session(portal, "acme_foods")
    admin = admin_session(portal)
    api = AdminApi.platform(portal)
    answers = {
        "partner home": partner.get(portal.base + "/"),
        "table page": partner.get(portal.base + "/shares/wholesale/commerce/sales?country=DE"),
        "connect": partner.get(portal.base + "/connect"),
        "exports": partner.get(portal.base + "/exports"),
        "rows API": requests.get(portal.base + "/api/v1/shares/wholesale/schemas/commerce/tables/sales/rows?_size=2", headers=acme),
        "protocol": requests.get(portal.endpoint + "/shares", headers=acme),
        "admin home": admin.get(portal.base + "/admin"),
        "admin recipient": admin.get(portal.base + "/admin/recipients/acme_foods"),
        "admin locations": admin.get(portal.base + "/admin/locations"),
        "admin API": requests.get(portal.base + "/api/v1/admin/recipients", headers=api.headers),
    }
    problems = [f"{what}: {r.status_code} Cache-Control {r.headers.get('cache-control')!r}" for what, r in answers.items() if r.status_code != 200 or r.headers.get("cache-control") != "no-store"]
    for what, r in answers.items():
        problems += framing_and_referrer(r, what)
    assert not problems, "\n".join(problems)
    # The site's static files (the same for everyone) may be cached.
    asset = re.search(r'(?:href|src)="(/pkg/[^"]+)"', answers["partner home"].text)
    assert asset, "the page links its stylesheet or script under /pkg/"
    static = requests.get(portal.base + asset.group(1))
    assert static.status_code == 200 and static.headers.get("cache-control") != "no-store"


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "text/html"])
def test_signed_out_page_loads_are_real_redirects(portal, accept):
    headers = {"Accept": accept} if accept else {}
    wrong = []
    for page, target in (
        ("/connect", "/login?next="),
        ("/exports", "/login?next="),
        ("/shares/wholesale/commerce/sales", "/login?next="),
        ("/admin", "/admin/login"),
        ("/admin/recipients/acme_foods", "/admin/login?next="),
        ("/admin/locations", "/admin/login?next="),
    ):
        session = requests.Session()
        session.headers.pop("Accept", None)
        resp = session.get(portal.base + page, headers=headers, allow_redirects=False)
        if resp.status_code != 302 or not resp.headers.get("location", "").startswith(target):
            wrong.append(f"GET {page} (Accept {accept}) -> {resp.status_code} {resp.headers.get('location')}")
    assert not wrong, "\n".join(wrong)


def test_console_banners_show_only_what_the_portal_wrote(portal):
    web = admin_session(portal)
    bait = "Pay now at evil.example"
    for query in (f"?notice={bait}", f"?error={bait}", f"?error={bait}&field=comment", f"?notice={bait}&sig=forged"):
        page = web.get(portal.base + "/admin/recipients/acme_foods" + query).text
        assert "evil.example" not in page, f"{query} is shown"
    # A real form's outcome is shown, beside its field too.
    html = web.get(portal.base + "/admin/shares/wholesale").text
    form = next(f for f in forms_of(html) if f["action"].endswith("/shares/wholesale/delete"))
    refused = web.post(portal.base + form["action"], data={**form["fields"], "confirm": "not the name"}, allow_redirects=False)
    back = refused.headers["location"]
    _, query = redirect_target(refused)
    assert query["field"] == ["confirm"] and "nothing was deleted" in query["error"][0]
    shown = re.sub(r"<script.*?</script>", "", web.get(portal.base + back).text, flags=re.S)
    assert shown.count("type wholesale to confirm; nothing was deleted") == 2, "in the banner and beside the field"
    # The same link in another admin's browser, or with its text changed, shows nothing.
    assert "nothing was deleted" not in admin_session(portal).get(portal.base + back).text
    altered = back.replace("nothing%20was%20deleted", "pay%20now%20at%20evil.example")
    assert altered != back and "evil.example" not in web.get(portal.base + altered).text
