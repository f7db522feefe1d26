"""Usage over time for admins: reads, rows and bytes per UTC day summed from the audit log,
refused sign-ins, and the tables read most — on the console's overview and recipient pages
(bar charts drawn on the server, the figures as a table) and in `GET /api/v1/admin/usage`.
Scoped like everything else: a team's admins see their team's partners only."""
import html
import re
from datetime import datetime, timezone

import pytest
import requests

from admin import AdminApi, admin_session, bearer, ensure_team, error_of, partner_token, uniq

READS = {"queryTable", "queryTableChanges", "getQueryInfo", "portal.preview", "api.rows", "export.csv", "export.xlsx", "export.chart", "export.jobDownload"}


def today():
    return datetime.now(timezone.utc).strftime("%Y-%m-%d")


@pytest.fixture(scope="module")
def team_world(portal):
    """A team of its own with one share and one P001 partner who reads it in four ways, lists
    shares (no read of data), and whose revoked token is presented once; a stranger's made-up
    token is refused once too."""
    team = uniq("usage")
    ensure_team(portal, team)
    platform = AdminApi.platform(portal)
    platform.ok("PUT", f"/locations/demo/grants/{team}")
    share = platform.share_with_table(portal, team=team)
    name = platform.recipient(team=team, properties={"partner_id": "P001"})
    platform.ok("PUT", f"/shares/{share}/grants/{name}")
    token, _ = partner_token(portal, name)
    revoked, revoked_id = partner_token(portal, name)
    platform.ok("POST", f"/recipients/{name}/tokens/{revoked_id}/revoke")
    who = bearer(token)

    api = f"{portal.base}/api/v1/shares/{share}/schemas/commerce/tables/sales"
    page = requests.get(f"{api}/rows", params={"_size": 5}, headers=who, timeout=60)
    assert page.status_code == 200, page.text
    workbook = requests.get(f"{api}/export.xlsx", params={"country": "DE"}, headers=who, timeout=120)
    assert workbook.status_code == 200, workbook.text
    query = requests.post(f"{portal.endpoint}/shares/{share}/schemas/commerce/tables/sales/query", json={}, headers=who, timeout=60)
    assert query.status_code == 200, query.text
    assert requests.get(f"{portal.endpoint}/shares", headers=who, timeout=60).status_code == 200
    refused = requests.get(f"{portal.endpoint}/shares", headers=bearer(revoked), timeout=60)
    assert error_of(refused, 401)["message"] == "this bearer token was revoked"
    stranger = requests.get(f"{portal.endpoint}/shares", headers=bearer("dss_" + "0" * 40), timeout=60)
    assert stranger.status_code == 401
    de_rows = requests.get(f"{api}/rows", params={"country": "DE", "_size": 1}, headers=who, timeout=60).json()["count"]
    # Four reads of data: two pages of rows (5 rows, then 1), a workbook, a protocol query.
    return {"team": team, "share": share, "name": name, "table": f"{share}.commerce.sales", "rows_read": 5 + 1 + de_rows}


def todays(usage):
    [day] = [d for d in usage["days"] if d["date"] == today()]
    return day


def test_a_recipients_usage_counts_its_reads_rows_and_bytes_as_the_audit_log_has_them(portal, team_world):
    name = team_world["name"]
    usage = AdminApi.platform(portal).ok("GET", f"/usage?recipient={name}&days=7")
    assert [d["date"] for d in usage["days"]][-1] == today() and len(usage["days"]) == 7
    assert all(d["reads"] == 0 for d in usage["days"][:-1]), "nothing before today"
    day = todays(usage)
    # Four reads of data; listing shares is none.
    assert day["reads"] == 4, day
    assert day["rows"] == team_world["rows_read"], day
    events = AdminApi.platform(portal).ok("GET", f"/audit?recipient={name}&limit=100")["items"]
    answered = [e for e in events if e["actor"] == f"recipient:{name}" and e["status"] < 400]
    assert day["bytes"] == sum(e.get("bytes") or 0 for e in answered) > 0
    assert day["reads"] == sum(1 for e in answered if e["action"] in READS)
    # The revoked token names its recipient; the stranger's made-up token names nobody.
    assert day["refusedSignIns"] == 1, day
    assert usage["countsUnattributed"] is False

    [top] = usage["topTables"]
    assert (top["table"], top["reads"], top["rows"], top["recipients"]) == (team_world["table"], 4, team_world["rows_read"], 1)


def test_a_team_admin_sees_the_teams_usage_and_a_platform_admin_every_failure(portal, team_world):
    team = AdminApi.team(portal, team_world["team"]).ok("GET", "/usage")
    assert len(team["days"]) == 30 and team["countsUnattributed"] is False
    assert (todays(team)["reads"], todays(team)["refusedSignIns"]) == (4, 1), "only this team's partner"
    assert [t["table"] for t in team["topTables"]] == [team_world["table"]]

    platform = AdminApi.platform(portal).ok("GET", "/usage?days=1")
    assert platform["countsUnattributed"] is True and len(platform["days"]) == 1
    assert todays(platform)["refusedSignIns"] >= 2, "the stranger's token counts for platform admins"
    assert todays(platform)["reads"] >= 4

    other = AdminApi.team(portal, "north")
    error_of(other.get(f"/usage?recipient={team_world['name']}"), 404)
    assert team_world["table"] not in other.get("/usage").text


@pytest.mark.parametrize("days", ["0", "367", "a week"])
def test_a_period_out_of_range_is_a_field_error(portal, days):
    error_of(AdminApi.platform(portal).get(f"/usage?days={days}"), 400, field="days")


def bars(svg):
    return [(html.unescape(label), float(value)) for label, value in re.findall(r'data-label="([^"]*)" data-value="([^"]*)"', svg)]


def test_the_console_charts_usage_per_day_with_the_figures_as_a_table(portal, team_world):
    web = admin_session(portal, team_world["team"])
    overview = web.get(f"{portal.base}/admin").text
    assert "Usage, last 30 days" in overview
    summary = re.search(r'data-testid="usage-summary"[^>]*>([^<]+)<', overview).group(1)
    assert summary.startswith("4 reads, ") and "; 1 refused sign-in in the last 30 days" in summary, summary
    charts = re.findall(r'<figure[^>]*data-testid="usage-chart".*?</figure>', overview, re.S)
    assert len(charts) == 4, "reads, rows, data and refused sign-ins"
    titles = [re.search(r"<title id=\"([^\"]+)\">([^<]+)</title>", c).groups() for c in charts]
    assert [t for _, t in titles][0::3] == ["Reads per day", "Refused sign-ins per day"]
    assert len({i for i, _ in titles}) == 4, "each chart's title has an id of its own"
    reads = bars(charts[0])
    assert len(reads) == 30 and reads[-1][1] == 4.0 and sum(v for _, v in reads) == 4.0, reads[-5:]
    rows = bars(charts[1])
    assert rows[-1][1] == float(team_world["rows_read"])
    table = re.search(r'data-testid="usage-table".*?</table>', overview, re.S).group(0)
    assert re.search(rf"<td[^>]*>{today()}</td><td[^>]*>4</td>", table), table[:600]
    top = re.search(r'data-testid="top-tables".*?</table>', overview, re.S).group(0)
    assert team_world["table"] in top

    page = web.get(f"{portal.base}/admin/recipients/{team_world['name']}").text
    assert "Usage, last 30 days" in page and f"/admin/audit?recipient={team_world['name']}" in page
    assert re.search(r'data-testid="usage-summary"[^>]*>4 reads, ', page)


def test_a_recipient_without_reads_gets_a_plain_sentence_not_empty_charts(portal, team_world):
    platform = AdminApi.platform(portal)
    quiet = platform.recipient(team=team_world["team"], properties={"partner_id": "P002"})
    page = admin_session(portal, team_world["team"]).get(f"{portal.base}/admin/recipients/{quiet}").text
    assert f"No reads and no refused sign-ins by {quiet} in the last 30 days (UTC)." in page
    assert 'data-testid="usage-chart"' not in page
