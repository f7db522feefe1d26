"""Helpers the admin console and admin API tests share: admin API tokens and one-time login
links made with the CLI, browser sessions of admins and partners, and JSON calls to
`/api/v1/admin`."""
import json
import re
import uuid
from datetime import datetime
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import requests

API = "/api/v1/admin"


def uniq(prefix):
    """A fresh object name (names are lower-case words with underscores)."""
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def parse_moment(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- Set-up through the CLI ---------------------------------------------------------------------


def ensure_team(portal, name):
    """`portal team create NAME`, once per portal (several test files use the same teams)."""
    made = portal.__dict__.setdefault("_teams", set())
    if name in made:
        return
    done = portal.cli("team", "create", name, check=False)
    assert done.returncode == 0 or "already exists" in done.stderr, done.stderr
    made.add(name)


def create_api_token(portal, team=None, name=None):
    """`portal admin token create --name NAME [--team TEAM]`: the token is the last stdout line."""
    name = name or uniq(f"ci_{team or 'platform'}")
    args = ["admin", "token", "create", "--name", name] + (["--team", team] if team else [])
    token = portal.cli(*args).stdout.strip().splitlines()[-1].strip()
    assert token.startswith("dsa_"), token
    return token


def api_token(portal, team=None):
    """One admin API token per scope (None = platform) for the whole test session."""
    cache = portal.__dict__.setdefault("_admin_tokens", {})
    if team not in cache:
        if team:
            ensure_team(portal, team)
        cache[team] = create_api_token(portal, team)
    return cache[team]


def partner_token(portal, recipient):
    """`portal token create RECIPIENT`: (bearer token `dss_…`, token id)."""
    *profile, token_id = portal.cli("token", "create", recipient).stdout.strip().splitlines()
    token = json.loads("\n".join(profile))["bearerToken"]
    assert token.startswith("dss_"), token
    return token, token_id.strip()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def login_link(portal, team=None, *extra):
    """`portal admin login-link [--team TEAM]`: one line, `<public_url>/admin/login/<code>`."""
    out = portal.cli("admin", "login-link", *(["--team", team] if team else []), *extra).stdout.strip()
    lines = [l for l in out.splitlines() if l.strip()]
    assert len(lines) == 1, out
    link = lines[0].strip()
    assert link.startswith(portal.base + "/admin/login/"), link
    return link


def hidden_csrf(html):
    m = re.search(r'name="csrf"[^>]*value="([^"]+)"', html) or re.search(r'value="([^"]+)"[^>]*name="csrf"', html)
    return m.group(1) if m else None


def admin_session(portal, team=None):
    """Signs a fresh browser in as an administrator with a one-time login link (platform admin
    without `team`): GET the link's page, POST its form with the hidden `csrf`."""
    if team:
        ensure_team(portal, team)
    link = login_link(portal, team)
    web = requests.Session()
    web.headers["Accept"] = "text/html"
    page = web.get(link, allow_redirects=False)
    assert page.status_code == 200, (page.status_code, page.text[:300])
    assert "Sign in as administrator" in page.text, page.text[:500]
    csrf = hidden_csrf(page.text)
    assert csrf, "the login link's page has a form with a hidden csrf field"
    signed = web.post(link, data={"csrf": csrf}, allow_redirects=False)
    assert signed.status_code == 303 and signed.headers["location"] == "/admin", (signed.status_code, signed.headers.get("location"), signed.text[:300])
    assert web.cookies.get("portal_admin"), f"cookie portal_admin is set: {signed.headers.get('set-cookie')}"
    web.link = link
    return web


def partner_session(portal, recipient):
    """A partner's browser, signed in by activating a fresh activation link of `recipient`."""
    link = portal.cli("activation-link", recipient).stdout.strip().splitlines()[-1].strip()
    web = requests.Session()
    web.headers["Accept"] = "text/html"
    done = portal.activate(link, web)
    assert done.status_code == 200, (done.status_code, done.text[:300])
    assert web.cookies.get("portal_session"), "activating signs the browser in"
    return web


def redirect_target(resp):
    """Path and query of a redirect answer (None when it is no redirect)."""
    if resp.status_code not in (301, 302, 303, 307, 308):
        return None
    loc = urlsplit(resp.headers.get("location", ""))
    return loc.path, parse_qs(loc.query)


# --- The admin API ------------------------------------------------------------------------------


class AdminApi:
    """JSON calls to /api/v1/admin with fixed headers (a bearer token, or none at all), or
    through a browser session (then changes carry `X-CSRF-Token` when one is given)."""

    def __init__(self, portal, headers=None, session=None, name=None):
        self.portal = portal
        self.headers = dict(headers or {})
        self.session = session or requests
        self.name = name

    @classmethod
    def platform(cls, portal):
        return cls(portal, bearer(api_token(portal)), name="platform")

    @classmethod
    def team(cls, portal, team):
        return cls(portal, bearer(api_token(portal, team)), name=team)

    def call(self, method, path, body=None, headers=None, **kw):
        kw.setdefault("allow_redirects", False)
        if body is not None:
            kw["json"] = body
        sent = {"Accept": "application/json", **self.headers, **(headers or {})}
        return self.session.request(method, self.portal.base + API + path, headers=sent, timeout=120, **kw)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, {} if body is None else body, **kw)

    def patch(self, path, body, **kw):
        return self.call("PATCH", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)

    # Calls that must succeed: the JSON answer.
    def ok(self, method, path, body=None, status=None):
        resp = self.call(method, path, body if body is not None or method in ("GET", "DELETE") else {})
        want = status or (201 if method == "POST" and _creates(path) else 200)
        assert resp.status_code == want, f"{method} {path} {body} -> {resp.status_code} {resp.text[:500]}"
        return resp.json()

    # A north-style set of objects, made by a platform admin.
    def share_with_table(self, portal, name=None, team=None, location=None, scope="partner_id=partner_id"):
        name = name or uniq("sh")
        self.ok("POST", "/shares", {"name": name, **({"team": team} if team else {})})
        table = {"schema": "commerce", "name": "sales", "location": str(location or portal.data_dir / "demo" / "sales"), "history": True}
        if scope:
            table["scope"] = scope
        self.ok("POST", f"/shares/{name}/tables", table)
        return name

    def recipient(self, name=None, team=None, **fields):
        name = name or uniq("rc")
        self.ok("POST", "/recipients", {"name": name, **({"team": team} if team else {}), **fields})
        return name


def _creates(path):
    """POSTs that create something answer 201; actions on an object (revoke) answer 200."""
    return not path.endswith("/revoke")


def error_of(resp, status, field=None, code=None):
    """Checks an error answer `{"errorCode","message"[,"field"]}` and returns its body."""
    assert resp.status_code == status, f"{resp.request.method} {resp.request.url} -> {resp.status_code} {resp.text[:500]}"
    body = resp.json()
    assert body.get("errorCode") and body.get("message"), body
    if field is not None:
        assert body.get("field") == field, body
    if code is not None:
        assert body["errorCode"] == code, body
    return body


def recipient_state(detail):
    """What an admin governs of a recipient, without the counters that reads move."""
    d = {k: v for k, v in detail.items() if k not in ("lastAccess", "rowsRead", "bytesRead")}
    d["tokens"] = [{k: v for k, v in t.items() if k != "lastUsedAt"} for t in detail.get("tokens", [])]
    return d


def catalog_state(platform):
    """Everything a form could change, read through the API by a platform admin."""
    recipients = {r["name"]: recipient_state(platform.ok("GET", f"/recipients/{r['name']}")) for r in platform.ok("GET", "/recipients")["items"]}
    shares = {s["name"]: platform.ok("GET", f"/shares/{s['name']}") for s in platform.ok("GET", "/shares")["items"]}
    teams = sorted(t["name"] for t in platform.ok("GET", "/teams")["items"])
    api_tokens = sorted((t["id"], t["name"], t.get("status")) for t in platform.ok("GET", "/api-tokens")["items"])
    locations = platform.ok("GET", "/locations")["items"]
    return {"recipients": recipients, "shares": shares, "teams": teams, "apiTokens": api_tokens, "locations": locations}


def delta_sharing_status(portal, token, path="/shares"):
    return requests.get(portal.endpoint + path, headers=bearer(token), timeout=60).status_code


# --- Console pages ---------------------------------------------------------------------------------


class _Forms(HTMLParser):
    """The page's forms: method, action and the fields a browser would submit as they stand."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self.current, self.select, self.textarea = [], None, None, None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self.current = {"method": a.get("method", "get").lower(), "action": a.get("action", ""), "fields": {}, "button": None}
            self.forms.append(self.current)
            return
        form = self.current
        if form is None:
            return
        if tag == "option" and self.select:
            if self.select not in form["fields"] or "selected" in a:
                form["fields"][self.select] = a.get("value", "")
            return
        if not a.get("name") or "disabled" in a:
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    form["fields"][name] = a.get("value", "on")
            elif kind in ("submit", "image"):
                form["button"] = form["button"] or (name, a.get("value", ""))
            elif kind not in ("button", "file", "reset"):
                form["fields"][name] = a.get("value", "")
        elif tag == "button" and a.get("type", "submit").lower() == "submit":
            form["button"] = form["button"] or (name, a.get("value", ""))
        elif tag == "select":
            self.select = name
        elif tag == "textarea":
            self.textarea = name
            form["fields"][name] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.current is not None and self.textarea:
            self.current["fields"][self.textarea] += data


def forms_of(html):
    parser = _Forms()
    parser.feed(html)
    parser.close()
    for form in parser.forms:
        if form["button"]:
            form["fields"].setdefault(*form["button"])
    return parser.forms
