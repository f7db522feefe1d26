"""Partners' pipelines without long-lived tokens (version-2 `oauth_client_credentials` profiles):
the official Python client fetching access tokens from the portal's own token endpoint, and from
the partner's own identity provider (a real OpenID provider, npm `oidc-provider`, issuing JWT
access tokens for the portal's audience) admitted by a federation policy."""
import base64
import json
import re
import time

import delta_sharing
import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from deltalake import DeltaTable

from admin import API, api_token, bearer, partner_session, uniq
from oidc import start_provider

AUDIENCE = "urn:partner-data-portal"
PIPELINE, OTHER_PIPELINE = ("acme-pipeline", "pipeline-secret-1"), ("acme-other", "pipeline-secret-2")
SALES = "wholesale.commerce.sales"


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_int(n: int) -> str:
    return b64u(n.to_bytes((n.bit_length() + 7) // 8, "big"))


class SigningKey:
    """The partner provider's RSA signing key, known to the test so it can also sign tokens the
    provider itself would never issue (expired ones)."""

    def __init__(self, kid="partner-idp-key"):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = kid
        n = self.key.private_numbers()
        pub = n.public_numbers
        self.jwk = {"kty": "RSA", "kid": kid, "n": b64u_int(pub.n), "e": b64u_int(pub.e), "d": b64u_int(n.d), "p": b64u_int(n.p),
                    "q": b64u_int(n.q), "dp": b64u_int(n.dmp1), "dq": b64u_int(n.dmq1), "qi": b64u_int(n.iqmp)}

    def sign(self, claims, header=None):
        head = b64u(json.dumps(header or {"alg": "RS256", "kid": self.kid, "typ": "at+jwt"}).encode())
        body = b64u(json.dumps(claims).encode())
        signature = self.key.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{head}.{body}.{b64u(signature)}"


@pytest.fixture(scope="module")
def idp():
    """The partner's own identity provider, with two machine clients, and a second, untrusted one."""
    key = SigningKey()
    provider = start_provider(None, "unused-web-client", "unused", ["http://127.0.0.1/cb"], machine_clients=[PIPELINE, OTHER_PIPELINE],
                              resource=AUDIENCE, signing_jwk=key.jwk)
    rogue = start_provider(None, "unused-web-client", "unused", ["http://127.0.0.1/cb"], machine_clients=[PIPELINE], resource=AUDIENCE)
    provider.key, provider.rogue = key, rogue
    yield provider
    provider.stop()
    rogue.stop()


@pytest.fixture(scope="module")
def federated(portal, idp):
    """A federation policy of acme_foods: the pipeline client of the partner's provider, for our audience."""
    policy = {"name": uniq("acme idp"), "issuer": idp.issuer, "audiences": [AUDIENCE], "subjectClaim": "sub", "subjectValues": [PIPELINE[0]]}
    r = requests.post(f"{portal.base}{API}/recipients/acme_foods/federation-policies", json=policy, headers=bearer(api_token(portal)))
    assert r.status_code == 201, r.text
    added = [p for p in r.json()["federationPolicies"] if p["name"] == policy["name"]]
    assert len(added) == 1 and added[0]["issuer"] == idp.issuer
    yield added[0]
    requests.delete(f"{portal.base}{API}/recipients/acme_foods/federation-policies/{added[0]['id']}", headers=bearer(api_token(portal)))


def idp_token(provider, client, resource=None):
    """A client-credentials access token of a provider (a JWT), fetched as the pipeline would."""
    data = {"grant_type": "client_credentials", "scope": "sharing"}
    if resource:
        data["resource"] = resource
    r = requests.post(f"{provider.issuer}/token", data=data, auth=client)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def create_client(portal, recipient, name):
    """`portal client create`: the profile, then client_id= and client_secret= as the last two lines."""
    out = portal.cli("client", "create", recipient, "--name", name).stdout.strip().splitlines()
    assert out[-2].startswith("client_id=dsc_") and out[-1].startswith("client_secret=dcs_"), out[-2:]
    profile = json.loads("\n".join(out[:-2]))
    return profile, out[-2].split("=", 1)[1], out[-1].split("=", 1)[1]


def acme_rows(demo_dir):
    df = DeltaTable(str(demo_dir / "sales")).to_pandas()
    return df[df.partner_id == "P001"]


def token_from_portal(portal, client_id, secret):
    r = requests.post(f"{portal.base}/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret))
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def shares_of(portal, token):
    return requests.get(f"{portal.endpoint}/shares", headers=bearer(token))


# --- The portal's own token endpoint -----------------------------------------------------------


def test_official_client_reads_with_a_portal_oauth_client(portal, demo_dir, tmp_path):
    profile, client_id, _ = create_client(portal, "acme_foods", "nightly load")
    assert profile["shareCredentialsVersion"] == 2 and profile["type"] == "oauth_client_credentials"
    assert profile["tokenEndpoint"] == f"{portal.base}/oauth/token" and profile["endpoint"] == portal.endpoint
    assert profile["clientId"] == client_id
    path = tmp_path / "pipeline.share"
    path.write_text(json.dumps(profile))
    tables = {(t.share, t.schema, t.name) for t in delta_sharing.SharingClient(str(path)).list_all_tables()}
    assert ("wholesale", "commerce", "sales") in tables and not any(s == "connected_retail" for s, _, _ in tables)
    df = delta_sharing.load_as_pandas(f"{path}#{SALES}")
    expected = acme_rows(demo_dir)
    assert len(df) == len(expected) > 10_000 and set(df.partner_id) == {"P001"}
    # Every token issued is audited with the client's name; the reads name the client too.
    lines = portal.audit(400)
    issued = [l for l in lines if l["action"] == "oauth.token" and l.get("object") == client_id]
    assert issued and issued[0]["status"] == 200 and "nightly load" in issued[0]["detail"]
    assert issued[0]["actor"] == "recipient:acme_foods"
    reads = [l for l in lines if l["actor"] == "recipient:acme_foods" and f"oauth client {client_id}" in (l.get("detail") or "")]
    assert reads, "protocol reads through an access token name the client"


def test_token_endpoint_answers_as_rfc_6749_says(portal):
    _, client_id, secret = create_client(portal, "acme_foods", "rfc check")
    url = f"{portal.base}/oauth/token"
    basic = requests.post(url, data={"grant_type": "client_credentials"}, auth=(client_id, secret))
    assert basic.status_code == 200
    body = basic.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["access_token"].startswith("dso_")
    assert basic.headers["Cache-Control"] == "no-store"
    posted = requests.post(url, data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
    assert posted.status_code == 200 and posted.json()["access_token"] != body["access_token"]
    assert shares_of(portal, posted.json()["access_token"]).status_code == 200

    wrong = requests.post(url, data={"grant_type": "client_credentials"}, auth=(client_id, "dcs_wrong"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert wrong.headers["WWW-Authenticate"].startswith("Basic")
    unknown = requests.post(url, data={"grant_type": "client_credentials", "client_id": "dsc_nobody", "client_secret": "x"})
    assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_client"
    assert requests.post(url, data={"grant_type": "password"}, auth=(client_id, secret)).json()["error"] == "unsupported_grant_type"
    both = requests.post(url, data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}, auth=(client_id, secret))
    assert both.status_code == 400 and both.json()["error"] == "invalid_request"
    assert requests.post(url, data={}, auth=(client_id, secret)).json()["error"] == "invalid_request"
    assert requests.get(url).status_code == 405
    # The client secret itself is no bearer token.
    assert shares_of(portal, secret).status_code == 401
    refused = [l for l in portal.audit(100) if l["action"] == "oauth.token" and l["status"] == 401]
    assert refused and refused[0]["actor"] == "anonymous"


def test_a_revoked_client_and_its_access_tokens_stop_at_once(portal):
    _, client_id, secret = create_client(portal, "acme_foods", "to revoke")
    token = token_from_portal(portal, client_id, secret)
    assert shares_of(portal, token).status_code == 200
    assert client_id in portal.cli("client", "list", "acme_foods").stdout
    assert portal.cli("client", "revoke", "acme_foods", client_id).stdout.strip() == f"revoked OAuth client {client_id}"
    assert shares_of(portal, token).status_code == 401
    again = requests.post(f"{portal.base}/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret))
    assert again.status_code == 401 and again.json()["error"] == "invalid_client"
    listed = [l for l in portal.cli("client", "list", "acme_foods").stdout.splitlines() if client_id in l]
    assert "revoked" in listed[0]
    # Another recipient's client cannot be revoked through this one: one line, non-zero exit.
    done = portal.cli("client", "revoke", "nordic_goods", client_id, check=False)
    assert done.returncode != 0 and len(done.stderr.strip().splitlines()) == 1


def test_an_access_token_reads_only_its_recipients_shares(portal):
    _, client_id, secret = create_client(portal, "acme_foods", "scope check")
    token = token_from_portal(portal, client_id, secret)
    names = {s["name"] for s in shares_of(portal, token).json()["items"]}
    assert "wholesale" in names and "connected_retail" not in names
    foreign = requests.get(f"{portal.endpoint}/shares/connected_retail/schemas/retail/tables/sales_feed/version", headers=bearer(token))
    assert foreign.status_code == 404


def test_admin_api_rotates_with_overlap(portal):
    api = bearer(api_token(portal))
    created = requests.post(f"{portal.base}{API}/recipients/acme_foods/oauth-clients", json={"name": "rotated"}, headers=api)
    assert created.status_code == 201, created.text
    first = created.json()
    client_id = first["client"]["clientId"]
    assert json.loads(first["profile"])["clientSecret"] == first["clientSecret"]
    rotated = requests.post(f"{portal.base}{API}/recipients/acme_foods/oauth-clients/{client_id}/rotate", json={"overlapHours": 0}, headers=api)
    assert rotated.status_code == 201 and rotated.json()["client"]["clientId"] == client_id
    old = requests.post(f"{portal.base}/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, first["clientSecret"]))
    assert old.status_code == 401
    token_from_portal(portal, client_id, rotated.json()["clientSecret"])
    assert requests.post(f"{portal.base}{API}/recipients/acme_foods/oauth-clients", json={"name": ""}, headers=api).json()["field"] == "name"
    audit = [l for l in portal.audit(100) if l["action"] == "admin.rotateOAuthClient"]
    assert audit and client_id in audit[0]["object"] and first["clientSecret"] not in json.dumps(audit)


def test_partner_creates_a_client_on_connect_and_sees_its_secret_once(portal):
    web = partner_session(portal, "acme_foods")
    page = web.get(f"{portal.base}/connect")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    done = web.post(f"{portal.base}/connect/clients", data={"csrf": csrf, "name": "from connect"}, allow_redirects=False)
    assert done.status_code == 303 and "client=" in done.headers["location"]
    shown = web.get(f"{portal.base}{done.headers['location']}")
    secret = re.search(r'id="new-client-secret"[^>]*value="(dcs_[^"]+)"', shown.text)
    client_id = re.search(r'id="new-client-id"[^>]*value="(dsc_[^"]+)"', shown.text)
    assert secret and client_id, shown.text[:500]
    assert "oauth_client_credentials" in shown.text and f"{portal.base}/oauth/token" in shown.text
    token_from_portal(portal, client_id.group(1), secret.group(1))
    again = web.get(f"{portal.base}{done.headers['location']}")
    assert secret.group(1) not in again.text, "the secret is shown only once"


# --- Federation with the partner's own identity provider --------------------------------------


def test_official_client_reads_with_the_partners_own_provider(portal, idp, federated, demo_dir, tmp_path):
    discovery = requests.get(f"{idp.issuer}/.well-known/openid-configuration").json()
    profile = {"shareCredentialsVersion": 2, "type": "oauth_client_credentials", "endpoint": portal.endpoint,
               "tokenEndpoint": discovery["token_endpoint"], "clientId": PIPELINE[0], "clientSecret": PIPELINE[1], "scope": "sharing"}
    path = tmp_path / "federated.share"
    path.write_text(json.dumps(profile))
    df = delta_sharing.load_as_pandas(f"{path}#{SALES}")
    assert len(df) == len(acme_rows(demo_dir)) and set(df.partner_id) == {"P001"}
    line = next(l for l in portal.audit(100) if f"federated iss={idp.issuer} sub={PIPELINE[0]}" in (l.get("detail") or ""))
    assert line["actor"] == "recipient:acme_foods"
    # /connect offers the partner a profile pointing at their own provider's token endpoint.
    web = partner_session(portal, "acme_foods")
    page = web.get(f"{portal.base}/connect").text
    assert discovery["token_endpoint"] in page and federated["name"] in page


def test_federated_tokens_are_refused_unless_every_check_passes(portal, idp, federated):
    good = idp_token(idp, PIPELINE)
    assert shares_of(portal, good).status_code == 200
    refusals = {
        "wrong audience": idp_token(idp, PIPELINE, resource="urn:someone-else"),
        "wrong subject": idp_token(idp, OTHER_PIPELINE),
        "wrong issuer": idp_token(idp.rogue, PIPELINE),
    }
    now = int(time.time())
    claims = {"iss": idp.issuer, "sub": PIPELINE[0], "aud": AUDIENCE, "iat": now - 7200, "exp": now - 3600, "client_id": PIPELINE[0]}
    refusals["expired"] = idp.key.sign(claims)
    refusals["not yet valid"] = idp.key.sign({**claims, "iat": now, "exp": now + 3600, "nbf": now + 3600})
    refusals["no audience"] = idp.key.sign({k: v for k, v in {**claims, "exp": now + 600}.items() if k != "aud"})
    refusals["unsigned"] = b64u(json.dumps({"alg": "none"}).encode()) + "." + b64u(json.dumps({**claims, "exp": now + 600}).encode()) + "."
    head, body, sig = good.split(".")
    forged_body = json.loads(base64.urlsafe_b64decode(body + "=="))
    forged_body["sub"] = PIPELINE[0] + "-x"
    refusals["tampered"] = f"{head}.{b64u(json.dumps(forged_body).encode())}.{sig}"
    for why, token in refusals.items():
        r = shares_of(portal, token)
        assert r.status_code == 401, (why, r.status_code, r.text)
        assert r.json()["errorCode"] == "UNAUTHENTICATED", why
    # The same token signed properly and in date is accepted: the refusals above are the checks.
    assert shares_of(portal, idp.key.sign({**claims, "iat": now, "exp": now + 600})).status_code == 200


def test_a_federated_token_never_reads_another_recipients_share(portal, idp, federated):
    token = idp_token(idp, PIPELINE)
    names = {s["name"] for s in shares_of(portal, token).json()["items"]}
    assert "connected_retail" not in names
    r = requests.get(f"{portal.endpoint}/shares/connected_retail/schemas/retail/tables/sales_feed/version", headers=bearer(token))
    assert r.status_code == 404
    rows = requests.get(f"{portal.base}/api/v1/shares/wholesale/schemas/commerce/tables/sales/rows?_size=50&_col=partner_id", headers=bearer(token))
    assert rows.status_code == 200 and {r[0] for r in rows.json()["rows"]} == {"P001"}
    # Downloads take it too.
    csv = requests.get(f"{portal.base}/api/v1/shares/wholesale/schemas/commerce/tables/sales/export.csv?_col=partner_id", headers=bearer(token))
    assert csv.status_code == 200, csv.text[:200]
    assert set(csv.text.splitlines()[1:]) == {"P001"}


def test_federation_policies_are_checked_and_removed_by_admins(portal, idp, federated):
    api = bearer(api_token(portal))
    bad = {"name": "x", "issuer": "http://idp.example", "audiences": [AUDIENCE], "subjectClaim": "sub", "subjectValues": ["a"]}
    r = requests.post(f"{portal.base}{API}/recipients/acme_foods/federation-policies", json=bad, headers=api)
    assert r.status_code == 400 and r.json()["field"] == "issuer"
    r = requests.post(f"{portal.base}{API}/recipients/acme_foods/federation-policies", json={**bad, "issuer": idp.issuer, "audiences": []}, headers=api)
    assert r.status_code == 400 and r.json()["field"] == "audiences"
    r = requests.post(f"{portal.base}{API}/recipients/acme_foods/federation-policies", json={**bad, "issuer": idp.issuer, "extra": 1}, headers=api)
    assert r.status_code == 400
    for private in ["https://169.254.169.254/latest", "https://10.1.2.3/realms/x"]:
        r = requests.post(f"{portal.base}{API}/recipients/acme_foods/federation-policies", json={**bad, "issuer": private}, headers=api)
        assert r.status_code == 400 and r.json()["field"] == "issuer", private
    # Acme's pipeline cannot also be given to another recipient.
    taken = {**bad, "name": uniq("taken"), "issuer": idp.issuer, "subjectValues": [PIPELINE[0]]}
    r = requests.post(f"{portal.base}{API}/recipients/nordic_goods/federation-policies", json=taken, headers=api)
    assert r.status_code == 409 and r.json()["errorCode"] == "RESOURCE_ALREADY_EXISTS", r.text
    # A policy for the other pipeline, then removed: its tokens stop being admitted.
    policy = {**bad, "name": uniq("other"), "issuer": idp.issuer, "subjectValues": [OTHER_PIPELINE[0]]}
    added = requests.post(f"{portal.base}{API}/recipients/nordic_goods/federation-policies", json=policy, headers=api)
    assert added.status_code == 201, added.text
    token = idp_token(idp, OTHER_PIPELINE)
    names = {s["name"] for s in shares_of(portal, token).json()["items"]}
    assert "connected_retail" in names and "partner_program" not in names, "the other pipeline acts as nordic_goods"
    policy_id = next(p["id"] for p in added.json()["federationPolicies"] if p["name"] == policy["name"])
    removed = requests.delete(f"{portal.base}{API}/recipients/nordic_goods/federation-policies/{policy_id}", headers=api)
    assert removed.status_code == 200 and not any(p["id"] == policy_id for p in removed.json()["federationPolicies"])
    assert shares_of(portal, token).status_code == 401
    assert requests.delete(f"{portal.base}{API}/recipients/acme_foods/federation-policies/{policy_id}", headers=api).status_code == 404


def test_the_recipients_networks_apply_at_the_token_endpoint(portal):
    api = bearer(api_token(portal))
    name = uniq("fenced")
    made = requests.post(f"{portal.base}{API}/recipients", json={"name": name, "ipAllowList": ["192.0.2.0/24"]}, headers=api)
    assert made.status_code == 201, made.text
    _, client_id, secret = create_client(portal, name, "from elsewhere")
    r = requests.post(f"{portal.base}/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret))
    assert r.status_code == 403 and r.json()["error"] == "unauthorized_client", r.text
    requests.patch(f"{portal.base}{API}/recipients/{name}", json={"ipAllowList": []}, headers=api).raise_for_status()
    assert shares_of(portal, token_from_portal(portal, client_id, secret)).status_code == 200
