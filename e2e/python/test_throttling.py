"""Failed authentications are throttled per client address, at the default limit (30 a minute):
every way of presenting a credential counts, the address then gets 429 with Retry-After even with
valid credentials, other addresses are not affected, and the refusals are audited."""
import re

import pytest
import requests

from admin import hidden_csrf, login_link
from conftest import Portal, free_port

LIMIT = 30


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    p = Portal(tmp_path_factory.mktemp("throttle"), free_port(), extra_env={"PORTAL_TRUSTED_PROXIES": "127.0.0.1/32"})
    del p.env["PORTAL_AUTH_FAILURES_PER_MINUTE"]  # the default, as shipped
    p.cli("demo")
    p.start()
    token = p.cli("token", "create", "acme_foods").stdout
    p.token = re.search(r'"bearerToken": "([^"]+)"', token).group(1)
    yield p
    p.stop()


def at(address):
    return {"X-Forwarded-For": address}


def form_post(portal, address, path, **fields):
    """Posts a browser form from `address`, with the form token a page gave this browser."""
    s = requests.Session()
    # The page comes from an address of its own: once `address` is throttled it gets no page.
    page = s.get(portal.base + "/login", headers=at("192.0.2.250"))
    csrf = hidden_csrf(page.text)
    assert csrf, page.text[:300]
    return s.post(portal.base + path, data={"csrf": csrf, **fields}, headers=at(address), allow_redirects=False)


def sign_in_form(portal, address, token):
    return form_post(portal, address, "/login", token=token)


def test_every_kind_of_failure_counts_and_the_address_is_then_refused(guarded):
    shares = guarded.endpoint + "/shares"
    attacker, neighbour = "198.51.100.10", "198.51.100.11"
    admin_link = login_link(guarded)
    link_base = admin_link.rsplit("/", 1)[0]
    failures = [
        lambda: requests.get(shares, headers={**at(attacker), "Authorization": "Bearer dss_guess"}),
        lambda: requests.get(guarded.base + "/api/v1/exports", headers={**at(attacker), "Authorization": "Basic ZXhjZWw6ZHNzX2d1ZXNz"}),
        lambda: requests.get(guarded.base + "/api/v1/admin/shares", headers={**at(attacker), "Authorization": "Bearer dsa_guess"}),
        lambda: sign_in_form(guarded, attacker, "dss_guess"),
        lambda: form_post(guarded, attacker, "/activate/not-a-code"),
        lambda: form_post(guarded, attacker, link_base.split(guarded.base, 1)[1] + "/not-a-code"),
        # An OAuth client secret guessed at the token endpoint, with HTTP Basic and in the form.
        lambda: requests.post(guarded.base + "/oauth/token", data={"grant_type": "client_credentials"}, auth=("dsc_guess", "dcs_guess"), headers=at(attacker)),
        lambda: requests.post(guarded.base + "/oauth/token", data={"grant_type": "client_credentials", "client_id": "dsc_guess", "client_secret": "x"}, headers=at(attacker)),
    ]
    statuses = [failures[i % len(failures)]().status_code for i in range(LIMIT)]
    assert 429 not in statuses, statuses

    # The 31st try is refused before it is checked, and so is a valid token from that address.
    refused = requests.get(shares, headers={**at(attacker), "Authorization": f"Bearer {guarded.token}"})
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["errorCode"] == "RESOURCE_EXHAUSTED" and "try again" in refused.json()["message"]
    page = requests.get(guarded.base + "/login", headers=at(attacker))
    assert page.status_code == 429 and "text/html" in page.headers["Content-Type"] and "try again" in page.text
    assert sign_in_form(guarded, attacker, guarded.token).status_code == 429

    # Other addresses, and the address the proxy itself calls from, are not affected.
    assert requests.get(shares, headers={**at(neighbour), "Authorization": f"Bearer {guarded.token}"}).status_code == 200
    assert requests.get(shares, headers={"Authorization": f"Bearer {guarded.token}"}).status_code == 200
    # Health checks stay open for the load balancer.
    assert requests.get(guarded.base + "/readyz", headers=at(attacker)).status_code == 200

    refusals = [e for e in guarded.audit(400) if e.get("clientIp") == attacker or e.get("client_ip") == attacker]
    assert len(refusals) >= LIMIT, "every failed try is in the audit log"


def test_valid_traffic_never_counts(guarded):
    address = "198.51.100.20"
    for _ in range(LIMIT + 5):
        assert requests.get(guarded.endpoint + "/shares", headers={**at(address), "Authorization": f"Bearer {guarded.token}"}).status_code == 200
    # Anonymous calls are not failed authentications either (nothing was presented).
    for _ in range(LIMIT + 5):
        assert requests.get(guarded.endpoint + "/shares", headers=at(address)).status_code == 401
    assert requests.get(guarded.endpoint + "/shares", headers={**at(address), "Authorization": f"Bearer {guarded.token}"}).status_code == 200
