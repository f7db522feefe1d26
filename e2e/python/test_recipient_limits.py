"""Per-recipient download limits: an admin turns a partner's downloads off, caps the rows one
download may hold, or the export jobs it may start in 24 hours — in the console, the admin API
or the CLI, audited with before and after. Every way a file leaves the portal obeys (CSV, Excel,
export jobs, the `/exports` form), with a clear message; browsing and Delta Sharing do not
change; the table page says why before the partner clicks."""
import csv
import io
import json
import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from conftest import Portal, free_port
from admin import AdminApi, admin_session, bearer, error_of, forms_of, partner_session, partner_token

TABLE = "/shares/wholesale/commerce/sales"
API = "/api/v1/shares/wholesale/schemas/commerce/tables/sales"


def new_partner(portal):
    """A fresh recipient of the demo share as acme_foods' partner (P001): its name, browser and
    bearer headers."""
    name = f"limits_{uuid.uuid4().hex[:8]}"
    portal.cli("recipient", "create", name, "--property", "partner_id=P001")
    portal.cli("grant", "wholesale", name)
    return name, partner_session(portal, name), bearer(partner_token(portal, name)[0])


def set_limits(portal, name, **limits):
    return AdminApi.platform(portal).ok("PUT", f"/recipients/{name}/limits", limits)["limits"]


def csv_rows(resp):
    return list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))[1:]


def download_area(html):
    block = re.search(r'aria-labelledby="downloads-title".*?</section>', html, re.S)
    assert block, "the table page has its download bar"
    return block.group(0)


def refusal_on(html):
    found = re.search(r'data-testid="download-refused"[^>]*>([^<]+)<', download_area(html))
    return found and found.group(1)


def audit_of(portal, action, name):
    return [e for e in portal.audit(400) if e["action"] == action and (e.get("object") == name or e.get("recipient") == name)]


def test_limits_default_to_none_and_an_admin_sets_them_through_the_api_with_an_audit_line(portal):
    api = AdminApi.platform(portal)
    name, _, _ = new_partner(portal)
    assert api.ok("GET", f"/recipients/{name}")["limits"] == {"downloadsAllowed": True, "maxRowsPerDownload": None, "maxExportJobsPerDay": None}

    got = set_limits(portal, name, downloadsAllowed=True, maxRowsPerDownload=500, maxExportJobsPerDay=3)
    assert got == {"downloadsAllowed": True, "maxRowsPerDownload": 500, "maxExportJobsPerDay": 3}
    assert api.ok("GET", f"/recipients/{name}")["limits"] == got
    assert [r["limits"] for r in api.ok("GET", "/recipients")["items"] if r["name"] == name] == [got]
    # Fields left out mean no limit: a PUT states the whole of it.
    assert set_limits(portal, name, downloadsAllowed=False) == {"downloadsAllowed": False, "maxRowsPerDownload": None, "maxExportJobsPerDay": None}

    [first, second] = sorted(audit_of(portal, "admin.setRecipientLimits", name), key=lambda e: e["at"])
    assert first["status"] == 200 and first["actor"].startswith("admin")
    detail = json.loads(first["detail"])
    assert detail["before"]["maxRowsPerDownload"] is None and detail["after"]["maxRowsPerDownload"] == 500
    assert json.loads(second["detail"])["after"]["downloadsAllowed"] is False


def test_bad_limits_are_clear_400s_and_change_nothing(portal):
    api = AdminApi.platform(portal)
    name, _, _ = new_partner(portal)
    set_limits(portal, name, maxRowsPerDownload=100)
    path = f"/recipients/{name}/limits"
    error_of(api.put(path, {"maxRowsPerDownload": 0}), 400, field="maxRowsPerDownload")
    error_of(api.put(path, {"maxRowsPerDownload": -5}), 400)
    error_of(api.put(path, {"maxRowsPerDownload": "lots"}), 400)
    error_of(api.put(path, {"maxExportJobsPerDay": 10_001}), 400, field="maxExportJobsPerDay")
    error_of(api.put(path, {"maxRows": 10}), 400)  # a misspelt field is refused, never ignored
    error_of(api.put(path, {"downloadsAllowed": "no"}), 400)
    assert api.ok("GET", f"/recipients/{name}")["limits"]["maxRowsPerDownload"] == 100
    error_of(api.put("/recipients/nobody_here/limits", {}), 404)


def test_a_team_admin_cannot_see_or_set_another_teams_recipient(portal):
    name, _, _ = new_partner(portal)  # in the default team
    other = AdminApi.team(portal, f"limits_team_{uuid.uuid4().hex[:6]}")
    missing = error_of(other.put(f"/recipients/{name}/limits", {"downloadsAllowed": False}), 404)
    assert name in missing["message"]
    assert AdminApi.platform(portal).ok("GET", f"/recipients/{name}")["limits"]["downloadsAllowed"] is True


def test_downloads_off_refuses_every_file_but_leaves_browsing_and_delta_sharing_open(portal):
    name, web, headers = new_partner(portal)
    assert requests.get(portal.base + API + "/export.csv", headers=headers).status_code == 200
    from test_export_jobs import wait_for
    finished = wait_for(portal, headers, requests.post(portal.base + API + "/exports?_format=csv&country=DE", headers=headers).json()["id"])
    assert finished["status"] == "done"
    set_limits(portal, name, downloadsAllowed=False)
    # A file prepared before is not handed out either.
    assert "turned off" in error_of(requests.get(f"{portal.base}/api/v1/exports/{finished['id']}/file", headers=headers), 403)["message"]

    for path in ("/export.csv", "/export.csv?_dialect=excel-eu", "/export.xlsx", "/export.xlsx?country=DE"):
        body = error_of(requests.get(portal.base + API + path, headers=headers), 403, code="PERMISSION_DENIED")
        assert "Downloads are turned off for your organisation" in body["message"], body
    job = requests.post(portal.base + API + "/exports?_format=csv", headers=headers)
    assert "turned off" in error_of(job, 403)["message"]
    assert len(requests.get(portal.base + "/api/v1/exports", headers=headers).json()["items"]) == 1, "no job was added"

    # Reading is not downloading: the rows API, the page and the protocol answer as before.
    assert requests.get(portal.base + API + "/rows?_size=5", headers=headers).json()["rows"]
    assert requests.get(portal.endpoint + "/shares", headers=headers).status_code == 200
    html = web.get(portal.base + TABLE).text
    assert "Downloads are turned off for your organisation" in refusal_on(html)
    area = download_area(html)
    assert "/export.csv" not in area and "/export.xlsx" not in area and 'action="/exports"' not in area
    assert 'data-testid="power-query"' not in html, "Power Query downloads too: it is not offered"

    # The same form the page showed before, posted anyway: refused with a readable note.
    f = [f for f in forms_of(web.get(portal.base + TABLE + "?_size=5").text) if f["action"] == "/views"][0]
    resp = web.post(portal.base + "/exports", data={"csrf": f["fields"]["csrf"], "share": "wholesale", "schema": "commerce",
                                                      "table": "sales", "view": "", "format": "csv"}, allow_redirects=False)
    assert resp.status_code == 303 and parse_qs(urlsplit(resp.headers["location"]).query)["error"] == ["downloads_off"]
    assert "Downloads are turned off" in web.get(portal.base + resp.headers["location"]).text

    refused = [e for e in portal.audit(400) if e["actor"] == f"recipient:{name}" and e["status"] == 403]
    assert {e["action"] for e in refused} >= {"export.csv", "export.xlsx"}, refused

    set_limits(portal, name, downloadsAllowed=True)
    assert requests.get(portal.base + API + "/export.csv", headers=headers).status_code == 200


def test_a_row_limit_refuses_larger_views_and_lets_narrower_ones_through(portal, sales_p001):
    name, web, headers = new_partner(portal)
    german = int((sales_p001.country == "DE").sum())
    assert 0 < german < len(sales_p001)
    set_limits(portal, name, maxRowsPerDownload=german)

    for path in ("/export.csv", "/export.xlsx"):
        body = error_of(requests.get(portal.base + API + path, headers=headers), 403)
        assert f"this view has {len(sales_p001)} rows" in body["message"] and f"at most {german} rows" in body["message"], body
    got = requests.get(portal.base + API + "/export.csv?country=DE", headers=headers)
    assert got.status_code == 200 and len(csv_rows(got)) == german
    assert requests.get(portal.base + API + "/export.xlsx?country=DE", headers=headers).status_code == 200

    whole = refusal_on(web.get(portal.base + TABLE).text)
    assert whole and f"at most {german:,} rows" in whole and "Add filters" in whole
    narrow = web.get(portal.base + TABLE + "?country=DE").text
    assert refusal_on(narrow) is None and "/export.csv" in download_area(narrow)

    # An export job checks the cap when it counts its rows: it fails, saying why.
    job = requests.post(portal.base + API + "/exports?_format=csv", headers=headers)
    assert job.status_code == 202, job.text
    from test_export_jobs import wait_for
    failed = wait_for(portal, headers, job.json()["id"])
    assert failed["status"] == "failed" and f"at most {german} rows" in failed["error"], failed


def test_export_jobs_per_day_are_counted_and_the_next_start_is_named(portal):
    name, web, headers = new_partner(portal)
    set_limits(portal, name, maxExportJobsPerDay=2)
    for _ in range(2):
        assert requests.post(portal.base + API + "/exports?_format=csv&country=DE", headers=headers).status_code == 202
    third = requests.post(portal.base + API + "/exports?_format=csv", headers=headers)
    body = error_of(third, 429, code="RESOURCE_EXHAUSTED")
    assert "may start 2 export jobs in 24 hours" in body["message"] and "UTC" in body["message"], body
    assert 86_000 < int(third.headers["Retry-After"]) <= 86_400
    # Direct downloads are not jobs: they go on.
    assert requests.get(portal.base + API + "/export.csv?country=DE", headers=headers).status_code == 200

    f = [f for f in forms_of(web.get(portal.base + TABLE).text) if f["action"] == "/views"][0]
    resp = web.post(portal.base + "/exports", data={"csrf": f["fields"]["csrf"], "share": "wholesale", "schema": "commerce",
                                                      "table": "sales", "view": "", "format": "xlsx"}, allow_redirects=False)
    assert parse_qs(urlsplit(resp.headers["location"]).query)["error"] == ["daily_limit"]
    assert "as many export jobs as it may in 24 hours" in web.get(portal.base + resp.headers["location"]).text
    assert len(requests.get(portal.base + "/api/v1/exports", headers=headers).json()["items"]) == 2

    # Zero: direct downloads only.
    set_limits(portal, name, maxExportJobsPerDay=0)
    assert "may not start export jobs" in error_of(requests.post(portal.base + API + "/exports?_format=csv", headers=headers), 403)["message"]


def test_the_console_form_sets_limits_without_javascript(portal):
    name, _, _ = new_partner(portal)
    web = admin_session(portal)
    page = f"/admin/recipients/{name}"
    html = web.get(portal.base + page).text
    [form] = [f for f in forms_of(html) if f["action"] == f"{page}/limits"]
    assert form["fields"].get("downloads_allowed") == "on", "downloads start allowed (the box is ticked)"

    fields = {k: v for k, v in form["fields"].items() if k != "downloads_allowed"}
    resp = web.post(portal.base + form["action"], data={**fields, "max_rows": "1,000", "max_jobs": "4"}, allow_redirects=False)
    assert resp.status_code == 303, resp.text[:300]
    shown = web.get(portal.base + resp.headers["location"]).text
    assert "Download limits saved." in shown
    assert AdminApi.platform(portal).ok("GET", f"/recipients/{name}")["limits"] == {
        "downloadsAllowed": False, "maxRowsPerDownload": 1000, "maxExportJobsPerDay": 4}
    assert re.search(r'id="max-rows"[^>]*value="1000"', shown) or re.search(r'value="1000"[^>]*id="max-rows"', shown)

    [form] = [f for f in forms_of(shown) if f["action"] == f"{page}/limits"]
    resp = web.post(portal.base + form["action"], data={**form["fields"], "max_rows": "lots"}, allow_redirects=False)
    back = web.get(portal.base + resp.headers["location"]).text
    assert "is not a whole number" in back
    assert AdminApi.platform(portal).ok("GET", f"/recipients/{name}")["limits"]["maxRowsPerDownload"] == 1000


def test_the_cli_shows_and_sets_limits_in_one_line(portal):
    name, _, headers = new_partner(portal)
    shown = portal.cli("recipient", "limits", name).stdout.strip()
    assert shown == "downloads=on max_rows=none max_jobs_per_day=none"
    got = portal.cli("recipient", "limits", name, "--downloads", "off", "--max-rows", "250").stdout.strip()
    assert got == "downloads=off max_rows=250 max_jobs_per_day=none"
    assert error_of(requests.get(portal.base + API + "/export.csv", headers=headers), 403)
    assert portal.cli("recipient", "limits", name, "--max-rows", "none", "--downloads", "on").stdout.strip() == \
        "downloads=on max_rows=none max_jobs_per_day=none"
    assert [e for e in portal.audit(400) if e["action"] == "admin.setRecipientLimits" and e["actor"] == "admin:cli" and e["object"] == name]

    bad = portal.cli("recipient", "limits", name, "--max-rows", "many", check=False)
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1 and "--max-rows" in bad.stderr, bad.stderr
    missing = portal.cli("recipient", "limits", "nobody_here", check=False)
    assert missing.returncode != 0 and "nobody_here" in missing.stderr


@pytest.fixture(scope="module")
def jobs_portal(tmp_path_factory):
    """A portal that prepares every view of more than 5 rows as an export job."""
    root = tmp_path_factory.mktemp("limits-jobs")
    p = Portal(root, free_port(), extra_env={"PORTAL_EXPORT_JOB_ROWS": "5"})
    p.cli("demo")
    p.start()
    yield p
    p.stop()


def test_the_table_page_counts_down_the_export_jobs_left_and_then_says_why_not(jobs_portal):
    portal = jobs_portal
    name, web, _ = new_partner(portal)
    set_limits(portal, name, maxExportJobsPerDay=1)
    html = web.get(portal.base + TABLE).text
    left = re.search(r'data-testid="jobs-left"[^>]*>([^<]+)<', download_area(html))
    assert left and "1 more export job in the next 24 hours" in left.group(1)
    [prepare] = [f for f in forms_of(html) if f["action"] == "/exports" and f["fields"].get("format") == "csv"]
    resp = web.post(portal.base + "/exports", data=prepare["fields"], allow_redirects=False)
    assert resp.status_code == 303 and "error" not in resp.headers["location"], resp.headers["location"]

    html = web.get(portal.base + TABLE).text
    assert "may start 1 export job in 24 hours, and has started it" in refusal_on(html)
    assert 'action="/exports"' not in download_area(html)
    # A view small enough to download directly still does.
    small = web.get(portal.base + TABLE + "?order_id=SO-00-0000000").text
    assert refusal_on(small) is None and "/export.xlsx" in download_area(small)
