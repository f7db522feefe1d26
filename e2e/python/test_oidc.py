"""Single sign-on against a real OpenID provider (npm `oidc-provider`, started here): admins by
their group claim, partners' employees by a verified email domain bound to their recipient, and
everything a forged or replayed sign-in tries."""
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from admin import API, api_token, bearer, uniq
from conftest import Portal, free_port
from oidc import browser_login, start_provider

CLIENT_ID, CLIENT_SECRET = "portal-e2e", "e2e-secret-not-for-production"


@pytest.fixture(scope="module")
def sso(tmp_path_factory):
    """A portal with single sign-on through a provider of its own (the demo data included)."""
    port = free_port()
    callback = [f"http://127.0.0.1:{port}/auth/oidc/callback"]
    provider = start_provider(None, CLIENT_ID, CLIENT_SECRET, callback)
    # A partner's own identity provider: a second, separate issuer.
    partner_idp = start_provider(None, "portal-at-acme", "acme-secret", callback)
    env = {
        "PORTAL_OIDC_ISSUER": provider.issuer,
        "PORTAL_OIDC_CLIENT_ID": CLIENT_ID,
        "PORTAL_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "PORTAL_OIDC_SCOPES": "openid email profile groups",
    }
    p = Portal(tmp_path_factory.mktemp("sso-portal"), port, env)
    (p.data_dir / "none.toml").write_text(
        f'[[partner_idp]]\nname = "ACME Corp"\nissuer = "{partner_idp.issuer}"\nclient_id = "portal-at-acme"\nclient_secret = "acme-secret"\n'
    )
    p.cli("demo")
    p.cli("team", "create", "north")
    p.start()
    p.provider, p.partner_idp = provider, partner_idp
    yield p
    p.stop()
    provider.stop()
    partner_idp.stop()


def sign_in(portal, login, purpose="admin", idp=0):
    """A fresh browser that signs in as `login` through provider `idp` (0: the portal's own);
    returns (session, final response)."""
    web = requests.Session()
    web.headers["Accept"] = "text/html"
    final = browser_login(web, f"{portal.base}/auth/oidc/start?as={purpose}&idp={idp}", login)
    return web, final


def test_platform_admin_signs_in_with_the_group_claim(sso):
    web, final = sign_in(sso, "admin@retailer.example")
    assert final.status_code == 200 and urlsplit(final.url).path == "/admin", final.url
    assert "Partners" in final.text and "admin:admin@retailer.example" in final.text and "all teams" in final.text
    assert "acme_foods" in final.text
    cookie = [c for c in web.cookies if c.name == "portal_admin"][0]
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.value.startswith("pas_")
    # The session works for the admin API too (reads need no form token).
    assert web.get(f"{sso.base}{API}/teams", headers={"Accept": "application/json"}).status_code == 200
    events = requests.get(f"{sso.base}{API}/audit?action=admin.signIn", headers=bearer(api_token(sso))).json()["items"]
    assert any(e["actor"] == "admin:admin@retailer.example" and e["status"] == 200 for e in events)


def test_team_admin_sees_only_the_team(sso):
    web, final = sign_in(sso, "north@retailer.example")
    assert urlsplit(final.url).path == "/admin" and "team north" in final.text
    assert "acme_foods" not in final.text  # the demo recipients belong to team default
    page = web.get(f"{sso.base}/admin/recipients/acme_foods")
    assert page.status_code == 404 and "acme_foods</h1>" not in page.text
    assert web.get(f"{sso.base}{API}/teams", headers={"Accept": "application/json"}).status_code == 403


def test_an_account_without_the_admin_claim_is_refused(sso):
    web, final = sign_in(sso, "nobody@retailer.example")
    assert urlsplit(final.url).path == "/admin/login"
    assert parse_qs(urlsplit(final.url).query)["error"] == ["not_admin"]
    assert "no admin rights" in final.text
    assert not any(c.name == "portal_admin" for c in web.cookies)
    assert web.get(f"{sso.base}{API}/recipients", headers={"Accept": "application/json"}).status_code == 401


def test_forged_or_replayed_callbacks_sign_no_one_in(sso):
    web = requests.Session()
    start = web.get(f"{sso.base}/auth/oidc/start?as=admin", allow_redirects=False)
    assert start.status_code == 303
    authorize = urlsplit(start.headers["Location"])
    query = parse_qs(authorize.query)
    assert authorize.geturl().startswith(sso.provider.issuer)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["state"][0] and query["nonce"][0] and "groups" in query["scope"][0]
    # A made-up code with the right state, and any code from a browser that did not start it.
    forged = web.get(f"{sso.base}/auth/oidc/callback?code=made-up&state={query['state'][0]}", allow_redirects=False)
    assert forged.status_code == 303 and "error=oidc" in forged.headers["Location"]
    stranger = requests.get(f"{sso.base}/auth/oidc/callback?code=x&state={query['state'][0]}", allow_redirects=False)
    assert stranger.status_code == 303 and "error=oidc" in stranger.headers["Location"]
    # A real code, caught on its way back, works once; replaying it signs no one in.
    login_web = requests.Session()
    back = browser_login(login_web, f"{sso.base}/auth/oidc/start?as=admin", "admin@retailer.example", stop_at=f"{sso.base}/auth/oidc/callback")
    callback = back.headers["Location"]
    first = login_web.get(callback, allow_redirects=False)
    assert first.status_code == 303 and first.headers["Location"] == "/admin"
    replay = login_web.get(callback, allow_redirects=False)
    assert replay.status_code == 303 and "error=oidc" in replay.headers["Location"]


def test_partner_employees_sign_in_through_their_recipient(sso):
    token = api_token(sso)
    name = uniq("acme_sso")
    body = {"name": name, "properties": {"partner_id": "P001"}, "oidc": {"issuer": sso.provider.issuer, "emailDomain": "acme.example"}}
    created = requests.post(f"{sso.base}{API}/recipients", json=body, headers=bearer(token))
    assert created.status_code == 201, created.text
    assert created.json()["oidc"] == {"issuer": sso.provider.issuer, "emailDomain": "acme.example"}
    assert requests.put(f"{sso.base}{API}/shares/wholesale/grants/{name}", headers=bearer(token)).status_code == 200

    login_page = requests.get(f"{sso.base}/login", headers={"Accept": "text/html"})
    assert "Sign in with your company account" in login_page.text

    web, final = sign_in(sso, "buyer@acme.example", purpose="partner")
    assert urlsplit(final.url).path == "/", final.url
    assert "wholesale" in final.text and "partner_program" not in final.text
    assert any(c.name == "portal_session" for c in web.cookies)
    # The session stands on a token named after the person, visible (and revocable) on /connect.
    connect = web.get(f"{sso.base}/connect")
    assert "Single sign-on: buyer@acme.example" in connect.text
    rows = web.get(f"{sso.base}/api/v1/shares/wholesale/schemas/commerce/tables/sales/rows", headers={"Accept": "application/json"})
    assert rows.status_code == 200 and {r[0] for r in rows.json()["rows"]} <= {"P001"}

    # An unverified address in the same domain, or another domain, is nobody's employee.
    for login in ["unverified@acme.example", "someone@elsewhere.example"]:
        _, refused = sign_in(sso, login, purpose="partner")
        assert urlsplit(refused.url).path == "/login" and parse_qs(urlsplit(refused.url).query)["error"] == ["oidc_unknown"], refused.url
        assert "no partner access is set up" in refused.text

    # The recipient's IP allow-list applies to single sign-on too.
    patch = requests.patch(f"{sso.base}{API}/recipients/{name}", json={"ipAllowList": ["10.0.0.0/8"]}, headers=bearer(token))
    assert patch.status_code == 200
    _, blocked = sign_in(sso, "buyer@acme.example", purpose="partner")
    assert parse_qs(urlsplit(blocked.url).query).get("error") == ["network"], blocked.url
    # And the session opened before now stops at the network check.
    refused = web.get(f"{sso.base}/api/v1/shares/wholesale/schemas/commerce/tables/sales/rows", headers={"Accept": "application/json"})
    assert refused.status_code == 403 and refused.json()["errorCode"] == "PERMISSION_DENIED"


def test_binding_needs_an_issuer_url_and_a_domain_or_claim(sso):
    token = api_token(sso)
    for oidc, why in [({"issuer": "not a url", "emailDomain": "a.example"}, "not a URL"), ({"issuer": "https://id.example"}, "email domain or a claim"), ({"issuer": "https://id.example", "claim": "org"}, "name=value")]:
        resp = requests.post(f"{sso.base}{API}/recipients", json={"name": uniq("bad_sso"), "oidc": oidc}, headers=bearer(token))
        assert resp.status_code == 400 and resp.json()["field"] == "oidc" and why in resp.json()["message"], resp.text


def test_partners_may_sign_in_with_their_own_identity_provider(sso):
    token = api_token(sso)
    name = uniq("acme_own_idp")
    body = {"name": name, "properties": {"partner_id": "P002"}, "oidc": {"issuer": sso.partner_idp.issuer, "emailDomain": "acme.example"}}
    assert requests.post(f"{sso.base}{API}/recipients", json=body, headers=bearer(token)).status_code == 201
    assert requests.put(f"{sso.base}{API}/shares/connected_retail/grants/{name}", headers=bearer(token)).status_code == 200

    login_page = requests.get(f"{sso.base}/login", headers={"Accept": "text/html"}).text
    assert "Sign in with your company account" in login_page and "Sign in with ACME Corp" in login_page

    web, final = sign_in(sso, "buyer@acme.example", purpose="partner", idp=1)
    assert urlsplit(final.url).path == "/", final.url
    assert "connected_retail" in final.text and "wholesale" not in final.text

    # The binding names the issuer: the same address at the portal's own provider is another
    # recipient's employee (the earlier test bound acme.example there), never this one.
    web_own, final_own = sign_in(sso, "buyer@acme.example", purpose="partner", idp=0)
    assert "connected_retail" not in final_own.text
    # A partner identity provider never makes anyone an admin, whatever the browser asks for.
    admin_try = requests.Session()
    start = admin_try.get(f"{sso.base}/auth/oidc/start?as=admin&idp=1", allow_redirects=False)
    assert start.headers["Location"].startswith(sso.provider.issuer)
    # An unknown provider index is refused plainly.
    unknown = requests.get(f"{sso.base}/auth/oidc/start?as=partner&idp=7", allow_redirects=False)
    assert unknown.status_code == 303 and unknown.headers["Location"] == "/login?error=sso_off"
