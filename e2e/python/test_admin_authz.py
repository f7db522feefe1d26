"""Who may do what in the admin API and the admin console.

Teams `north` and `south`; a share and recipients of `north`, made by a platform admin through
the API. Every admin API route is tried by every kind of caller:
- anonymous (no header), a partner (a recipient's `dss_…` token), a made-up admin token → 401;
- an admin of `south` → 404 for `north`'s objects (as if they did not exist), lists without
  them, 403 for platform-only routes;
- an admin of `north` → success on `north`'s objects, 403 for platform-only routes;
- a platform admin → success.
A refused call changes nothing. All `north` objects are named `north_…`, so a leak shows up as
that text in what `south` sees (what a caller tries to create is named `new_…`: the audit log
may show south its own refused attempt). The console pages keep the same rules, and every console form
needs its form token."""
import tempfile
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from admin import (
    AdminApi,
    admin_session,
    bearer,
    catalog_state,
    delta_sharing_status,
    ensure_team,
    error_of,
    forms_of,
    hidden_csrf,
    login_link,
    partner_session,
    partner_token,
    recipient_state,
    redirect_target,
    uniq,
)

NORTH_MARK = "north_"


@dataclass
class NorthObjects:
    """A share (sales table, scoped), a recipient granted it with a CLI token, a second
    recipient without grants, and a team API token, all of team `north`."""
    share: str
    recipient: str
    recipient2: str
    token: str
    token_id: str
    api_token_id: str
    api_token_name: str
    location: str

    @property
    def names(self):
        return [self.share, self.recipient, self.recipient2, self.api_token_name]

    def state(self, platform):
        """What a refused call must leave as it was."""
        return {
            "recipient": recipient_state(platform.ok("GET", f"/recipients/{self.recipient}")),
            "recipient2": recipient_state(platform.ok("GET", f"/recipients/{self.recipient2}")),
            "share": platform.ok("GET", f"/shares/{self.share}"),
            "apiToken": {t["id"]: t.get("status") for t in platform.ok("GET", "/api-tokens")["items"]}.get(self.api_token_id),
            "location": platform.ok("GET", f"/locations/{self.location}"),
        }


def make_north(portal, platform):
    share = platform.share_with_table(portal, name=uniq("north_share"), team="north")
    recipient = platform.recipient(name=uniq("north_rcpt"), team="north", properties={"partner_id": "P001"})
    recipient2 = platform.recipient(name=uniq("north_other"), team="north", properties={"partner_id": "P002"})
    platform.ok("PUT", f"/shares/{share}/grants/{recipient}")
    token, token_id = partner_token(portal, recipient)
    key = platform.ok("POST", "/api-tokens", {"name": uniq("north_key"), "team": "north"})
    assert key["team"] == "north" and key["token"].startswith("dsa_")
    location = uniq("north_loc")
    platform.ok("POST", "/locations", {"name": location, "url": tempfile.mkdtemp(prefix="loc-", dir=portal.data_dir)})
    platform.ok("PUT", f"/locations/{location}/grants/north")
    return NorthObjects(share, recipient, recipient2, token, token_id, key["id"], key["name"], location)


@pytest.fixture(scope="module")
def world(portal):
    ensure_team(portal, "north")
    ensure_team(portal, "south")
    platform = AdminApi.platform(portal)
    # North's admins may add the demo tables (the demo location is the default team's).
    platform.ok("PUT", "/locations/demo/grants/north")
    north = make_north(portal, platform)
    callers = {
        "anonymous": AdminApi(portal, name="anonymous"),
        "partner": AdminApi(portal, bearer(north.token), name="partner"),
        "forged": AdminApi(portal, bearer("dsa_0123456789abcdef0123456789abcdef"), name="forged"),
        "south": AdminApi.team(portal, "south"),
        "north": AdminApi.team(portal, "north"),
        "platform": platform,
    }
    return {"platform": platform, "north": north, "callers": callers}


# --- The admin API matrix --------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    body: dict = None
    # object: about one north object; list: lists the caller's team; create: a new north object;
    # platform: platform admins only.
    kind: str = "object"
    # Needs north objects of its own (it removes or replaces what it touches).
    fresh: bool = False
    status: int = 200
    # create: the list where a refused create must not show up; list: north names north sees.
    lists: str = None
    shows: tuple = ()

    def __str__(self):
        return f"{self.method} {self.path}"


ROUTES = [
    Route("GET", "/teams", kind="platform"),
    Route("POST", "/teams", {"name": "team_{uniq}"}, kind="platform", status=201, lists="/teams"),
    Route("GET", "/recipients", kind="list", shows=("recipient", "recipient2")),
    Route("POST", "/recipients", {"name": "new_{uniq}", "team": "north", "properties": {"partner_id": "P003"}}, kind="create", status=201, lists="/recipients"),
    Route("GET", "/recipients/{recipient}"),
    Route("PATCH", "/recipients/{recipient}", {"comment": "patched {uniq}"}),
    Route("DELETE", "/recipients/{recipient}", fresh=True),
    Route("POST", "/recipients/{recipient}/activation-links", {"ttlHours": 1}, status=201),
    Route("POST", "/recipients/{recipient}/rotate", {"overlapHours": 24}, fresh=True, status=201),
    Route("POST", "/recipients/{recipient}/tokens/{token_id}/revoke", {}, fresh=True),
    Route("POST", "/recipients/{recipient}/oauth-clients", {"name": "pipe {uniq}"}, status=201),
    Route(
        "POST",
        "/recipients/{recipient}/federation-policies",
        {"name": "idp {uniq}", "issuer": "https://idp.example/{uniq}", "audiences": ["urn:portal"], "subjectClaim": "sub", "subjectValues": ["etl"]},
        status=201,
    ),
    Route("GET", "/shares", kind="list", shows=("share",)),
    Route("POST", "/shares", {"name": "new_{uniq}", "team": "north"}, kind="create", status=201, lists="/shares"),
    Route("GET", "/shares/{share}"),
    Route("PATCH", "/shares/{share}", {"comment": "patched {uniq}"}),
    Route("DELETE", "/shares/{share}", fresh=True),
    Route("POST", "/shares/{share}/tables", {"schema": "extra", "name": "t_{uniq}", "location": "{stock}"}, status=201),
    Route("PATCH", "/shares/{share}/tables/commerce.sales", {"comment": "patched {uniq}"}),
    Route("DELETE", "/shares/{share}/tables/commerce.sales", fresh=True),
    Route("PUT", "/shares/{share}/grants/{recipient2}", fresh=True),
    Route("DELETE", "/shares/{share}/grants/{recipient}", fresh=True),
    Route("GET", "/shares/{share}/tables/commerce.sales/preview?as={recipient}&_size=3"),
    Route("GET", "/locations", kind="list", shows=("location",)),
    Route("POST", "/locations", {"name": "loc_{uniq}", "url": "{fresh_dir}"}, kind="platform", status=201, lists="/locations"),
    Route("GET", "/locations/{location}"),
    Route("DELETE", "/locations/{location}", kind="platform", fresh=True),
    Route("PUT", "/locations/{location}/grants/default", kind="platform", fresh=True),
    Route("DELETE", "/locations/{location}/grants/north", kind="platform", fresh=True),
    Route("GET", "/audit", kind="list"),
    Route("GET", "/usage", kind="list"),
    Route("GET", "/usage?recipient={recipient}&days=7"),
    Route("GET", "/audit.csv", kind="list"),
    Route("GET", "/api-tokens", kind="list", shows=("api_token_name",)),
    Route("POST", "/api-tokens", {"name": "new_key_{uniq}", "team": "north"}, kind="create", status=201, lists="/api-tokens"),
    Route("DELETE", "/api-tokens/{api_token_id}", fresh=True),
]

CALLERS = ["anonymous", "partner", "forged", "south", "north", "platform"]


def expected_status(route, caller):
    if caller in ("anonymous", "partner", "forged"):
        return 401
    if route.kind == "platform":
        return route.status if caller == "platform" else 403
    if caller == "south":
        return 200 if route.kind == "list" else 404
    return route.status


def fill(value, values):
    if isinstance(value, str):
        return value.format(**values)
    if isinstance(value, dict):
        return {k: fill(v, values) for k, v in value.items()}
    return value


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_admin_api_authorization(portal, world, route, caller):
    platform, api = world["platform"], world["callers"][caller]
    north = make_north(portal, platform) if route.fresh else world["north"]
    values = {**north.__dict__, "uniq": uniq("x")[2:], "stock": str(portal.data_dir / "demo" / "stock"), "fresh_dir": tempfile.mkdtemp(prefix="loc-", dir=portal.data_dir)}
    path, body = fill(route.path, values), fill(route.body, values)
    want = expected_status(route, caller)
    before = north.state(platform) if want >= 400 else None
    resp = api.call(route.method, path, body)
    assert resp.status_code == want, f"{caller}: {route.method} {path} {body} -> {resp.status_code} {resp.text[:400]}"
    if want >= 400:
        error_of(resp, want, code={401: None, 403: "PERMISSION_DENIED", 404: "RESOURCE_DOES_NOT_EXIST"}[want])
        assert north.state(platform) == before, "a refused call changed nothing"
        if route.lists:
            assert body["name"] not in platform.get(route.lists).text, "a refused create made nothing"
        return
    if route.path.endswith(".csv"):
        assert resp.headers["content-type"].startswith("text/csv")
        text = resp.text
    else:
        text = resp.text
        answer = resp.json()
        if route.kind == "create":
            assert answer["name"] == body["name"] and answer["team"] == "north", answer
        if route.method == "DELETE" and route.path.count("/") <= 2:
            assert answer == {"deleted": True}, answer
    if route.kind == "list":
        if caller == "south":
            assert NORTH_MARK not in text, f"south sees north objects in {path}"
        else:
            for attr in route.shows:
                assert getattr(north, attr) in text, f"{caller} sees {attr} in {path}"
    if route.kind == "platform" and route.method == "GET":
        assert {"north", "south", "default"} <= {t["name"] for t in resp.json()["items"]}


def test_team_admins_work_in_their_own_team(portal, world):
    north, platform, north_admin, south_admin = world["north"], world["platform"], world["callers"]["north"], world["callers"]["south"]
    # Without "team", a team admin's objects land in their team.
    name = uniq("north_own")
    made = north_admin.ok("POST", "/recipients", {"name": name})
    assert made["team"] == "north"
    share = uniq("north_own_share")
    assert north_admin.ok("POST", "/shares", {"name": share})["team"] == "north"
    # Lists hold the caller's team only.
    assert {r["team"] for r in north_admin.ok("GET", "/recipients")["items"]} == {"north"}
    assert {s["team"] for s in north_admin.ok("GET", "/shares")["items"]} == {"north"}
    assert name not in south_admin.get("/recipients").text
    # Grants stay inside a team, even for a platform admin.
    outsider = platform.recipient(name=uniq("default_rcpt"))
    error_of(north_admin.put(f"/shares/{share}/grants/{outsider}"), 404)
    error_of(platform.put(f"/shares/{north.share}/grants/{outsider}"), 404)
    assert outsider not in platform.ok("GET", f"/shares/{north.share}")["grants"]
    # A team admin's token sees only its team's audit events, and its changes carry its name.
    events = north_admin.ok("GET", "/audit")["items"]
    assert events and any(e["object"] == name and e["action"] == "admin.createRecipient" for e in events)
    assert all(e["actor"].startswith("admin-token:") for e in events if e["object"] == name)


def test_naming_another_team_is_as_if_it_did_not_exist(world):
    platform, north_admin = world["platform"], world["callers"]["north"]
    attempts = [
        ("/recipients", {"name": uniq("new_rcpt"), "team": "south"}),
        ("/recipients", {"name": uniq("new_rcpt"), "team": "no_such_team"}),
        ("/shares", {"name": uniq("new_share"), "team": "south"}),
        ("/shares", {"name": uniq("new_share"), "team": "no_such_team"}),
        ("/api-tokens", {"name": uniq("new_key"), "team": "south"}),
    ]
    wrong = []
    for path, body in attempts:
        resp = north_admin.post(path, body)
        if resp.status_code != 404 or resp.json().get("errorCode") != "RESOURCE_DOES_NOT_EXIST":
            wrong.append(f"POST {path} {body} -> {resp.status_code} {resp.text[:200]}")
        assert body["name"] not in platform.get(path).text, "nothing was made"
    assert not wrong, "\n".join(wrong)


def test_another_teams_object_reads_exactly_like_a_missing_one(world):
    north, platform, south = world["north"], world["platform"], world["callers"]["south"]
    for kind, name in (("recipients", north.recipient), ("shares", north.share)):
        missing = uniq("north_missing")
        hidden = error_of(south.get(f"/{kind}/{name}"), 404, code="RESOURCE_DOES_NOT_EXIST")
        absent = error_of(platform.get(f"/{kind}/{missing}"), 404, code="RESOURCE_DOES_NOT_EXIST")
        assert hidden["message"].replace(name, "<name>") == absent["message"].replace(missing, "<name>")
        also_absent = error_of(south.get(f"/{kind}/{missing}"), 404)
        assert also_absent["message"] == absent["message"]


def test_team_admins_cannot_make_platform_tokens(portal, world):
    north_admin = world["callers"]["north"]
    resp = north_admin.post("/api-tokens", {"name": uniq("north_escalate")})
    assert resp.status_code == 201, resp.text
    assert resp.json()["team"] == "north", "a team admin's new token is a team token"
    escalated = AdminApi(portal, bearer(resp.json()["token"]))
    error_of(escalated.get("/teams"), 403, code="PERMISSION_DENIED")
    assert resp.json()["name"] not in world["callers"]["south"].get("/api-tokens").text


# --- Admin browser sessions on the API ----------------------------------------------------------------


def test_session_api_calls_need_the_csrf_header(portal, world):
    north = world["north"]
    web = admin_session(portal, "north")
    session_api = AdminApi(portal, session=web)
    listed = session_api.get("/recipients")
    assert listed.status_code == 200 and north.recipient in listed.text, listed.text[:300]
    before = recipient_state(world["platform"].ok("GET", f"/recipients/{north.recipient}"))
    refused = session_api.patch(f"/recipients/{north.recipient}", {"comment": "no csrf header"})
    assert refused.status_code == 403, refused.text[:300]
    forged = session_api.patch(f"/recipients/{north.recipient}", {"comment": "forged header"}, headers={"X-CSRF-Token": "forged"})
    assert forged.status_code == 403, forged.text[:300]
    assert recipient_state(world["platform"].ok("GET", f"/recipients/{north.recipient}")) == before
    csrf = hidden_csrf(web.get(portal.base + "/admin").text)
    done = session_api.patch(f"/recipients/{north.recipient}", {"comment": "with the header"}, headers={"X-CSRF-Token": csrf})
    assert done.status_code == 200 and done.json()["comment"] == "with the header", done.text[:300]
    # A south session does not see north objects through the API either.
    south = AdminApi(portal, session=admin_session(portal, "south"))
    error_of(south.get(f"/recipients/{north.recipient}"), 404)


# --- The console pages ------------------------------------------------------------------------------------

# The partners list shows 200 recipients at most (other tests add many): it is searched for
# north's recipient by the random end of its name (so the echoed search holds no `north_`).
PAGES = ["/admin?q={suffix}", "/admin/recipients/{recipient}", "/admin/shares/{share}", "/admin/audit"]
# Which north names each page must show to north and platform admins.
PAGE_SHOWS = {"/admin?q={suffix}": ("recipient",), "/admin/recipients/{recipient}": ("recipient",), "/admin/shares/{share}": ("share",), "/admin/audit": ()}


@pytest.fixture(scope="module")
def browsers(portal, world):
    def anonymous():
        web = requests.Session()
        web.headers["Accept"] = "text/html"
        return web

    return {
        "anonymous": anonymous(),
        "partner": partner_session(portal, world["north"].recipient),
        "south": admin_session(portal, "south"),
        "north": admin_session(portal, "north"),
        "platform": admin_session(portal),
    }


@pytest.mark.parametrize("who", ["anonymous", "partner", "south", "north", "platform"])
@pytest.mark.parametrize("page", PAGES)
def test_console_pages(portal, world, browsers, page, who):
    north = world["north"]
    path = page.format(**north.__dict__, suffix=north.recipient[-8:])
    resp = browsers[who].get(portal.base + path, allow_redirects=False)
    if who in ("anonymous", "partner"):
        target = redirect_target(resp)
        assert resp.status_code in (302, 303) and target and target[0].startswith("/admin/login"), (resp.status_code, resp.headers.get("location"))
        return
    if who == "south" and "{" in page and "?" not in page:
        assert resp.status_code == 404, (resp.status_code, resp.text[:300])
        return
    assert resp.status_code == 200, (resp.status_code, resp.headers.get("location"), resp.text[:300])
    assert "text/html" in resp.headers["content-type"]
    if who == "south":
        assert NORTH_MARK not in resp.text, f"south sees north objects on {path}"
    else:
        for attr in PAGE_SHOWS[page]:
            assert getattr(north, attr) in resp.text, f"{who} sees {attr} on {path}"


def test_console_forms_need_the_form_token(portal, world, browsers):
    platform = world["platform"]
    north = make_north(portal, platform)
    web = browsers["platform"]
    pages = ["/admin", "/admin/onboard", f"/admin/recipients/{north.recipient}", "/admin/shares", f"/admin/shares/{north.share}", "/admin/audit", "/admin/teams", "/admin/locations"]
    forms = []
    for page in pages:
        resp = web.get(portal.base + page, allow_redirects=False)
        assert resp.status_code == 200, (page, resp.status_code, resp.headers.get("location"))
        for form in forms_of(resp.text):
            if form["method"] == "post":
                forms.append((page, urljoin(portal.base + page, form["action"] or page), form["fields"]))
    actions = {urlsplit(a).path for _, a, _ in forms}
    assert len(actions) >= 8, f"the console has forms for its changes: {sorted(actions)}"
    assert any(a.endswith("/logout") for a in actions), sorted(actions)
    before = catalog_state(platform)
    for page, action, fields in forms:
        assert "csrf" in fields, f"the form to {action} on {page} carries a csrf field"
        for csrf in (None, "forged"):
            sent = {k: v for k, v in fields.items() if k != "csrf"}
            if csrf:
                sent["csrf"] = csrf
            resp = web.post(action, data=sent, allow_redirects=False)
            target = redirect_target(resp)
            # Refused: a 403, or back to a page with the error (`error=form`, or a message about the form).
            error = (target[1].get("error") or [""])[0] if target else ""
            refused = resp.status_code == 403 or (error == "form" or "form" in error.lower()) and not target[1].get("notice")
            assert refused, f"POST {action} from {page} without a valid csrf -> {resp.status_code} {resp.headers.get('location')}"
    assert catalog_state(platform) == before, "no form changed anything"
    assert web.get(portal.base + "/admin", allow_redirects=False).status_code == 200, "still signed in"


def test_console_preview_and_api_token_pages(portal, world, browsers):
    """Pages of the contract beyond the four above: a table previewed as a recipient (an HTML
    page, inside the recipient's row scope) and the API tokens page."""
    north = world["north"]
    preview = f"/admin/shares/{north.share}/preview?table=commerce.sales&as={north.recipient}"
    problems = []
    for who in ("north", "platform"):
        resp = browsers[who].get(portal.base + preview, allow_redirects=False)
        if resp.status_code != 200 or "text/html" not in resp.headers.get("content-type", ""):
            problems.append(f"{who}: GET {preview} -> {resp.status_code} {resp.headers.get('content-type')}")
        elif "P001" not in resp.text or "P002" in resp.text:
            problems.append(f"{who}: the preview should show only the rows of partner_id P001")
        tokens = browsers[who].get(portal.base + "/admin/api-tokens", allow_redirects=False)
        if tokens.status_code != 200 or north.api_token_name not in tokens.text:
            problems.append(f"{who}: GET /admin/api-tokens -> {tokens.status_code}")
    south = browsers["south"].get(portal.base + preview, allow_redirects=False)
    if south.status_code != 404:
        problems.append(f"south: GET {preview} -> {south.status_code}")
    anonymous = redirect_target(requests.get(portal.base + preview, headers={"Accept": "text/html"}, allow_redirects=False))
    if not (anonymous and anonymous[0].startswith("/admin/login")):
        problems.append(f"anonymous: GET {preview} is not sent to /admin/login")
    assert not problems, "\n".join(problems)


def form_to(web, portal, page, suffix):
    """The fields of the form on `page` whose action ends with `suffix`, and that action."""
    html = web.get(portal.base + page, allow_redirects=False).text
    found = [f for f in forms_of(html) if f["method"] == "post" and f["action"].endswith(suffix)]
    assert found, f"a form to …{suffix} on {page}"
    return urljoin(portal.base + page, found[0]["action"]), dict(found[0]["fields"])


def test_console_forms_work_with_the_form_token(portal, world, browsers):
    """The other side of the form-token test: the same forms, as the page gives them, work."""
    platform = world["platform"]
    north = make_north(portal, platform)
    for who, page, suffix, api_path in (
        ("platform", f"/admin/recipients/{north.recipient}", f"/recipients/{north.recipient}/edit", f"/recipients/{north.recipient}"),
        ("north", f"/admin/shares/{north.share}", f"/shares/{north.share}/edit", f"/shares/{north.share}"),
    ):
        action, fields = form_to(browsers[who], portal, page, suffix)
        fields["comment"] = f"edited by {who} in the console"
        resp = browsers[who].post(action, data=fields, allow_redirects=False)
        target = redirect_target(resp)
        assert target and not target[1].get("error"), (resp.status_code, resp.headers.get("location"))
        assert platform.ok("GET", api_path)["comment"] == f"edited by {who} in the console"


def test_console_forms_of_another_team_change_nothing(portal, world, browsers):
    platform = world["platform"]
    north = make_north(portal, platform)
    south = browsers["south"]
    csrf = hidden_csrf(south.get(portal.base + "/admin").text)
    assert csrf
    before = north.state(platform)
    attempts = [
        (f"/admin/recipients/{north.recipient}/edit", {"comment": "south was here", "prop_key_0": "partner_id", "prop_value_0": "P002"}),
        (f"/admin/recipients/{north.recipient}/rotate", {"overlap_hours": "0"}),
        (f"/admin/recipients/{north.recipient}/tokens/{north.token_id}/revoke", {}),
        (f"/admin/recipients/{north.recipient}/activation-link", {}),
        (f"/admin/recipients/{north.recipient}/delete", {"confirm": north.recipient}),
        (f"/admin/shares/{north.share}/edit", {"comment": "south was here"}),
        (f"/admin/shares/{north.share}/tables", {"schema": "s", "name": "t", "location": str(portal.data_dir / "demo" / "stock")}),
        (f"/admin/shares/{north.share}/tables/commerce.sales/remove", {}),
        (f"/admin/shares/{north.share}/grants/{north.recipient}/revoke", {}),
        (f"/admin/shares/{north.share}/delete", {"confirm": north.share}),
        (f"/admin/api-tokens/{north.api_token_id}/revoke", {}),
    ]
    for path, fields in attempts:
        resp = south.post(portal.base + path, data={"csrf": csrf, **fields}, allow_redirects=False)
        target = redirect_target(resp)
        refused = resp.status_code in (403, 404) or (target is not None and target[1].get("error") and not target[1].get("notice"))
        assert refused, f"south: POST {path} -> {resp.status_code} {resp.headers.get('location')}"
    assert north.state(platform) == before
    assert delta_sharing_status(portal, north.token) == 200, "the partner's token still works"


# --- Login links ----------------------------------------------------------------------------------------


def test_login_page_without_single_sign_on_points_to_the_cli(portal):
    page = requests.get(portal.base + "/admin/login")
    assert page.status_code == 200 and "portal admin login-link" in page.text


def test_login_links_work_once(portal):
    link = login_link(portal)
    web = requests.Session()
    page = web.get(link)
    assert page.status_code == 200 and "Sign in as administrator" in page.text
    assert web.get(link).status_code == 200, "looking at the link does not spend it"
    signed = web.post(link, data={"csrf": hidden_csrf(page.text)}, allow_redirects=False)
    assert signed.status_code == 303 and signed.headers["location"] == "/admin"
    assert "portal_admin=" in signed.headers.get("set-cookie", "")
    assert "HttpOnly" in signed.headers["set-cookie"]
    assert requests.get(link).status_code == 410
    other = requests.Session()
    again = other.get(link)
    assert again.status_code == 410
    # Pressing the button of a used link (with a valid form token) ends on the same 410 page.
    assert other.post(link, data={"csrf": hidden_csrf(other.get(portal.base + "/login").text) or ""}).status_code == 410
    assert "portal_admin" not in other.cookies
    assert requests.get(portal.base + "/admin/login/not-a-real-code").status_code == 404
    # A forged POST does not spend a fresh link.
    fresh = login_link(portal)
    forged = requests.post(fresh, data={"csrf": "forged"}, allow_redirects=False)
    assert forged.status_code in (303, 403) and "portal_admin=" not in forged.headers.get("set-cookie", "")
    assert requests.get(fresh).status_code == 200


def test_login_link_without_team_is_a_platform_admin(portal):
    web = admin_session(portal)
    teams = web.get(portal.base + "/admin/teams", allow_redirects=False)
    assert teams.status_code == 200 and "north" in teams.text and "south" in teams.text
    assert AdminApi(portal, session=web).get("/teams").status_code == 200
    team_admin = AdminApi(portal, session=admin_session(portal, "north"))
    error_of(team_admin.get("/teams"), 403, code="PERMISSION_DENIED")


def test_sign_out_ends_the_admin_session(portal):
    web = admin_session(portal, "north")
    csrf = hidden_csrf(web.get(portal.base + "/admin").text)
    out = web.post(portal.base + "/admin/logout", data={"csrf": csrf}, allow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/admin/login?signed_out=1"
    target = redirect_target(web.get(portal.base + "/admin", allow_redirects=False))
    assert target and target[0].startswith("/admin/login")
