"""External locations: where team admins may point tables.

The outside probe's finding, reproduced: a team admin (`south`) adds a table whose location is
another team's Delta table (the demo's `wholesale.commerce.sales`), grants it to a recipient of
its own and reads every partner's rows. Now every such attempt is refused before anything is
opened, with the same answer whatever exists at the path, and nothing is created. Platform admins
(and the CLI) name locations and grant them to teams; team admins add tables under their own."""
import os
import re
import shutil
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyarrow as pa
import pytest
import requests
from deltalake import write_deltalake

from admin import (
    AdminApi,
    admin_session,
    bearer,
    ensure_team,
    error_of,
    forms_of,
    hidden_csrf,
    partner_token,
    redirect_target,
    uniq,
)


def small_table(path):
    write_deltalake(str(path), pa.table({"partner_id": ["P001", "P002"], "units": [1, 2]}), partition_by=["partner_id"])
    return path


@pytest.fixture(scope="module")
def lake(portal):
    """Two teams' lakes side by side (`lake`, `lake-south`: a sibling whose name starts like the
    other's), a directory outside both, and a symbolic link from south's lake into north's."""
    root = Path(tempfile.mkdtemp(prefix="lakes-", dir=portal.data_dir)).resolve()
    north, south, elsewhere = root / "lake", root / "lake-south", root / "elsewhere"
    small_table(north / "orders")
    small_table(south / "orders")
    small_table(elsewhere / "orders")
    os.symlink(north, south / "escape")
    ensure_team(portal, "north")
    ensure_team(portal, "south")
    platform = AdminApi.platform(portal)
    names = {"north": uniq("lake_n"), "south": uniq("lake_s")}
    platform.ok("POST", "/locations", {"name": names["north"], "url": str(north), "comment": "north's lake"})
    platform.ok("POST", "/locations", {"name": names["south"], "url": str(south)})
    platform.ok("PUT", f"/locations/{names['north']}/grants/north")
    platform.ok("PUT", f"/locations/{names['south']}/grants/south")
    yield {"root": root, "north": north, "south": south, "elsewhere": elsewhere, "names": names, "platform": platform}
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def south(portal, lake):
    return AdminApi.team(portal, "south")


@pytest.fixture(scope="module")
def north(portal, lake):
    return AdminApi.team(portal, "north")


def share_of(api):
    name = uniq("loc_share")
    api.ok("POST", "/shares", {"name": name})
    return name


def refusal(resp, team, typed):
    """The one refusal a team admin gets for a place outside its locations."""
    body = error_of(resp, 400, field="location")
    assert body["message"].startswith(f"no location of team {team} contains `{typed}`"), body
    return body


def test_the_probe_is_refused_and_nothing_is_visible_to_the_recipient(portal, south):
    stolen = str(portal.data_dir / "demo" / "sales")
    share = share_of(south)
    reader = south.recipient(properties={"partner_id": "P001"})
    south.ok("PUT", f"/shares/{share}/grants/{reader}")
    refusal(south.post(f"/shares/{share}/tables", {"schema": "x", "name": "stolen", "location": stolen}), "south", stolen)
    assert south.ok("GET", f"/shares/{share}")["tables"] == []
    token, _ = partner_token(portal, reader)
    tables = requests.get(f"{portal.endpoint}/shares/{share}/all-tables", headers=bearer(token)).json()
    assert tables.get("items", []) == [], tables
    query = requests.post(f"{portal.endpoint}/shares/{share}/schemas/x/tables/stolen/query", headers=bearer(token), json={})
    assert query.status_code == 404
    rows = requests.get(f"{portal.base}/api/v1/shares/{share}/schemas/x/tables/stolen/rows", headers=bearer(token))
    assert rows.status_code == 404
    preview = south.get(f"/shares/{share}/tables/x.stolen/preview?as={reader}")
    assert preview.status_code == 404


def test_the_probe_through_the_console_and_the_wizard_is_refused(portal, south, lake):
    stolen = str(portal.data_dir / "demo" / "sales")
    share = share_of(south)
    web = admin_session(portal, "south")
    for page in (f"/admin/shares/{share}", f"/admin/onboard?step=2&share={share}"):
        html = web.get(portal.base + page).text
        form = next(f for f in forms_of(html) if f["action"].endswith(f"/shares/{share}/tables"))
        assert "Under a location of your team: " in html and str(lake["south"]) in html, "the form says where the team may add tables"
        fields = {**form["fields"], "schema": "x", "name": "stolen", "location": stolen}
        resp = web.post(portal.base + form["action"], data=fields, allow_redirects=False)
        path, query = redirect_target(resp)
        assert query.get("field") == ["location"] and query["error"][0].startswith("no location of team south contains"), query
        shown = web.get(portal.base + urlsplit(resp.headers["location"]).path + "?" + urlsplit(resp.headers["location"]).query).text
        assert "no location of team south contains" in shown, "the refusal is shown beside the field"
    assert south.ok("GET", f"/shares/{share}")["tables"] == []


def test_places_outside_the_teams_locations_are_refused_alike(portal, south, lake):
    share = share_of(south)
    attempts = [
        str(portal.data_dir / "demo" / "sales"),  # another team's table (default's location)
        str(lake["north"] / "orders"),  # under north's location
        f"{lake['south']}/../lake/orders",  # up and over
        f"{lake['south']}/orders/../../lake/orders",
        str(lake["elsewhere"] / "orders"),  # in no location at all
        str(lake["root"] / "lake-south2"),  # a sibling whose name starts like the location's
        str(lake["south"] / "escape" / "orders"),  # a symbolic link out of south's lake
        str(lake["south"] / "escape"),
        str(portal.data_dir),  # exists, not a table
        str(portal.data_dir / "server.log"),  # a file
        "/definitely/not/here",  # missing
        "/etc",
        "relative/path",
        "s3://bucket/lake-south/orders",
    ]
    answers = set()
    for typed in attempts:
        body = refusal(south.post(f"/shares/{share}/tables", {"schema": "x", "name": uniq("t"), "location": typed}), "south", typed)
        answers.add(body["message"].replace(typed, "<typed>"))
    assert len(answers) == 1, f"one answer whatever is there: {answers}"
    assert south.ok("GET", f"/shares/{share}")["tables"] == []
    # A file:// URL is a clear 4xx for everyone, never a 500.
    for api in (south, lake["platform"]):
        body = error_of(api.post(f"/shares/{share}/tables", {"schema": "x", "name": "t", "location": (lake["south"] / "orders").as_uri()}), 400, field="location")
        assert "not as a file:// URL" in body["message"], body


def test_team_admins_add_tables_under_their_own_locations(portal, south, north, lake):
    share = share_of(south)
    added = south.ok("POST", f"/shares/{share}/tables", {"schema": "s", "name": "orders", "location": str(lake["south"] / "orders"), "scope": "partner_id=partner_id"})
    assert added["externalLocation"] == lake["names"]["south"] and added["location"].rstrip("/") == str(lake["south"] / "orders")
    # Dot segments that stay inside are fine, and stored canonical.
    again = south.ok("POST", f"/shares/{share}/tables", {"schema": "s", "name": "orders2", "location": f"{lake['south']}/./x/../orders"})
    assert again["location"].rstrip("/") == str(lake["south"] / "orders")
    # `..` is resolved by the text, never by the disk: through the link and back up stays in south's lake.
    back = south.ok("POST", f"/shares/{share}/tables", {"schema": "s", "name": "orders3", "location": f"{lake['south']}/escape/../orders"})
    assert back["location"].rstrip("/") == str(lake["south"] / "orders")
    # Under its own location, a missing table is named as such (the team may know its own lake).
    missing = error_of(south.post(f"/shares/{share}/tables", {"schema": "s", "name": "t", "location": str(lake["south"] / "nothing")}), 400, field="location")
    assert "is not a Delta table" in missing["message"]
    # Moving a table: only to another place under the team's locations.
    refusal(south.patch(f"/shares/{share}/tables/s.orders2", {"location": str(lake["north"] / "orders")}), "south", str(lake["north"] / "orders"))
    assert [t["location"].rstrip("/") for t in south.ok("GET", f"/shares/{share}")["tables"]] == [str(lake["south"] / "orders")] * 3
    north_share = share_of(north)
    assert north.ok("POST", f"/shares/{north_share}/tables", {"schema": "s", "name": "orders", "location": str(lake["north"] / "orders")})["externalLocation"] == lake["names"]["north"]


def test_platform_admins_add_anywhere_and_outside_tables_are_flagged(portal, lake):
    platform = lake["platform"]
    share = share_of(platform)
    outside = str(lake["elsewhere"] / "orders")
    table = platform.ok("POST", f"/shares/{share}/tables", {"schema": "s", "name": "orders", "location": outside})
    assert table["externalLocation"] is None
    web = admin_session(portal)
    page = web.get(portal.base + "/admin/locations").text
    assert "Tables outside every location" in page and f"{share}.s.orders" in page and outside in page
    assert "Outside every location" in web.get(portal.base + f"/admin/shares/{share}").text
    # Team admins see only their own locations, and never the outside list.
    south_page = admin_session(portal, "south").get(portal.base + "/admin/locations").text
    assert lake["names"]["south"] in south_page and lake["names"]["north"] not in south_page
    assert "Tables outside every location" not in south_page and outside not in south_page


def test_revoking_a_location_stops_new_tables_and_keeps_old_ones(portal, lake):
    platform = lake["platform"]
    ensure_team(portal, "east")
    root = Path(tempfile.mkdtemp(prefix="east-", dir=portal.data_dir)).resolve()
    small_table(root / "t1")
    small_table(root / "t2")
    name = uniq("east_lake")
    platform.ok("POST", "/locations", {"name": name, "url": str(root)})
    east = AdminApi.team(portal, "east")
    share = share_of(east)
    refusal(east.post(f"/shares/{share}/tables", {"schema": "s", "name": "t1", "location": str(root / "t1")}), "east", str(root / "t1"))
    assert platform.ok("PUT", f"/locations/{name}/grants/east")["teams"] == ["east"]
    east.ok("POST", f"/shares/{share}/tables", {"schema": "s", "name": "t1", "location": str(root / "t1")})
    assert platform.ok("DELETE", f"/locations/{name}/grants/east")["teams"] == []
    refusal(east.post(f"/shares/{share}/tables", {"schema": "s", "name": "t2", "location": str(root / "t2")}), "east", str(root / "t2"))
    assert [t["name"] for t in east.ok("GET", f"/shares/{share}")["tables"]] == ["t1"], "tables added before stay"
    assert platform.ok("DELETE", f"/locations/{name}") == {"deleted": True}
    assert east.ok("GET", f"/shares/{share}")["tables"][0]["externalLocation"] is None


def test_location_rules(portal, lake, south):
    platform = lake["platform"]
    root = Path(tempfile.mkdtemp(prefix="rules-", dir=portal.data_dir)).resolve()
    name = uniq("rules")
    made = platform.ok("POST", "/locations", {"name": name, "url": str(root) + "/./", "comment": "for the rules"})
    assert made["url"] == str(root) and made["teams"] == [] and made["createdBy"].startswith("admin-token:")
    error_of(platform.post("/locations", {"name": name, "url": str(root)}), 409)
    nested = error_of(platform.post("/locations", {"name": uniq("nested"), "url": str(root / "sub")}), 400, field="url")
    (root / "sub").mkdir()
    overlap = error_of(platform.post("/locations", {"name": uniq("nested"), "url": str(root / "sub")}), 409)
    assert name in overlap["message"], overlap
    assert "does not exist" in nested["message"]
    error_of(platform.post("/locations", {"name": uniq("file"), "url": root.as_uri()}), 400, field="url")
    error_of(platform.post("/locations", {"name": uniq("dots"), "url": "s3://bucket/a/%2e%2e/b"}), 400, field="url")
    error_of(platform.post("/locations", {"name": "bad name", "url": "s3://bucket/x"}), 400, field="name")
    error_of(platform.post("/locations", {"name": uniq("x"), "url": "s3://bucket/x", "extra": 1}), 400)
    store = platform.ok("POST", "/locations", {"name": uniq("store"), "url": "s3://Bucket-One/lake/"})
    assert store["url"] == "s3://bucket-one/lake"
    error_of(platform.put(f"/locations/{name}/grants/no_such_team"), 400, field="team")
    error_of(platform.put(f"/locations/{uniq('missing')}/grants/south"), 404)
    # Team admins read only their own locations and change none.
    error_of(south.get(f"/locations/{name}"), 404, code="RESOURCE_DOES_NOT_EXIST")
    error_of(south.post("/locations", {"name": uniq("mine"), "url": str(root / "sub")}), 403, code="PERMISSION_DENIED")
    error_of(south.put(f"/locations/{lake['names']['south']}/grants/north"), 403)
    error_of(south.delete(f"/locations/{lake['names']['south']}"), 403)
    assert {l["name"] for l in south.ok("GET", "/locations")["items"]} == {lake["names"]["south"]}
    assert south.ok("GET", f"/locations/{lake['names']['south']}")["teams"] == ["south"]
    # Every change is audited.
    actions = [e["action"] for e in platform.ok("GET", "/audit?action=admin.")["items"] if name in (e.get("object") or "")]
    assert "admin.createLocation" in actions, actions


def test_the_command_line_manages_locations(portal, lake):
    root = Path(tempfile.mkdtemp(prefix="cli-", dir=portal.data_dir)).resolve()
    name = uniq("cli_lake")
    assert f"created location {name} at {root}" in portal.cli("location", "create", name, str(root), "--comment", "from the CLI").stdout
    assert "granted location" in portal.cli("location", "grant", name, "south").stdout
    listed = portal.cli("location", "list").stdout
    line = next(l for l in listed.splitlines() if l.startswith(name))
    assert "south" in line and str(root) in line
    assert "revoked location" in portal.cli("location", "revoke", name, "south").stdout
    for args, needle in (
        (("location", "create", uniq("cli_x"), str(root / "missing")), "does not exist"),
        (("location", "create", uniq("cli_x"), root.as_uri()), "file:// URL"),
        (("location", "grant", name, "no_such_team"), "no_such_team"),
        (("location", "delete", uniq("missing")), "does not exist"),
    ):
        done = portal.cli(*args, check=False)
        assert done.returncode != 0 and len(done.stderr.strip().splitlines()) == 1 and needle in done.stderr, (args, done.stderr)
    assert f"deleted location {name}" in portal.cli("location", "delete", name).stdout
    assert name not in portal.cli("location", "list").stdout
    events = [e for e in portal.audit(400) if e["action"] in ("admin.createLocation", "admin.grantLocation", "admin.revokeLocation", "admin.deleteLocation") and name in e.get("object", "")]
    assert {e["action"] for e in events} == {"admin.createLocation", "admin.grantLocation", "admin.revokeLocation", "admin.deleteLocation"}
    assert all(e["actor"] == "admin:cli" for e in events)


def test_the_demo_location_belongs_to_the_default_team(portal):
    listed = portal.cli("location", "list").stdout
    line = next(l for l in listed.splitlines() if l.startswith("demo "))
    assert "default" in line and str((portal.data_dir / "demo").resolve()) in line


def test_the_locations_console_page(portal, lake):
    web = admin_session(portal)
    html = web.get(portal.base + "/admin/locations").text
    form = next(f for f in forms_of(html) if f["action"] == "/admin/locations")
    root = Path(tempfile.mkdtemp(prefix="console-", dir=portal.data_dir)).resolve()
    name = uniq("console_lake")
    resp = web.post(portal.base + "/admin/locations", data={**form["fields"], "name": name, "url": str(root)}, allow_redirects=False)
    target = redirect_target(resp)
    assert target and target[1].get("notice") and not target[1].get("error"), resp.headers.get("location")
    page = web.get(portal.base + resp.headers["location"]).text
    assert f"Location {name} created" in page and str(root) in page
    grant = next(f for f in forms_of(page) if f["action"] == f"/admin/locations/{name}/grants")
    web.post(portal.base + grant["action"], data={**grant["fields"], "team": "south"}, allow_redirects=False)
    assert lake["platform"].ok("GET", f"/locations/{name}")["teams"] == ["south"]
    delete = next(f for f in forms_of(web.get(portal.base + "/admin/locations").text) if f["action"] == f"/admin/locations/{name}/delete")
    refused = redirect_target(web.post(portal.base + delete["action"], data={**delete["fields"], "confirm": "wrong"}, allow_redirects=False))
    assert refused[1].get("error"), refused
    web.post(portal.base + delete["action"], data={**delete["fields"], "confirm": name}, allow_redirects=False)
    error_of(lake["platform"].get(f"/locations/{name}"), 404)
