"""`/connect`: partners create, rotate and revoke their own named tokens in the browser, inside
the limits the admin set, and get a working `config.share` and a ready Power Query. Each test
uses a recipient of its own (partner_id P001, granted `wholesale`), signed in with a CLI token,
so the demo partners' tokens and limits stay untouched."""
import base64
import csv
import io
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from urllib.parse import urlencode, parse_qs, unquote_to_bytes, urldefrag, urljoin, urlsplit

import delta_sharing
import pytest
import requests

STATUSES = {"active", "expired", "revoked"}
PLACEHOLDER = "<paste your access token>"


# --- A small DOM over the server-rendered HTML (stdlib only) --------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SKIPPED_TEXT = {"script", "style", "template"}


class Node:
    def __init__(self, tag, attrs, parent=None):
        self.tag, self.attrs, self.parent, self.children = tag, {k: (v if v is not None else "") for k, v in attrs}, parent, []

    def iter(self):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    def all(self, tag=None, **attrs):
        """Descendants with this tag and these attributes (`data_testid` means `data-testid`;
        a value of True only asks that the attribute is there)."""
        wanted = {k.replace("_", "-"): v for k, v in attrs.items()}
        return [
            n for n in self.iter()
            if (tag is None or n.tag == tag) and all(k in n.attrs and (v is True or n.attrs[k] == v) for k, v in wanted.items())
        ]

    def one(self, tag=None, **attrs):
        found = self.all(tag, **attrs)
        assert len(found) == 1, f"expected one <{tag or '*'} {attrs}>, found {len(found)}"
        return found[0]

    def first(self, tag=None, **attrs):
        found = self.all(tag, **attrs)
        return found[0] if found else None

    def text(self, skip=()):
        """The visible text, space-joined; elements in `skip` (and scripts) left out."""
        parts = []
        for child in self.children:
            if isinstance(child, str):
                parts.append(child)
            elif child.tag not in SKIPPED_TEXT and child.tag not in skip:
                parts.append(child.text(skip))
        return re.sub(r"\s+", " ", " ".join(parts)).strip()

    def raw_text(self):
        """Text exactly as written (for <textarea>/<pre> content)."""
        return "".join(c if isinstance(c, str) else c.raw_text() for c in self.children)


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", [])
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Node(tag, attrs, self.stack[-1]))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse_html(text):
    builder = _Builder()
    builder.feed(text)
    builder.close()
    return builder.root


def form_fields(form):
    """What a browser submits for this form as it stands: inputs with their values, each select's
    selected (else first) option, each textarea's text."""
    fields = {}
    for node in form.iter():
        name = node.attrs.get("name")
        if not name or "disabled" in node.attrs:
            continue
        if node.tag == "input" and node.attrs.get("type", "text") not in ("submit", "button", "checkbox", "radio", "file"):
            fields[name] = node.attrs.get("value", "")
        elif node.tag == "select":
            options = node.all("option")
            chosen = next((o for o in options if "selected" in o.attrs), options[0] if options else None)
            if chosen is not None:
                fields[name] = chosen.attrs.get("value", chosen.text())
        elif node.tag == "textarea":
            fields[name] = node.raw_text()
    return fields


# --- A browser ----------------------------------------------------------------------------------


class Browser:
    """A requests.Session that behaves like the portal's pages in a browser (no redirects
    followed, so each answer can be checked)."""

    def __init__(self, base):
        self.base = base
        self.web = requests.Session()
        self.web.headers["Accept"] = "text/html"

    def get(self, path):
        return self.web.get(self.base + urldefrag(path).url, allow_redirects=False)

    def page(self, path="/connect", refusal=False):
        """The page at `path`, parsed; `refusal`: a page explaining a refused form, which may
        answer with a 4xx status."""
        resp = self.get(path)
        ok = resp.status_code == 200 or (refusal and 400 <= resp.status_code < 500)
        assert ok, (path, resp.status_code, resp.headers.get("location"), resp.text[:500])
        return parse_html(resp.text)

    def post(self, path, fields):
        return self.web.post(self.base + path, data=fields, allow_redirects=False)

    def submit(self, path, fields, page="/connect"):
        """Posts a form with the form token of `page`, as the page's own form would."""
        return self.post(path, {"csrf": csrf_of(self.page(page)), **fields})


def csrf_of(doc):
    """The page's form token (every form on a page carries the same one)."""
    values = {n.attrs.get("value", "") for n in doc.all("input", name="csrf")} - {""}
    assert len(values) == 1, f"one form token expected on the page, found {values}"
    return values.pop()


def sign_in(portal, token, next_path="/connect"):
    """Signs a fresh browser in at /login with an access token, as a partner does."""
    browser = Browser(portal.base)
    login = browser.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', login.text).group(1)
    resp = browser.post("/login", {"csrf": csrf, "token": token, "next": next_path})
    assert resp.status_code == 303 and resp.headers["location"] == next_path, (resp.status_code, resp.headers.get("location"))
    return browser


@dataclass
class Partner:
    name: str
    browser: Browser
    token: str
    token_id: str


@pytest.fixture
def new_partner(portal, tmp_path):
    """Makes a recipient of its own (P001, granted wholesale) with a CLI token, signed in."""

    def make(prefix="connect"):
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        portal.cli("recipient", "create", name, "--property", "partner_id=P001")
        portal.cli("grant", "wholesale", name)
        path, token_id = portal.profile(name, tmp_path / f"{name}.share")
        token = portal.token_of(path)
        return Partner(name, sign_in(portal, token), token, token_id)

    return make


@pytest.fixture
def partner(new_partner):
    return new_partner()


# --- What the page shows ------------------------------------------------------------------------


@dataclass
class TokenRow:
    id: str
    node: Node

    @property
    def text(self):
        # Forms in the row (rotate, revoke) have words of their own ("Revoke", "keep active…").
        return self.node.text(skip={"form", "button", "select", "option"})

    @property
    def status(self):
        cells = [c.text(skip={"form", "button", "select", "option"}).lower() for c in self.node.all() if c.tag in ("td", "th")]
        exact = {c for c in cells if c in STATUSES}
        found = exact or set(re.findall(r"\b(active|expired|revoked)\b", self.text.lower()))
        assert len(found) == 1, f"row {self.id} should show one status, shows {found}: {self.text!r}"
        return found.pop()


def token_rows(doc):
    table = doc.one(data_testid="tokens")
    return {tr.attrs["data-token-id"]: TokenRow(tr.attrs["data-token-id"], tr) for tr in table.all("tr", data_token_id=True)}


def alert_text(doc):
    alerts = [n.text() for n in doc.all(role="alert") if n.text()]
    assert alerts, "the page should explain the refusal in a role=alert box"
    return " ".join(alerts)


def location(resp):
    assert resp.status_code == 303, (resp.status_code, resp.text[:300])
    return resp.headers["location"]


def error_code(resp):
    loc = location(resp)
    assert urlsplit(loc).path == "/connect", loc
    return parse_qs(urlsplit(loc).query).get("error", [None])[0]


def shows_expiry_within(row, earliest, latest):
    """Whether a token row shows a moment in [earliest, latest]: a <time datetime>, an ISO-like
    or "31 Jan 2026 14:05" time (UTC), or a relative "in 2 hours" / "in 1 h 59 min"."""
    found = [parse_moment(t.attrs["datetime"]) for t in row.node.all("time", datetime=True)]
    for m in re.finditer(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?: ?(?:Z|UTC|[+-]\d{2}:?\d{2}))?", row.text):
        found.append(parse_moment(m.group()))
    for m in re.finditer(r"\b(\d{1,2} [A-Z][a-z]{2} \d{4}),? (\d{2}:\d{2})", row.text):
        found.append(datetime.strptime(f"{m.group(1)} {m.group(2)}", "%d %b %Y %H:%M").replace(tzinfo=timezone.utc))
    if any(t is not None and earliest - timedelta(minutes=1) <= t <= latest for t in found):
        return True
    now = datetime.now(timezone.utc)
    for m in re.finditer(r"\bin (?:about )?(?:(\d+) ?(?:hours?|h))?,? ?(?:(\d+) ?(?:minutes?|min|m))?\b", row.text):
        if m.group(1) or m.group(2):
            ahead = timedelta(hours=int(m.group(1) or 0), minutes=int(m.group(2) or 0))
            # Relative wording rounds: "in 1 hour" may stand for 1 h 59 min.
            if earliest - timedelta(hours=1) <= now + ahead <= latest + timedelta(minutes=1):
                return True
    return False


def parse_moment(text):
    text = text.strip().replace(" UTC", "Z").replace("UTC", "Z")
    if "T" not in text and " " in text:
        text = text.replace(" ", "T", 1)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def bearer_status(portal, token):
    return requests.get(portal.endpoint + "/shares", headers={"Authorization": f"Bearer {token}"}).status_code


def cli_token_list(portal, recipient):
    """`portal token list`: {id: (status, expires)} with expires as a datetime (None for "-")."""
    lines = portal.cli("token", "list", recipient).stdout.splitlines()[1:]
    out = {}
    for line in lines:
        parts = line.split()
        if len(parts) >= 4:
            out[parts[0]] = (parts[1], None if parts[3] == "-" else parse_moment(parts[3]))
    return out


def audited(portal, recipient, action):
    return [e for e in portal.audit(300) if e["action"] == action and e["actor"] == f"recipient:{recipient}"]


@dataclass
class Issued:
    token: str
    id: str
    location: str
    page: Node


def issue(partner, name, days=None):
    """Creates a token with the /connect form; returns it as the page shows it once."""
    doc = partner.browser.page()
    before = set(token_rows(doc))
    fields = {"csrf": csrf_of(doc), "name": name}
    if days is not None:
        fields["days"] = str(days)
    loc = location(partner.browser.post("/connect/tokens", fields))
    assert loc.startswith("/connect?issued="), loc
    shown = partner.browser.page(loc)
    new_token = shown.one("input", id="new-token")
    token = new_token.attrs.get("value", "")
    assert token.startswith("dss_") and "readonly" in new_token.attrs
    new_ids = set(token_rows(shown)) - before
    assert len(new_ids) == 1, f"one new row expected in the tokens table, got {new_ids}"
    return Issued(token, new_ids.pop(), loc, shown)


def profile_of(browser, link):
    """The .share profile behind the download link: a data: URL (base64 or percent-encoded)
    or a link the signed-in browser fetches."""
    href = link.attrs["href"]
    if href.startswith("data:"):
        meta, _, payload = href[5:].partition(",")
        data = base64.b64decode(unquote_to_bytes(payload)) if meta.endswith(";base64") else unquote_to_bytes(payload)
        return json.loads(data.decode("utf-8"))
    resp = browser.web.get(urljoin(browser.base, href))
    assert resp.status_code == 200, resp.status_code
    return resp.json()


# --- Power Query (M) --------------------------------------------------------------------------------

M_ESCAPES = {"cr": "\r", "lf": "\n", "tab": "\t", "#": "#"}


def m_string(text, i):
    """Reads the M text literal starting at text[i] == '"'; returns (value, index after it)."""
    assert text[i] == '"', text[i : i + 40]
    out, i = [], i + 1
    while True:
        c = text[i]
        if c == '"':
            if text.startswith('""', i):
                out.append('"')
                i += 2
                continue
            return "".join(out), i + 1
        if text.startswith("#(", i):
            end = text.index(")", i)
            codes = text[i + 2 : end].split(",")
            out.extend(M_ESCAPES.get(code.strip().lower()) or chr(int(code.strip(), 16)) for code in codes)
            i = end + 1
            continue
        out.append(c)
        i += 1


def m_record(text, i):
    """Reads an M record of text (or list-of-text) fields starting at text[i] == '['; returns
    ([(name, value)...] with a list's items as repeated names, index after it)."""
    assert text[i] == "[", text[i : i + 40]
    fields, i = [], i + 1
    ident = re.compile(r"[A-Za-z_][\w.]*")
    while True:
        while text[i].isspace() or text[i] == ",":
            i += 1
        if text[i] == "]":
            return fields, i + 1
        if text.startswith('#"', i):
            name, i = m_string(text, i + 1)
        else:
            m = ident.match(text, i)
            assert m, f"unexpected M at {text[i:i+40]!r}"
            name, i = m.group(), m.end()
        i = re.compile(r"\s*=\s*").match(text, i).end()
        if text[i] == '"':
            value, i = m_string(text, i)
            fields.append((name, value))
        elif text[i] == "{":
            i += 1
            while True:
                while text[i].isspace() or text[i] == ",":
                    i += 1
                if text[i] == "}":
                    i += 1
                    break
                value, i = m_string(text, i)
                fields.append((name, value))
        else:
            raise AssertionError(f"unexpected M value at {text[i:i+40]!r}")


@dataclass
class PowerQuery:
    token: str
    url: str
    query: list


def read_power_query(m):
    """What Excel would do with this M: its token line, the URL and the Query record."""
    token = re.search(r'\bToken\s*=\s*"', m)
    source = re.search(r'Web\.Contents\(\s*"', m)
    assert token and source and token.start() < source.start(), m
    token_value, _ = m_string(m, token.end() - 1)
    url, _ = m_string(m, source.end() - 1)
    relative = re.search(r'\bRelativePath\s*=\s*"', m)
    if relative:
        url = url.rstrip("/") + "/" + m_string(m, relative.end() - 1)[0].lstrip("/")
    query = re.search(r"\bQuery\s*=\s*\[", m)
    assert query, m
    fields, _ = m_record(m, query.end() - 1)
    assert re.search(r'\bAuthorization"?\s*=\s*"Bearer "\s*&\s*Token\b', m), "the request sends the token as a Bearer header"
    return PowerQuery(token_value, url, fields)


def power_queries(doc):
    """The page's Power Queries: code boxes (textarea or pre) holding `Web.Contents(`."""
    boxes = [n.raw_text() for n in doc.iter() if n.tag in ("textarea", "pre") and "Web.Contents(" in n.raw_text()]
    assert boxes, "the page should show a Power Query"
    return [read_power_query(m) for m in boxes]


def run_power_query(pq, auth):
    resp = requests.get(pq.url, params=pq.query, **auth)
    assert resp.status_code == 200, (resp.status_code, resp.text[:300])
    return list(csv.reader(io.StringIO(resp.content.decode("utf-8"))))


# --- Tests ------------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(portal):
    resp = Browser(portal.base).get("/connect")
    assert resp.status_code == 302
    loc = urlsplit(resp.headers["location"])
    assert loc.path == "/login" and parse_qs(loc.query)["next"] == ["/connect"]


def test_page_shows_endpoint_tokens_policy_and_guides(portal, partner):
    doc = partner.browser.page()
    endpoint = doc.one("input", id="endpoint")
    assert endpoint.attrs["value"] == portal.endpoint and "readonly" in endpoint.attrs
    assert any("Copy" in b.text() for b in doc.all("button")), "a Copy button beside the endpoint"
    rows = token_rows(doc)
    assert list(rows) == [partner.token_id], "only this recipient's token is listed"
    mine = rows[partner.token_id]
    assert mine.status == "active" and "this browser" in mine.text.lower()
    text = doc.text()
    assert re.search(r"at most 5 active tokens", text, re.I) and re.search(r"\b365 days\b", text), "the default policy is stated"
    for guide in ("Power BI", "Tableau", "pandas", "Spark", "Power Query"):
        assert guide in text, guide
    assert portal.endpoint in text, "the guides are prefilled with the endpoint"
    assert re.search(r"wholesale\.commerce\.(sales|stock)", text), "the guides use a table this partner really has"
    assert "connected_retail" not in text and "partner_program" not in text, "no table of someone else's grants"
    assert all(pq.token == PLACEHOLDER for pq in power_queries(doc)), "without a new token the Power Query asks for one"


def test_create_shows_the_token_once_with_a_working_profile(portal, partner, tmp_path):
    name = 'Excel <refresh> & "co"'
    issued = issue(partner, name, days=30)
    assert issued.token not in issued.location, "the token never travels in a URL"
    rows = token_rows(issued.page)
    row = rows[issued.id]
    assert name in row.text and row.status == "active" and "this browser" not in row.text.lower()
    assert "this browser" in rows[partner.token_id].text.lower()
    # The downloadable profile is a v1 profile of this very token, and the official client reads with it.
    link = issued.page.one("a", data_testid="download-profile")
    assert link.attrs.get("download") == "config.share"
    profile = profile_of(partner.browser, link)
    assert profile["shareCredentialsVersion"] == 1 and profile["endpoint"] == portal.endpoint
    assert profile["bearerToken"] == issued.token
    expires = parse_moment(profile["expirationTime"])
    assert abs(expires - (datetime.now(timezone.utc) + timedelta(days=30))) < timedelta(hours=1), profile["expirationTime"]
    path = tmp_path / "config.share"
    path.write_text(json.dumps(profile))
    tables = {(t.share, t.schema, t.name) for t in delta_sharing.SharingClient(str(path)).list_all_tables()}
    assert tables == {("wholesale", "commerce", "sales"), ("wholesale", "commerce", "stock")}
    # The page's Power Query carries the new token and works as pasted.
    pq = next((pq for pq in power_queries(issued.page) if pq.token == issued.token), None)
    assert pq, "the Power Query is prefilled with the new token"
    got = run_power_query(pq, {"headers": {"Authorization": f"Bearer {pq.token}"}})
    assert len(got) > 1 and len(got[0]) > 1
    # The token works at once; a reload no longer shows it.
    assert bearer_status(portal, issued.token) == 200
    listed = requests.get(portal.endpoint + "/shares", headers={"Authorization": f"Bearer {issued.token}"}).json()
    assert [s["name"] for s in listed["items"]] == ["wholesale"]
    again = partner.browser.get(issued.location)
    assert again.status_code == 200
    reloaded = parse_html(again.text)
    assert reloaded.first(id="new-token") is None and reloaded.first(data_testid="download-profile") is None
    assert issued.token not in again.text
    assert issued.id in token_rows(reloaded), "the token stays listed, without its secret"
    [event] = [e for e in audited(portal, partner.name, "connect.createToken")]
    assert event["status"] in (200, 201, 303)


def test_rotate_without_overlap_stops_the_old_token_now(portal, partner):
    old = issue(partner, "Power BI refresh")
    loc = location(partner.browser.submit(f"/connect/tokens/{old.id}/rotate", {"overlap_hours": "0"}))
    assert loc.startswith("/connect?issued="), loc
    shown = partner.browser.page(loc)
    new = shown.one("input", id="new-token").attrs["value"]
    assert new.startswith("dss_") and new != old.token
    assert bearer_status(portal, old.token) == 401
    assert bearer_status(portal, new) == 200
    rows = token_rows(shown)
    [new_id] = set(rows) - {old.id, partner.token_id}
    assert "Power BI refresh" in rows[new_id].text and rows[new_id].status == "active"
    assert rows[old.id].status == "expired"
    assert audited(portal, partner.name, "connect.rotateToken")


def test_rotate_with_overlap_keeps_the_old_token_for_that_long(portal, partner):
    old = issue(partner, "Tableau extract")
    before = datetime.now(timezone.utc)
    loc = location(partner.browser.submit(f"/connect/tokens/{old.id}/rotate", {"overlap_hours": "2"}))
    after = datetime.now(timezone.utc)
    shown = partner.browser.page(loc)
    new = shown.one("input", id="new-token").attrs["value"]
    assert bearer_status(portal, old.token) == 200 and bearer_status(portal, new) == 200
    rows = token_rows(shown)
    assert rows[old.id].status == "active"
    window = (before + timedelta(hours=2) - timedelta(minutes=2), after + timedelta(hours=2) + timedelta(minutes=2))
    status, expires = cli_token_list(portal, partner.name)[old.id]
    assert status == "active" and window[0] <= expires <= window[1], expires
    assert shows_expiry_within(rows[old.id], *window), f"the old token's row should show it expiring in about 2 hours: {rows[old.id].text!r}"
    # More than a week of overlap is refused and changes nothing.
    refused = partner.browser.submit(f"/connect/tokens/{old.id}/rotate", {"overlap_hours": "169"})
    assert refused.status_code == 400 or error_code(refused) is not None, refused.status_code
    assert set(token_rows(partner.browser.page())) == set(rows)
    assert bearer_status(portal, old.token) == 200


def test_revoke_stops_the_token_at_once(portal, partner):
    issued = issue(partner, "Spark job")
    assert bearer_status(portal, issued.token) == 200
    loc = location(partner.browser.submit(f"/connect/tokens/{issued.id}/revoke", {}))
    assert loc == "/connect?revoked=1"
    assert bearer_status(portal, issued.token) == 401
    rows = token_rows(partner.browser.page())
    assert rows[issued.id].status == "revoked"
    assert rows[partner.token_id].status == "active", "the browser's own token is untouched"
    assert cli_token_list(portal, partner.name)[issued.id][0] == "revoked"
    again = partner.browser.submit(f"/connect/tokens/{issued.id}/revoke", {})
    assert error_code(again) == "revoked"
    assert audited(portal, partner.name, "connect.revokeToken")


def test_forms_without_the_form_token_change_nothing(portal, partner):
    issued = issue(partner, "keep me")
    before = {i: r.status for i, r in token_rows(partner.browser.page()).items()}
    # No form token, a made-up one, and one from another browser's page.
    stranger = Browser(portal.base)
    foreign = re.search(r'name="csrf" value="([^"]+)"', stranger.get("/login").text).group(1)
    for csrf in (None, "forged", foreign):
        extra = {} if csrf is None else {"csrf": csrf}
        assert error_code(partner.browser.post("/connect/tokens", {**extra, "name": "sneaky"})) == "form"
        assert error_code(partner.browser.post(f"/connect/tokens/{issued.id}/rotate", {**extra, "overlap_hours": "0"})) == "form"
        assert error_code(partner.browser.post(f"/connect/tokens/{issued.id}/revoke", extra)) == "form"
    after = {i: r.status for i, r in token_rows(partner.browser.page()).items()}
    assert after == before
    assert bearer_status(portal, issued.token) == 200 and bearer_status(portal, partner.token) == 200
    assert alert_text(partner.browser.page("/connect?error=form", refusal=True))


def test_tokens_of_other_recipients_are_not_found(portal, partner, new_partner):
    other = new_partner()
    theirs = issue(other, "theirs")
    mine_before = {i: r.status for i, r in token_rows(partner.browser.page()).items()}
    theirs_before = {i: r.status for i, r in token_rows(other.browser.page()).items()}
    for victim in (theirs.id, other.token_id, "0000000000000000"):
        assert partner.browser.submit(f"/connect/tokens/{victim}/rotate", {"overlap_hours": "0"}).status_code == 404
        assert partner.browser.submit(f"/connect/tokens/{victim}/revoke", {}).status_code == 404
    assert bearer_status(portal, theirs.token) == 200 and bearer_status(portal, other.token) == 200
    assert {i: r.status for i, r in token_rows(other.browser.page()).items()} == theirs_before
    assert {i: r.status for i, r in token_rows(partner.browser.page()).items()} == mine_before


def test_bad_names_and_days_are_refused(portal, partner):
    doc = partner.browser.page()
    before = set(token_rows(doc))
    cases = [({"name": ""}, "name"), ({"name": "x" * 61}, "name"), ({"name": "ok", "days": "366"}, "days"), ({"name": "ok", "days": "0"}, "days"), ({"name": "ok", "days": "soon"}, "days")]
    for fields, code in cases:
        assert error_code(partner.browser.submit("/connect/tokens", fields)) == code, fields
    assert set(token_rows(partner.browser.page())) == before
    assert alert_text(partner.browser.page("/connect?error=name", refusal=True))
    assert alert_text(partner.browser.page("/connect?error=days", refusal=True))
    # Exactly 60 characters and exactly the longest lifetime are fine.
    issue(partner, "y" * 60, days=365)
    # The admin narrows this partner's lifetime: the page says so and the form keeps to it.
    out = portal.cli("recipient", "policy", partner.name, "--max-token-days", "7").stdout
    assert "max_token_days=7" in out
    assert re.search(r"\b7 days\b", partner.browser.page().text())
    assert error_code(partner.browser.submit("/connect/tokens", {"name": "a week and a day", "days": "8"})) == "days"
    week = issue(partner, "a week", days=7)
    assert bearer_status(portal, week.token) == 200


def test_active_token_limit(portal, partner):
    out = portal.cli("recipient", "policy", partner.name, "--max-active-tokens", "2").stdout
    assert "max_active_tokens=2" in out
    assert re.search(r"at most 2 active tokens", partner.browser.page().text(), re.I)
    second = issue(partner, "second")  # the browser's own token is the first
    before = set(token_rows(partner.browser.page()))
    refused = partner.browser.submit("/connect/tokens", {"name": "third"})
    assert error_code(refused) == "limit"
    assert re.search(r"at most 2 active tokens", alert_text(partner.browser.page(location(refused), refusal=True)), re.I)
    assert set(token_rows(partner.browser.page())) == before
    # Revoking one frees its place.
    location(partner.browser.submit(f"/connect/tokens/{second.id}/revoke", {}))
    third = issue(partner, "third")
    assert bearer_status(portal, third.token) == 200


def test_revoking_this_browsers_token_signs_it_out(portal, partner):
    assert "this browser" in token_rows(partner.browser.page())[partner.token_id].text.lower()
    loc = urlsplit(location(partner.browser.submit(f"/connect/tokens/{partner.token_id}/revoke", {})))
    assert loc.path == "/login" and parse_qs(loc.query)["error"] == ["revoked"]
    assert partner.browser.get("/connect").status_code == 302
    assert bearer_status(portal, partner.token) == 401
    api = partner.browser.web.get(portal.base + "/api/v1/shares/wholesale/schemas/commerce/tables/sales/rows?_size=1")
    assert api.status_code == 401


def test_power_query_on_the_table_page_loads_the_filtered_view(portal, partner, sales_p001):
    doc = partner.browser.page("/shares/wholesale/commerce/sales?country=DE&units__gt=3&_nocol=sku&_sort_desc=revenue")
    box = doc.one("details", data_testid="power-query")
    m = box.one(id="power-query-m").raw_text()
    pq = read_power_query(m)
    assert pq.token == PLACEHOLDER, "the page does not know the token; the partner pastes it"
    assert "?" not in pq.url, "a static base URL, so Excel and Power BI can refresh it"
    assert pq.url.startswith(portal.base) and pq.url.endswith("/export.csv")
    assert ("_dialect", "plain") in pq.query
    # The partner pastes a token into the first line; Excel sends it as Bearer (or Basic).
    pasted = read_power_query(m.replace(PLACEHOLDER, partner.token))
    assert pasted.token == partner.token
    want = sales_p001[(sales_p001.country == "DE") & (sales_p001.units > 3)]
    bearer = run_power_query(pasted, {"headers": {"Authorization": f"Bearer {pasted.token}"}})
    basic = run_power_query(pasted, {"auth": ("excel", pasted.token)})
    assert sorted(basic) == sorted(bearer), "Basic with the token as password reads the same rows"
    header, rows = bearer[0], bearer[1:]
    assert "sku" not in header and header[:2] == ["partner_id", "order_id"]
    col = {name: i for i, name in enumerate(header)}
    assert len(rows) == len(want) > 100
    assert {r[col["order_id"]] for r in rows} == set(want.order_id)
    assert {r[col["country"]] for r in rows} == {"DE"} and all(int(r[col["units"]]) > 3 for r in rows)
    revenues = [float(r[col["revenue"]]) for r in rows]
    assert revenues == sorted(revenues, reverse=True)
    # Without the token, nothing.
    assert requests.get(pasted.url, params=pasted.query).status_code == 401


def test_filter_values_cannot_break_out_of_the_power_query(portal, partner):
    """Filter values come from the URL and end up in the M text: they are text, never markup."""
    evil = "</pre></textarea><script>alert(1)</script>"
    resp = partner.browser.get("/shares/wholesale/commerce/sales?" + urlencode({"country": evil}))
    assert resp.status_code == 200
    assert "<script>alert(1)</script>" not in resp.text, "a filter value was rendered as markup"
    doc = parse_html(resp.text)
    m = doc.one("details", data_testid="power-query").one(id="power-query-m").raw_text()
    # In M the value is one string literal: the quotes around it are the only ones.
    assert '#"country__exact" = "</pre></textarea><script>alert(1)</script>"' in m or '#"country" = "</pre></textarea><script>alert(1)</script>"' in m, m
