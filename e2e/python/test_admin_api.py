"""The admin API (`/api/v1/admin`) as a provider's scripts use it, with an admin API token made
by the CLI: shares and their tables, recipients with properties and IP allow-lists, grants,
activation links, rotation and revocation, audit (JSON and CSV), previews as a recipient, and
the OpenAPI document. Each test makes objects of its own; partners' reads go through the real
Delta Sharing endpoint and the official client."""
import csv
import io
import json
import re
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import delta_sharing
import pytest
import requests

from admin import (
    AdminApi,
    admin_session,
    bearer,
    delta_sharing_status,
    error_of,
    parse_moment,
    partner_token,
    recipient_state,
    uniq,
)


@pytest.fixture(scope="module")
def api(portal):
    """A platform admin's API client (token from `portal admin token create --name …`)."""
    return AdminApi.platform(portal)


@pytest.fixture(scope="module")
def sales(portal):
    return portal.data_dir / "demo" / "sales"


def near(moment, expected, slack=timedelta(minutes=2)):
    return abs(parse_moment(moment) - expected) < slack


def activate(portal, url, tmp_path):
    """Presses the activation page's button; returns (profile path, bearer token)."""
    done = portal.activate(url)
    assert done.status_code == 200, (done.status_code, done.text[:300])
    profile = done.json()
    assert profile["endpoint"] == portal.endpoint and profile["bearerToken"].startswith("dss_")
    path = Path(tmp_path) / f"{uniq('profile')}.share"
    path.write_text(json.dumps(profile))
    return path, profile["bearerToken"]


# --- Shares and tables ----------------------------------------------------------------------------


def test_share_gets_a_demo_table_with_its_columns(api, portal, sales):
    name = uniq("api_share")
    made = api.ok("POST", "/shares", {"name": name, "comment": "Sell-out for wholesale partners"})
    assert made["name"] == name and made["comment"] == "Sell-out for wholesale partners"
    assert made["team"] == "default" and made["tables"] == [] and made["grants"] == []
    table = api.ok("POST", f"/shares/{name}/tables", {"schema": "commerce", "name": "sales", "location": str(sales), "comment": "order lines", "history": True, "scope": "partner_id=partner_id"})
    assert (table["schema"], table["name"], table["comment"], table["history"], table["scope"]) == ("commerce", "sales", "order lines", True, "partner_id=partner_id")
    assert Path(table["location"]).resolve() == sales.resolve() or table["location"].rstrip("/").endswith(str(sales))
    columns = {c["name"]: c["type"] for c in table["columns"]}
    assert [c["name"] for c in table["columns"]][:3] == ["partner_id", "order_id", "order_date"]
    assert {"units", "revenue", "country", "updated_at"} <= set(columns)
    assert columns["partner_id"] == "string" and columns["units"] == "long" and columns["order_date"] == "date"
    detail = api.ok("GET", f"/shares/{name}")
    assert [(t["schema"], t["name"]) for t in detail["tables"]] == [("commerce", "sales")]
    assert detail["tables"][0]["columns"] == table["columns"]
    [summary] = [s for s in api.ok("GET", "/shares")["items"] if s["name"] == name]
    assert summary["tables"] == 1 and summary["grants"] == 0 and summary["team"] == "default"
    # The same table twice is a conflict and adds nothing.
    error_of(api.post(f"/shares/{name}/tables", {"schema": "commerce", "name": "sales", "location": str(sales)}), 409)
    assert len(api.ok("GET", f"/shares/{name}")["tables"]) == 1
    # Renaming (alias) and dropping the scope; then removing the table.
    renamed = api.ok("PATCH", f"/shares/{name}/tables/commerce.sales", {"alias": "orders", "scope": ""})
    assert renamed["name"] == "orders" and renamed["scope"] is None
    assert [t["name"] for t in api.ok("GET", f"/shares/{name}")["tables"]] == ["orders"]
    error_of(api.patch(f"/shares/{name}/tables/commerce.sales", {"comment": "gone"}), 404)
    assert api.ok("DELETE", f"/shares/{name}/tables/commerce.orders") == {"deleted": True}
    assert api.ok("GET", f"/shares/{name}")["tables"] == []


def test_bad_location_and_scope_are_field_errors_and_add_nothing(api, portal, sales, tmp_path):
    name = uniq("api_bad_tables")
    api.ok("POST", "/shares", {"name": name})
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "data.csv").write_text("a,b\n1,2\n")
    for location in (plain, tmp_path / "missing"):
        body = error_of(api.post(f"/shares/{name}/tables", {"schema": "s", "name": "t", "location": str(location)}), 400, field="location")
        assert "Delta table" in body["message"], body
    body = error_of(api.post(f"/shares/{name}/tables", {"schema": "s", "name": "t", "location": str(sales), "scope": "country=country"}), 400, field="scope")
    assert "partition" in body["message"] and "partner_id" in body["message"], body
    error_of(api.post(f"/shares/{name}/tables", {"schema": "s", "name": "t", "location": str(sales), "scope": "partner_id"}), 400, field="scope")
    assert api.ok("GET", f"/shares/{name}")["tables"] == []
    # A table of a share that does not exist.
    error_of(api.post(f"/shares/{uniq('nope')}/tables", {"schema": "s", "name": "t", "location": str(sales)}), 404)


def test_scopes_name_properties_every_recipient_has(api, sales):
    """A scope on a property a recipient lacks would show it no rows: both orders are refused
    with the reason, and nothing changes."""
    share, with_id, without_id = uniq("api_scoped"), uniq("has_pid"), uniq("no_pid")
    api.ok("POST", "/shares", {"name": share})
    api.ok("POST", "/recipients", {"name": with_id, "properties": {"partner_id": "P001"}})
    api.ok("POST", "/recipients", {"name": without_id, "properties": {"country": "DE"}})
    api.ok("PUT", f"/shares/{share}/grants/{without_id}")
    body = error_of(api.post(f"/shares/{share}/tables", {"schema": "s", "name": "t", "location": str(sales), "scope": "partner_id=partner_id"}), 400, field="scope")
    assert without_id in body["message"] and "no property `partner_id`" in body["message"], body
    assert api.ok("GET", f"/shares/{share}")["tables"] == []
    api.ok("DELETE", f"/shares/{share}/grants/{without_id}")
    api.ok("POST", f"/shares/{share}/tables", {"schema": "s", "name": "t", "location": str(sales), "scope": "partner_id=partner_id"})
    api.ok("PUT", f"/shares/{share}/grants/{with_id}")
    body = error_of(api.put(f"/shares/{share}/grants/{without_id}"), 400, field="recipient")
    assert "no property `partner_id`" in body["message"] and f"{share}.s.t" in body["message"], body
    assert api.ok("GET", f"/shares/{share}")["grants"] == [with_id]


def test_share_names_duplicates_and_comments(api):
    name = uniq("api_dup")
    api.ok("POST", "/shares", {"name": name})
    error_of(api.post("/shares", {"name": name}), 409)
    error_of(api.post("/shares", {"name": name.upper()}), 409)
    before = sorted(s["name"] for s in api.ok("GET", "/shares")["items"])
    for bad in ("has space", "a/b", "", "x" * 300):
        error_of(api.post("/shares", {"name": bad}), 400, field="name")
    assert sorted(s["name"] for s in api.ok("GET", "/shares")["items"]) == before
    patched = api.ok("PATCH", f"/shares/{name}", {"comment": "now with a comment"})
    assert patched["comment"] == "now with a comment"
    assert api.ok("GET", f"/shares/{name}")["comment"] == "now with a comment"


# --- Recipients ---------------------------------------------------------------------------------------


def test_recipient_with_properties_and_allow_list(api):
    name = uniq("api_rcpt")
    fields = {"name": name, "comment": "Fjord Foods AS", "properties": {"partner_id": "P001", "tier": "gold"}, "ipAllowList": ["10.0.0.0/8", "2001:db8::/32"]}
    made = api.ok("POST", "/recipients", fields)
    assert made["name"] == name and made["comment"] == "Fjord Foods AS" and made["team"] == "default"
    assert made["properties"] == {"partner_id": "P001", "tier": "gold"}
    assert made["ipAllowList"] == ["10.0.0.0/8", "2001:db8::/32"]
    assert made["status"] == "new" and made["tokens"] == [] and made["activationLinks"] == [] and made["grants"] == []
    assert made["oidc"] is None and made["lastAccess"] is None and made["rowsRead"] == 0 and made["bytesRead"] == 0
    assert recipient_state(api.ok("GET", f"/recipients/{name}")) == recipient_state(made)
    [summary] = [r for r in api.ok("GET", "/recipients")["items"] if r["name"] == name]
    assert summary["properties"] == made["properties"] and summary["ipAllowList"] == made["ipAllowList"] and summary["status"] == "new"
    # A malformed CIDR is a field error and changes nothing.
    before = recipient_state(api.ok("GET", f"/recipients/{name}"))
    for bad in (["10.0.0.0/33"], ["not-an-address"], ["10.0.0.0/8", "300.1.2.3/32"], ["2001:db8::/129"]):
        error_of(api.patch(f"/recipients/{name}", {"ipAllowList": bad, "comment": "should not stick"}), 400, field="ipAllowList")
    assert recipient_state(api.ok("GET", f"/recipients/{name}")) == before
    other = uniq("api_rcpt_bad")
    error_of(api.post("/recipients", {"name": other, "ipAllowList": ["192.168.1.0/40"]}), 400, field="ipAllowList")
    error_of(api.get(f"/recipients/{other}"), 404)
    # Valid changes stick.
    patched = api.ok("PATCH", f"/recipients/{name}", {"comment": "Fjord Foods", "properties": {"partner_id": "P002"}, "ipAllowList": []})
    assert patched["comment"] == "Fjord Foods" and patched["properties"] == {"partner_id": "P002"} and patched["ipAllowList"] == []
    # Names: duplicates conflict, bad names are field errors.
    error_of(api.post("/recipients", {"name": name}), 409)
    error_of(api.post("/recipients", {"name": "has space"}), 400, field="name")


def test_onboarding_grant_activation_and_status(api, portal, tmp_path):
    share = api.share_with_table(portal)
    name = api.recipient(properties={"partner_id": "P002"})
    assert api.ok("GET", f"/recipients/{name}")["status"] == "new"
    granted = api.ok("PUT", f"/shares/{share}/grants/{name}")
    assert granted["grants"] == [name]
    assert api.ok("GET", f"/recipients/{name}")["grants"] == [share]
    link = api.ok("POST", f"/recipients/{name}/activation-links", {"ttlHours": 24})
    assert link["url"].startswith(portal.base + "/activate/")
    assert near(link["expiresAt"], datetime.now(timezone.utc) + timedelta(hours=24))
    invited = api.ok("GET", f"/recipients/{name}")
    assert invited["status"] == "invited" and [l["status"] for l in invited["activationLinks"]] == ["pending"]
    # The link's page works for the partner, and the profile reads the share.
    page = requests.get(link["url"])
    assert page.status_code == 200 and name in page.text
    path, token = activate(portal, link["url"], tmp_path)
    activated = api.ok("GET", f"/recipients/{name}")
    assert activated["status"] == "activated"
    assert [l["status"] for l in activated["activationLinks"]] == ["used"]
    assert [t["status"] for t in activated["tokens"]] == ["active"]
    client = delta_sharing.SharingClient(str(path))
    assert {(t.share, t.schema, t.name) for t in client.list_all_tables()} == {(share, "commerce", "sales")}
    df = delta_sharing.load_as_pandas(f"{path}#{share}.commerce.sales", limit=500)
    assert len(df) > 0 and set(df["partner_id"]) == {"P002"}
    listed = requests.get(portal.endpoint + "/shares", headers=bearer(token))
    assert listed.status_code == 200 and [s["name"] for s in listed.json()["items"]] == [share]
    # A used link is gone.
    assert portal.activate(link["url"]).status_code == 410
    # Revoking the grant hides the share at once.
    assert api.ok("DELETE", f"/shares/{share}/grants/{name}")["grants"] == []
    assert requests.get(portal.endpoint + "/shares", headers=bearer(token)).json().get("items", []) == []


def test_rotation_with_and_without_overlap_and_revocation(api, portal, tmp_path):
    share = api.share_with_table(portal)
    name = api.recipient(properties={"partner_id": "P001"})
    api.ok("PUT", f"/shares/{share}/grants/{name}")
    first_link = api.ok("POST", f"/recipients/{name}/activation-links", {})
    assert near(first_link["expiresAt"], datetime.now(timezone.utc) + timedelta(hours=72)), "72 hours by default"
    _, first = activate(portal, first_link["url"], tmp_path)
    assert delta_sharing_status(portal, first) == 200
    # Rotation with an hour of overlap: the old token keeps working, the new link gives a new one.
    rotated = api.ok("POST", f"/recipients/{name}/rotate", {"overlapHours": 1})
    assert rotated["url"].startswith(portal.base + "/activate/") and rotated["url"] != first_link["url"]
    assert near(rotated["oldTokensExpireAt"], datetime.now(timezone.utc) + timedelta(hours=1))
    assert delta_sharing_status(portal, first) == 200
    detail = api.ok("GET", f"/recipients/{name}")
    [old] = detail["tokens"]
    assert old["status"] == "active" and near(old["expiresAt"], datetime.now(timezone.utc) + timedelta(hours=1))
    _, second = activate(portal, rotated["url"], tmp_path)
    assert second != first and delta_sharing_status(portal, second) == 200 and delta_sharing_status(portal, first) == 200
    assert api.ok("GET", f"/recipients/{name}")["status"] in ("activated", "expiring")
    # Rotation without overlap: every token in use stops now.
    now = api.ok("POST", f"/recipients/{name}/rotate", {"overlapHours": 0})
    assert delta_sharing_status(portal, first) == 401 and delta_sharing_status(portal, second) == 401
    assert parse_moment(now["oldTokensExpireAt"]) <= datetime.now(timezone.utc) + timedelta(seconds=5)
    assert api.ok("GET", f"/recipients/{name}")["status"] == "invited", "only the new link is left"
    _, third = activate(portal, now["url"], tmp_path)
    assert delta_sharing_status(portal, third) == 200
    # Revoking one token stops it.
    detail = api.ok("GET", f"/recipients/{name}")
    [active] = [t for t in detail["tokens"] if t["status"] == "active"]
    after = api.ok("POST", f"/recipients/{name}/tokens/{active['id']}/revoke")
    assert {t["id"]: t["status"] for t in after["tokens"]}[active["id"]] == "revoked"
    assert delta_sharing_status(portal, third) == 401
    assert after["status"] != "activated"
    error_of(api.post(f"/recipients/{name}/tokens/0000000000000000/revoke"), 404)
    # Bad overlaps are refused and change nothing.
    before = recipient_state(api.ok("GET", f"/recipients/{name}"))
    error_of(api.post(f"/recipients/{name}/rotate", {"overlapHours": 24 * 365}), 400, field="overlapHours")
    error_of(api.post(f"/recipients/{name}/rotate", {"overlapHours": -1}), 400)
    assert recipient_state(api.ok("GET", f"/recipients/{name}")) == before


def test_revoking_a_cli_token(api, portal):
    name = api.recipient()
    token, token_id = partner_token(portal, name)
    assert delta_sharing_status(portal, token) == 200
    assert api.ok("GET", f"/recipients/{name}")["status"] == "activated"
    revoked = api.ok("POST", f"/recipients/{name}/tokens/{token_id}/revoke")
    assert delta_sharing_status(portal, token) == 401
    assert [t["status"] for t in revoked["tokens"]] == ["revoked"] and revoked["status"] == "revoked"


# --- Audit ---------------------------------------------------------------------------------------------------


def test_audit_shows_partner_reads_and_admin_changes(api, portal):
    share = api.share_with_table(portal)
    name = api.recipient(comment="before", properties={"partner_id": "P001"})
    api.ok("PUT", f"/shares/{share}/grants/{name}")
    api.ok("PATCH", f"/recipients/{name}", {"comment": "after"})
    token, token_id = partner_token(portal, name)
    assert requests.get(portal.endpoint + "/shares", headers={**bearer(token), "User-Agent": "audit-test/1"}).status_code == 200
    rows = requests.get(portal.base + f"/api/v1/shares/{share}/schemas/commerce/tables/sales/rows?_size=7", headers=bearer(token))
    assert rows.status_code == 200
    api.ok("POST", f"/recipients/{name}/tokens/{token_id}/revoke")
    events = api.ok("GET", f"/audit?recipient={name}")["items"]
    actions = [e["action"] for e in events]
    assert {"admin.createRecipient", "admin.updateRecipient", "admin.grant", "admin.revokeToken", "listShares", "api.rows"} <= set(actions), actions
    moments = [parse_moment(e["at"]) for e in events]
    assert moments == sorted(moments, reverse=True), "newest first"
    for e in events:
        assert set(e) >= {"at", "actor", "action", "object", "status", "rows", "files", "bytes", "detail", "clientIp", "userAgent"}, e
    reads = [e for e in events if e["action"] in ("listShares", "api.rows")]
    assert all(e["actor"] == f"recipient:{name}" for e in reads), reads
    [listing] = [e for e in reads if e["action"] == "listShares"]
    assert listing["status"] == 200 and listing["userAgent"] == "audit-test/1" and listing["clientIp"] == "127.0.0.1"
    [page] = [e for e in reads if e["action"] == "api.rows"]
    assert page["rows"] == 7 and page["object"] == f"{share}.commerce.sales"
    admin_actions = [e for e in events if e["action"] in ("admin.createRecipient", "admin.updateRecipient", "admin.grant", "admin.revokeToken")]
    token_name = None
    for e in admin_actions:
        assert e["actor"].startswith("admin-token:"), e
        token_name = token_name or e["actor"]
        assert e["actor"] == token_name, "one token made all these changes"
    [update] = [e for e in admin_actions if e["action"] == "admin.updateRecipient"]
    assert update["object"] == name and update["status"] == 200
    detail = json.loads(update["detail"]) if isinstance(update["detail"], str) else update["detail"]
    assert set(detail) >= {"before", "after"} and detail["before"]["comment"] == "before" and detail["after"]["comment"] == "after"
    [created] = [e for e in admin_actions if e["action"] == "admin.createRecipient"]
    created_detail = json.loads(created["detail"]) if isinstance(created["detail"], str) else created["detail"]
    assert created_detail["before"] is None and created_detail["after"]["name"] == name
    # Filters: by share and by action; a share's events include its grant.
    by_share = api.ok("GET", f"/audit?share={share}&action=admin.grant")["items"]
    assert by_share and all(e["action"] == "admin.grant" for e in by_share)
    assert api.ok("GET", f"/audit?recipient={name}&limit=2")["items"] == events[:2]
    today = datetime.now(timezone.utc).date().isoformat()
    assert len(api.ok("GET", f"/audit?recipient={name}&from={today}")["items"]) == len(events)
    assert api.ok("GET", f"/audit?recipient={name}&to=2000-01-01")["items"] == []


def test_audit_csv_is_a_safe_spreadsheet(api, portal):
    name = api.recipient()
    token, _ = partner_token(portal, name)
    evil = "=HYPERLINK(\"http://evil.example\",\"x\")"
    for agent in (evil, "+1+2", "@SUM(A1)", "-2+3"):
        assert requests.get(portal.endpoint + "/shares", headers={**bearer(token), "User-Agent": agent}).status_code == 200
    resp = api.get(f"/audit.csv?recipient={name}")
    assert resp.status_code == 200, resp.text[:300]
    assert resp.headers["content-type"].startswith("text/csv")
    assert "attachment" in resp.headers.get("content-disposition", "")
    table = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    header, rows = table[0], table[1:]
    assert {"at", "actor", "action"} <= {h.strip().lower() for h in header}, header
    assert len(rows) >= 5, "the four reads and the recipient's creation"
    cells = [c for r in rows for c in r]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")], "no cell starts a formula"
    agents = [c for c in cells if "HYPERLINK" in c]
    assert agents and agents[0] == "'" + evil
    json_count = len(api.ok("GET", f"/audit?recipient={name}")["items"])
    assert len(rows) == json_count


# --- Preview as a recipient --------------------------------------------------------------------------------


def test_preview_as_a_recipient_respects_its_scope(api, portal, sales_p001):
    share = api.share_with_table(portal)
    p1 = api.recipient(properties={"partner_id": "P001"})
    p2 = api.recipient(properties={"partner_id": "P002"})
    stranger = api.recipient(properties={"partner_id": "P001"})
    for r in (p1, p2):
        api.ok("PUT", f"/shares/{share}/grants/{r}")
    preview = f"/shares/{share}/tables/commerce.sales/preview"
    first = api.ok("GET", f"{preview}?as={p1}&_size=200&_col=partner_id&_col=order_id&_count=all")
    assert [c["name"] for c in first["columns"]] == ["partner_id", "order_id"]
    assert len(first["rows"]) == 200 and {r[0] for r in first["rows"]} == {"P001"}
    assert first["count"] == len(sales_p001)
    second = api.ok("GET", f"{preview}?as={p2}&_size=200&_col=partner_id")
    assert {r[0] for r in second["rows"]} == {"P002"}
    # The table-view grammar applies, inside the scope.
    de = api.ok("GET", f"{preview}?as={p1}&country=DE&_size=1&_count=all")
    assert de["count"] == int((sales_p001.country == "DE").sum())
    assert api.ok("GET", f"{preview}?as={p1}&partner_id=P002&_size=1")["count"] == 0
    # A recipient without the grant, or no recipient at all, sees nothing.
    error_of(api.get(f"{preview}?as={stranger}&_size=1"), 404)
    error_of(api.get(f"{preview}?as={uniq('nobody')}&_size=1"), 404)
    error_of(api.get(f"/shares/{share}/tables/commerce.nope/preview?as={p1}"), 404)


# --- IP allow-lists --------------------------------------------------------------------------------------


@pytest.mark.parametrize("allow,status", [(["10.0.0.0/8"], 403), (["127.0.0.1/32"], 200), (["::1/128"], 403), ([], 200), (["10.0.0.0/8", "127.0.0.0/8"], 200)])
def test_ip_allow_list_on_the_sharing_api(api, portal, allow, status):
    share = api.share_with_table(portal)
    name = api.recipient(properties={"partner_id": "P001"}, ipAllowList=allow)
    api.ok("PUT", f"/shares/{share}/grants/{name}")
    token, _ = partner_token(portal, name)
    resp = requests.get(portal.endpoint + "/shares", headers=bearer(token))
    assert resp.status_code == status, resp.text[:300]
    if status == 403:
        body = resp.json()
        assert body["errorCode"] == "PERMISSION_DENIED" and "127.0.0.1" in body["message"] and "not allowed" in body["message"], body
        rows = requests.get(portal.base + f"/api/v1/shares/{share}/schemas/commerce/tables/sales/rows?_size=1", headers=bearer(token))
        assert rows.status_code == 403
        # Headers a client writes itself do not change where it calls from.
        spoofed = {**bearer(token), "X-Forwarded-For": "10.1.2.3", "X-Real-IP": "10.1.2.3", "X-Portal-Peer": "10.1.2.3", "Forwarded": "for=10.1.2.3"}
        assert requests.get(portal.endpoint + "/shares", headers=spoofed).status_code == 403
        # The admin widens the list: the same token works at once.
        api.ok("PATCH", f"/recipients/{name}", {"ipAllowList": allow + ["127.0.0.1/32"]})
        assert requests.get(portal.endpoint + "/shares", headers=bearer(token)).status_code == 200


def test_ip_allow_list_on_the_activation_link(api, portal, tmp_path):
    name = api.recipient(ipAllowList=["10.0.0.0/8"])
    link = api.ok("POST", f"/recipients/{name}/activation-links", {})["url"]
    # The page's form token is valid (taken from the sign-in page of the same browser), so the
    # refusal can only come from the allow-list.
    web = requests.Session()
    csrf = re.search(r'name="csrf" value="([^"]+)"', web.get(portal.base + "/login").text).group(1)
    refused = web.post(link, data={"csrf": csrf})
    assert refused.status_code == 403 and ("not allowed" in refused.text or "127.0.0.1" in refused.text), refused.text[:500]
    assert api.ok("GET", f"/recipients/{name}")["tokens"] == [], "no token was issued"
    api.ok("PATCH", f"/recipients/{name}", {"ipAllowList": ["127.0.0.1/32"]})
    _, token = activate(portal, link, tmp_path)
    assert delta_sharing_status(portal, token) == 200


# --- Deleting ---------------------------------------------------------------------------------------------


def test_delete_recipient_and_share(api, portal):
    share = api.share_with_table(portal)
    name = api.recipient(properties={"partner_id": "P001"})
    api.ok("PUT", f"/shares/{share}/grants/{name}")
    token, _ = partner_token(portal, name)
    assert delta_sharing_status(portal, token) == 200
    assert api.ok("DELETE", f"/recipients/{name}") == {"deleted": True}
    error_of(api.get(f"/recipients/{name}"), 404, code="RESOURCE_DOES_NOT_EXIST")
    assert delta_sharing_status(portal, token) == 401
    assert name not in [r["name"] for r in api.ok("GET", "/recipients")["items"]]
    assert api.ok("GET", f"/shares/{share}")["grants"] == []
    assert api.ok("DELETE", f"/shares/{share}") == {"deleted": True}
    error_of(api.get(f"/shares/{share}"), 404, code="RESOURCE_DOES_NOT_EXIST")
    assert share not in [s["name"] for s in api.ok("GET", "/shares")["items"]]
    error_of(api.delete(f"/shares/{share}"), 404)
    error_of(api.delete(f"/recipients/{name}"), 404)
    # The names are free again.
    api.ok("POST", "/shares", {"name": share})


# --- Errors and the API description ---------------------------------------------------------------------


def test_errors_are_json_with_an_error_code(api, portal):
    error_of(api.get(f"/recipients/{uniq('nobody')}"), 404, code="RESOURCE_DOES_NOT_EXIST")
    error_of(api.get(f"/shares/{uniq('nothing')}"), 404, code="RESOURCE_DOES_NOT_EXIST")
    error_of(AdminApi(portal).get("/recipients"), 401)
    error_of(AdminApi(portal, bearer("dsa_not-a-real-token")).get("/recipients"), 401)
    bad_json = api.call("POST", "/shares", data="{not json", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400 and bad_json.json().get("errorCode"), bad_json.text[:300]


ADMIN_PATHS = {
    "/teams": {"get", "post"},
    "/recipients": {"get", "post"},
    "/recipients/{}": {"get", "patch", "delete"},
    "/recipients/{}/activation-links": {"post"},
    "/recipients/{}/rotate": {"post"},
    "/recipients/{}/limits": {"put"},
    "/recipients/{}/tokens/{}/revoke": {"post"},
    "/recipients/{}/oauth-clients": {"post"},
    "/recipients/{}/oauth-clients/{}/rotate": {"post"},
    "/recipients/{}/oauth-clients/{}/revoke": {"post"},
    "/recipients/{}/federation-policies": {"post"},
    "/recipients/{}/federation-policies/{}": {"delete"},
    "/shares": {"get", "post"},
    "/shares/{}": {"get", "patch", "delete"},
    "/shares/{}/tables": {"post"},
    "/shares/{}/tables/{}": {"patch", "delete"},
    "/shares/{}/tables/{}/preview": {"get"},
    "/shares/{}/grants/{}": {"put", "delete"},
    "/locations": {"get", "post"},
    "/locations/{}": {"get", "delete"},
    "/locations/{}/grants/{}": {"put", "delete"},
    "/audit": {"get"},
    "/audit.csv": {"get"},
    "/usage": {"get"},
    "/api-tokens": {"get", "post"},
    "/api-tokens/{}": {"delete"},
}


def normalize(path):
    path = re.sub(r"\{[^}]+\}", "{}", path).replace("{}.{}", "{}")
    return path[len("/api/v1/admin"):] if path.startswith("/api/v1/admin") else path


def test_openapi_document_lists_every_admin_path(portal):
    resp = requests.get(portal.base + "/api/v1/openapi.json")
    assert resp.status_code == 200 and "json" in resp.headers["content-type"]
    doc = resp.json()
    assert str(doc.get("openapi", "")).startswith("3.1"), doc.get("openapi")
    assert doc["info"]["title"] and doc["info"]["version"]
    servers = [s.get("url", "") for s in doc.get("servers", [])]
    paths = {}
    for path, ops in doc["paths"].items():
        full = path if path.startswith("/api/") or not any(s.rstrip("/").endswith("/api/v1/admin") for s in servers) else "/api/v1/admin" + path
        paths.setdefault(normalize(full), set()).update(m for m in ops if m in ("get", "post", "put", "patch", "delete"))
    missing = {p: sorted(m - paths.get(p, set())) for p, m in ADMIN_PATHS.items() if m - paths.get(p, set())}
    assert not missing, f"paths or methods missing from the OpenAPI document: {missing}; it has {sorted(paths)}"


JSON_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "array": list, "object": dict}


def response_schema(doc, operation):
    """The JSON schema of an operation's success answer, its `$ref`s followed."""
    [status] = [s for s in operation["responses"] if s.startswith("2")]
    schema = operation["responses"][status]["content"]["application/json"]["schema"]
    while "$ref" in schema:
        node = doc
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def shape_problems(body, schema):
    """How a JSON answer's top-level keys differ from the schema's properties. The document
    marks no property `required` (nor nullable), so every documented property must be there,
    and a value that is not null must have the documented type."""
    properties = schema.get("properties", {})
    problems = []
    if missing := set(schema.get("required", properties)) - set(body):
        problems.append(f"missing {sorted(missing)}")
    if extra := set(body) - set(properties):
        problems.append(f"undocumented {sorted(extra)}")
    for key, value in body.items():
        kind = properties.get(key, {}).get("type")
        if value is None or kind not in JSON_TYPES:
            continue
        if isinstance(value, bool) != (kind == "boolean") or not isinstance(value, JSON_TYPES[kind]):
            problems.append(f"{key} is {type(value).__name__}, documented {kind}")
    return problems


def test_openapi_schemas_match_what_the_get_endpoints_answer(api, portal):
    """The answers of the documented GET endpoints have the documented shape: the schema's
    properties, no others, of the documented types."""
    doc = requests.get(portal.base + "/api/v1/openapi.json").json()
    operations = {normalize(p): ops for p, ops in doc["paths"].items()}
    share = api.share_with_table(portal)
    recipient = api.recipient(properties={"partner_id": "P001"})
    api.ok("PUT", f"/shares/{share}/grants/{recipient}")
    location = uniq("api_shape")
    api.ok("POST", "/locations", {"name": location, "url": tempfile.mkdtemp(prefix="shape-", dir=portal.data_dir)})
    calls = {
        "/teams": "/teams",
        "/recipients": "/recipients",
        "/recipients/{}": f"/recipients/{recipient}",
        "/shares": "/shares",
        "/shares/{}": f"/shares/{share}",
        "/locations": "/locations",
        "/locations/{}": f"/locations/{location}",
        "/audit": "/audit?limit=20",
        "/usage": f"/usage?recipient={recipient}&days=7",
        "/api-tokens": "/api-tokens",
        "/shares/{}/tables/{}/preview": f"/shares/{share}/tables/commerce.sales/preview?as={recipient}&_size=2",
    }
    problems = {}
    try:
        for documented, path in calls.items():
            body = api.ok("GET", path)
            assert isinstance(body, dict), (path, body)
            if "items" in body:
                assert body["items"], f"{path} lists something to check"
            if found := shape_problems(body, response_schema(doc, operations[documented]["get"])):
                problems[path] = found
    finally:
        api.ok("DELETE", f"/locations/{location}")
    assert not problems, f"answers that differ from the OpenAPI document: {problems}"


def test_the_console_finds_recipients_among_many(api, portal):
    """Thousands of partners do not fit one page: the list shows 200, and a search narrows it
    by name, comment or property value."""
    tag = uniq("many")
    for i in range(205):
        api.ok("POST", "/recipients", {"name": f"{tag}_{i:03d}", "properties": {"partner_id": f"{tag.upper()}-{i:03d}"}})
    web = admin_session(portal)
    page = web.get(f"{portal.base}/admin").text
    assert "Showing 200 of" in page
    found = web.get(f"{portal.base}/admin", params={"q": f"{tag.upper()}-007"}).text
    assert f"{tag}_007" in found and f"{tag}_008" not in found and "Showing" not in found
    none = web.get(f"{portal.base}/admin", params={"q": "no-such-partner-anywhere"}).text
    assert "No recipient matches" in none
