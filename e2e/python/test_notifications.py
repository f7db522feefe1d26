"""Notifications and scheduled deliveries, received by a real SMTP server (aiosmtpd) the tests
start: contacts on a recipient (admin API, console, CLI) get an e-mail when tables are shared,
when a token or activation link is about to expire (14 and 3 days, once each) and when a
scheduled delivery of a saved view is ready, with a signed link to the file that opens the
sign-in page first when needed. Each contact can decline a kind by the link in the e-mail.
The clock is moved by running the scheduler at a given instant (`portal deliveries run --at`)."""
import csv
import email
import hashlib
import hmac
import io
import json
import re
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pyarrow as pa
import pytest
import requests
from aiosmtpd.controller import Controller
from deltalake import DeltaTable, write_deltalake

from admin import AdminApi, admin_session, bearer, error_of, forms_of, partner_session, partner_token
from conftest import Portal, free_port


class Inbox:
    """What the SMTP server received, as parsed messages."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    def to(self, address, subject_part, deadline=60):
        """The first e-mail to `address` whose subject holds `subject_part`, waiting for it."""
        end = time.monotonic() + deadline
        while True:
            with self.lock:
                found = [m for rcpts, m in self.messages if address in rcpts and subject_part in m["subject"]]
            if found:
                return found[0]
            assert time.monotonic() < end, f"no e-mail to {address} about {subject_part!r}; got {self.subjects()}"
            time.sleep(0.2)

    def count(self, address, subject_part):
        with self.lock:
            return len([m for rcpts, m in self.messages if address in rcpts and subject_part in m["subject"]])

    def subjects(self):
        with self.lock:
            return [(r, m["subject"]) for r, m in self.messages]


@pytest.fixture(scope="module")
def inbox():
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


@pytest.fixture(scope="module")
def mailing(inbox, tmp_path_factory):
    root = tmp_path_factory.mktemp("mailing")
    p = Portal(root, free_port(), extra_env={
        "PORTAL_SMTP_HOST": "127.0.0.1",
        "PORTAL_SMTP_PORT": str(inbox.port),
        "PORTAL_SMTP_TLS": "none",
        "PORTAL_SMTP_FROM": "Partner Data Portal <data@retailer.example>",
        # The tests' webhook receiver listens on 127.0.0.1 over plain http.
        "PORTAL_WEBHOOK_ALLOW_PRIVATE": "1",
    })
    p.cli("demo")
    p.start()
    yield p
    p.stop()


def new_recipient(portal, *contacts):
    name = f"mail_{uuid.uuid4().hex[:8]}"
    portal.cli("recipient", "create", name, "--property", "partner_id=P001")
    api = AdminApi.platform(portal)
    for address in contacts:
        api.ok("POST", f"/recipients/{name}/contacts", {"email": address}, status=201)
    return name


def body_of(message):
    return message.get_body(preferencelist=("plain",)).get_content()


def link_in(message, path):
    found = re.search(r"(http://\S+" + re.escape(path) + r"\S*)", body_of(message))
    assert found, body_of(message)
    return found.group(1)


def test_contacts_hear_of_shared_tables_and_each_can_decline_that_kind(mailing, inbox):
    first, second = f"ana-{uuid.uuid4().hex[:6]}@acme.example", f"ben-{uuid.uuid4().hex[:6]}@acme.example"
    name = new_recipient(mailing, first)
    done = mailing.cli("recipient", "contact", name, second, "--name", "Ben")
    assert done.stdout.strip() == f"{second} is a contact of {name}"
    mailing.cli("grant", "wholesale", name)

    shared = inbox.to(first, "New data shared with you: wholesale")
    assert shared["From"] == "Partner Data Portal <data@retailer.example>"
    assert "wholesale.commerce.sales" in body_of(shared) and mailing.base in body_of(shared)
    inbox.to(second, "New data shared with you: wholesale")

    # The first contact declines news of shared tables: a page with one button, then done.
    opt_out = link_in(shared, "/notifications/opt-out")
    page = requests.get(opt_out)
    assert page.status_code == 200 and "Stop these e-mails" in page.text and first in page.text
    forged = requests.post(opt_out.replace("sig=", "sig=x"))
    assert forged.status_code == 404
    detail = AdminApi.platform(mailing).ok("GET", f"/recipients/{name}")
    assert [c["optedOut"] for c in detail["contacts"] if c["email"] == first] == [[]], "a forged link changes nothing"
    [form] = forms_of(page.text)
    stopped = requests.post(mailing.base + form["action"].replace("&amp;", "&"))
    assert stopped.status_code == 200 and "will no longer get e-mails about tables newly shared" in stopped.text
    detail = AdminApi.platform(mailing).ok("GET", f"/recipients/{name}")
    assert {c["email"]: c["optedOut"] for c in detail["contacts"]} == {first: ["new-table"], second: []}

    # A table added to the share now: only the second contact hears of it.
    api = AdminApi.platform(mailing)
    api.ok("POST", "/shares/wholesale/tables", {"schema": f"more_{uuid.uuid4().hex[:4]}", "name": "sales", "history": True,
                                                 "location": str(mailing.data_dir / "demo" / "sales"), "scope": "partner_id=partner_id"})
    inbox.to(second, "New data shared with you: wholesale.more_")
    time.sleep(3)
    assert inbox.count(first, "wholesale.more_") == 0
    sent = api.ok("GET", f"/recipients/{name}")["notifications"]
    assert {(n["to"], n["status"]) for n in sent if "wholesale.more_" in n["subject"]} == {(second, "sent")}
    audit = [e for e in mailing.audit(300) if e["action"] == "admin.addContact" and e.get("recipient") == name]
    assert len(audit) == 2


def test_contacts_are_checked_and_private_to_their_team(mailing):
    name = new_recipient(mailing)
    api = AdminApi.platform(mailing)
    error_of(api.post(f"/recipients/{name}/contacts", {"email": "not an address"}), 400, field="email")
    api.ok("POST", f"/recipients/{name}/contacts", {"email": "Sam@Acme.example", "name": "Sam"}, status=201)
    error_of(api.post(f"/recipients/{name}/contacts", {"email": "sam@acme.example"}), 409)
    error_of(api.post(f"/recipients/{name}/contacts", {"email": "a@b.example", "phone": "1"}), 400)
    other = AdminApi.team(mailing, f"mailteam_{uuid.uuid4().hex[:6]}")
    error_of(other.post(f"/recipients/{name}/contacts", {"email": "x@y.example"}), 404)
    [contact] = api.ok("GET", f"/recipients/{name}")["contacts"]
    error_of(other.delete(f"/recipients/{name}/contacts/{contact['id']}"), 404)
    assert api.ok("DELETE", f"/recipients/{name}/contacts/{contact['id']}")["contacts"] == []
    bad = mailing.cli("recipient", "contact", name, "nobody", check=False)
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1 and "e-mail address" in bad.stderr


def test_the_console_adds_and_removes_contacts_without_javascript(mailing):
    name = new_recipient(mailing)
    web = admin_session(mailing)
    page = f"/admin/recipients/{name}"
    [form] = [f for f in forms_of(web.get(mailing.base + page).text) if f["action"] == f"{page}/contacts"]
    done = web.post(mailing.base + form["action"], data={**form["fields"], "email": "desk@acme.example", "contact_name": "Desk"}, allow_redirects=False)
    shown = web.get(mailing.base + done.headers["location"]).text
    assert "desk@acme.example will get the portal&#x27;s e-mails." in shown or "desk@acme.example will get the portal's e-mails." in shown
    assert "Desk &lt;desk@acme.example&gt;" in shown
    [remove] = [f for f in forms_of(shown) if f["action"].endswith("/remove") and "/contacts/" in f["action"]]
    done = web.post(mailing.base + remove["action"], data=remove["fields"], allow_redirects=False)
    assert "Contact removed." in web.get(mailing.base + done.headers["location"]).text
    assert AdminApi.platform(mailing).ok("GET", f"/recipients/{name}")["contacts"] == []


def test_tokens_and_links_about_to_expire_are_reminded_at_14_and_3_days_once_each(mailing, inbox):
    address = f"ops-{uuid.uuid4().hex[:6]}@acme.example"
    name = new_recipient(mailing, address)
    token_id = mailing.cli("token", "create", name, "--ttl-days", "20", "--name", "Power BI refresh").stdout.strip().splitlines()[-1]
    now = datetime.now(timezone.utc)
    at = lambda days: (now + timedelta(days=days)).isoformat(timespec="seconds")  # noqa: E731

    mailing.cli("reminders", "run", "--at", at(1))
    time.sleep(2)
    assert inbox.count(address, "expires on") == 0, "20 days ahead: no reminder yet"
    mailing.cli("reminders", "run", "--at", at(7))
    reminder = inbox.to(address, "token \"Power BI refresh\"")
    assert token_id in reminder["subject"] and "/connect" in body_of(reminder)
    mailing.cli("reminders", "run", "--at", at(8))
    mailing.cli("reminders", "run", "--at", at(18))
    end = time.monotonic() + 30
    while inbox.count(address, "Power BI refresh") < 2 and time.monotonic() < end:
        time.sleep(0.2)
    mailing.cli("reminders", "run", "--at", at(19))
    time.sleep(3)
    assert inbox.count(address, "Power BI refresh") == 2, inbox.subjects()

    # An activation link not opened yet: 72 hours is inside the 3-day window at once.
    mailing.cli("activation-link", name, "--ttl-hours", "72")
    mailing.cli("reminders", "run")
    inbox.to(address, "activation link expires")


@pytest.fixture(scope="module")
def orders(mailing, tmp_path_factory):
    """A table with its change feed, shared with history and scoped by partner_id."""
    where = tmp_path_factory.mktemp("delivered") / "orders"
    frame = lambda partner, ids: pa.table({"partner_id": [partner] * len(ids), "id": pa.array(ids, pa.int64())})  # noqa: E731
    write_deltalake(str(where), pa.concat_tables([frame("P001", [1, 2]), frame("P002", [1])]), partition_by=["partner_id"],
                    configuration={"delta.enableChangeDataFeed": "true"})
    share = f"deliver_{uuid.uuid4().hex[:6]}"
    mailing.cli("share", "create", share)
    mailing.cli("table", "add", f"{share}.s.orders", "--location", str(where), "--history", "--scope", "partner_id=partner_id")
    return share, where, frame


def test_a_weekly_delivery_of_changes_fires_when_the_clock_reaches_it(mailing, inbox, orders):
    share, where, frame = orders
    address = f"buyer-{uuid.uuid4().hex[:6]}@acme.example"
    name = new_recipient(mailing, address)
    mailing.cli("grant", share, name)
    headers = bearer(partner_token(mailing, name)[0])
    saved = requests.post(f"{mailing.base}/api/v1/views", headers=headers,
                          json={"share": share, "schema": "s", "table": "orders", "view": "_sort=id", "name": "Weekly orders"})
    assert saved.status_code == 201, saved.text
    view_id = saved.json()["id"]

    # Scheduled with the table page's own form: Mondays, 06:00 UTC, changes, CSV.
    web = partner_session(mailing, name)
    table_page = web.get(f"{mailing.base}/shares/{share}/s/orders?_sort=id").text
    [form] = [f for f in forms_of(table_page) if f["action"] == f"/views/{view_id}/delivery"]
    fields = {**form["fields"], "schedule": "weekly", "weekday": "monday", "hour": "6", "content": "changes", "format": "csv"}
    resp = web.post(mailing.base + form["action"], data=fields, allow_redirects=False)
    assert resp.status_code == 303 and "_saved=delivery#" in resp.headers["location"], resp.headers["location"]
    listed = web.get(f"{mailing.base}/shares/{share}/s/orders?_sort=id").text
    assert "Delivered: Every Monday at 06:00 UTC: the changes since the last delivery, as CSV" in listed
    delivery = requests.get(f"{mailing.base}/api/v1/views/{view_id}", headers=headers).json()["delivery"]
    next_at = datetime.fromisoformat(delivery["next_at"].replace("Z", "+00:00"))
    assert next_at.weekday() == 0 and (next_at.hour, next_at.minute) == (6, 0) and next_at > datetime.now(timezone.utc)

    # A minute before its time nothing starts; at its time the first delivery holds the whole view.
    before = (next_at - timedelta(minutes=1)).isoformat()
    assert mailing.cli("deliveries", "run", "--at", before).stdout.startswith("started 0 deliveries")
    assert mailing.cli("deliveries", "run", "--at", next_at.isoformat()).stdout.startswith("started 1 deliveries")
    ready = inbox.to(address, "Your delivery \"Weekly orders\" is ready")
    link = link_in(ready, "/deliveries/")

    # Not signed in: the link opens the sign-in page, and comes back to the file after it.
    stranger = requests.get(link, allow_redirects=False)
    assert stranger.status_code == 303 and urlsplit(stranger.headers["location"]).path == "/login"
    got = web.get(link)
    assert got.status_code == 200, got.text[:300]
    rows = list(csv.DictReader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert [(r["partner_id"], r["id"]) for r in rows] == [("P001", "1"), ("P001", "2")]
    assert requests.get(link.replace("sig=", "sig=0"), allow_redirects=False).status_code == 410

    # A week later: only what changed since, with the change columns.
    write_deltalake(str(where), pa.concat_tables([frame("P001", [3]), frame("P002", [2])]), mode="append")
    DeltaTable(str(where)).delete("partner_id = 'P001' AND id = 1")
    week_later = (next_at + timedelta(days=7)).isoformat()
    assert mailing.cli("deliveries", "run", "--at", week_later).stdout.startswith("started 1 deliveries")
    end = time.monotonic() + 60
    while inbox.count(address, "Weekly orders") < 2:
        assert time.monotonic() < end, inbox.subjects()
        time.sleep(0.2)
    second = [m for r, m in inbox.messages if address in r and "Weekly orders" in m["subject"]][-1]
    changes = list(csv.DictReader(io.StringIO(web.get(link_in(second, "/deliveries/")).content.decode("utf-8-sig"))))
    assert sorted((r["id"], r["_change_type"]) for r in changes) == [("1", "delete"), ("3", "insert")]
    assert {r["partner_id"] for r in changes} == {"P001"}, "the recipient's scope holds for deliveries"

    # Stopped: nothing runs at the next Monday.
    [stop] = [f for f in forms_of(web.get(f"{mailing.base}/shares/{share}/s/orders?_sort=id").text) if f["action"] == f"/views/{view_id}/delivery/delete"]
    assert "_saved=delivery_stopped" in web.post(mailing.base + stop["action"], data=stop["fields"], allow_redirects=False).headers["location"]
    assert mailing.cli("deliveries", "run", "--at", (next_at + timedelta(days=14)).isoformat()).stdout.startswith("started 0 deliveries")


def schedule_by_form(portal, name, share, schema="s", table="orders"):
    """Saves a view of `name` and schedules it daily with the table page's form: the note the
    redirect carries, and the page it leads to."""
    headers = bearer(partner_token(portal, name)[0])
    view_id = requests.post(f"{portal.base}/api/v1/views", headers=headers,
                            json={"share": share, "schema": schema, "table": table, "view": "", "name": "Daily"}).json()["id"]
    web = partner_session(portal, name)
    page = web.get(f"{portal.base}/shares/{share}/{schema}/{table}").text
    [form] = [f for f in forms_of(page) if f["action"] == f"/views/{view_id}/delivery"]
    resp = web.post(portal.base + form["action"], data={**form["fields"], "schedule": "daily", "hour": "5"}, allow_redirects=False)
    assert resp.status_code == 303, resp.text
    location = resp.headers["location"]
    return re.search(r"_saved=([a-z_]+)", location).group(1), web.get(portal.base + location).text


def test_scheduling_says_whether_the_files_will_be_e_mailed(portal, mailing, orders):
    share, _, _ = orders
    lonely = new_recipient(mailing)
    mailing.cli("grant", share, lonely)
    note, page = schedule_by_form(mailing, lonely, share)
    assert note == "delivery_no_contacts"
    assert "no e-mail goes out, as your organisation has no contact for deliveries yet" in page

    reached = new_recipient(mailing, f"buyer-{uuid.uuid4().hex[:6]}@acme.example")
    mailing.cli("grant", share, reached)
    note, page = schedule_by_form(mailing, reached, share)
    assert note == "delivery" and "Each file is e-mailed to your organisation&#39;s contacts" in page.replace("'", "&#39;")

    # A portal without a mail server says so, contacts or not.
    unmailed = new_recipient(portal, "buyer@acme.example")
    portal.cli("grant", "wholesale", unmailed)
    note, page = schedule_by_form(portal, unmailed, "wholesale", "commerce", "sales")
    assert note == "delivery_no_mail" and "(this portal sends no e-mail)" in page


def test_bad_delivery_settings_are_clear_400s(mailing, orders):
    share, _, _ = orders
    name = new_recipient(mailing)
    mailing.cli("grant", share, name)
    headers = bearer(partner_token(mailing, name)[0])
    view_id = requests.post(f"{mailing.base}/api/v1/views", headers=headers,
                            json={"share": share, "schema": "s", "table": "orders", "view": "", "name": "All"}).json()["id"]
    url = f"{mailing.base}/api/v1/views/{view_id}/delivery"
    for body, field in [({"schedule": "hourly"}, "schedule"), ({"schedule": "weekly", "weekday": "someday"}, "weekday"),
                        ({"schedule": "daily", "hour": 24}, "hour"), ({"schedule": "daily", "content": "some"}, "content"),
                        ({"schedule": "daily", "format": "pdf"}, "format")]:
        error_of(requests.put(url, headers=headers, json=body), 400, field=field)
    error_of(requests.put(url, headers=headers, json={"schedule": "daily", "when": "now"}), 400)
    ok = requests.put(url, headers=headers, json={"schedule": "version", "format": "xlsx"})
    assert ok.status_code == 200 and ok.json()["delivery"]["schedule"] == "version", ok.text
    # Saving again changes the one delivery in place.
    again = requests.put(url, headers=headers, json={"schedule": "daily", "hour": 7, "format": "csv"})
    assert again.status_code == 200, again.text
    delivery = again.json()["delivery"]
    assert (delivery["schedule"], delivery["hour"], delivery["format"]) == ("daily", 7, "csv")
    assert "T07:00:00" in delivery["next_at"], delivery
    listed = requests.get(f"{mailing.base}/api/v1/views/{view_id}", headers=headers).json()
    assert listed["delivery"]["schedule"] == "daily", listed
    other = new_recipient(mailing)
    mailing.cli("grant", share, other)
    assert requests.put(url, headers=bearer(partner_token(mailing, other)[0]), json={"schedule": "daily"}).status_code == 404


class Receiver:
    """A real HTTP server that records what the portal POSTs; `fail` answers 500 instead."""

    def __init__(self):
        self.requests = []
        self.fail = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's hook name)
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                receiver.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(500 if receiver.fail else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, path, event, deadline=60):
        end = time.monotonic() + deadline
        while True:
            found = [(h, b) for p, h, b in self.requests if p == path and json.loads(b)["event"] == event]
            if found:
                return found[0]
            assert time.monotonic() < end, f"no {event} at {path}; got {[(p, b[:80]) for p, _, b in self.requests]}"
            time.sleep(0.2)


@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


def verified(headers, body, secret):
    """Checks X-Portal-Signature as a partner's receiver would."""
    stamp, given = dict(part.split("=", 1) for part in headers["x-portal-signature"].split(",")).values()
    expected = hmac.new(secret.encode(), f"{stamp}.{body}".encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, given), "the signature checks out with the webhook's secret"
    assert abs(int(stamp) - time.time()) < 300
    return json.loads(body)


def test_a_webhook_added_on_the_connect_page_gets_signed_events_and_logs_failures(mailing, receiver):
    name = new_recipient(mailing)
    web = partner_session(mailing, name)
    page = web.get(mailing.base + "/connect").text
    [form] = [f for f in forms_of(page) if f["action"] == "/connect/webhooks"]
    path = f"/hooks/{uuid.uuid4().hex[:6]}"
    resp = web.post(mailing.base + "/connect/webhooks", data={**form["fields"], "name": "Orders pipeline", "url": receiver.url + path}, allow_redirects=False)
    assert resp.status_code == 303 and "webhook=added" in resp.headers["location"], resp.headers["location"]
    page = web.get(mailing.base + "/connect").text
    secret = re.search(r'id="webhook-secret-[^"]+"[^>]*value="(whsec_[0-9a-f]{64})"', page) or re.search(r'value="(whsec_[0-9a-f]{64})"[^>]*id="webhook-secret-', page)
    assert secret, "the page shows the webhook's signing secret"
    secret = secret.group(1)

    [test] = [f for f in forms_of(page) if f["action"].endswith("/test")]
    web.post(mailing.base + test["action"], data=test["fields"], allow_redirects=False)
    headers, body = receiver.wait(path, "ping")
    event = verified(headers, body, secret)
    assert event["recipient"] == name and headers["x-portal-event"] == "ping" and headers["x-portal-delivery"]

    # A receiver that fails: the delivery is kept for another try, with the reason in the log.
    receiver.fail = True
    try:
        web.post(mailing.base + test["action"], data=test["fields"], allow_redirects=False)
        end = time.monotonic() + 30
        while True:
            hooks = requests.get(mailing.base + "/api/v1/webhooks", headers=bearer(partner_token(mailing, name)[0])).json()["items"]
            log = hooks[0]["deliveries"]
            if log[0]["error"]:
                break
            assert time.monotonic() < end, log
            time.sleep(0.3)
        assert (log[0]["status"], log[0]["attempts"], log[0]["error"]) == ("queued", 1, "the receiver answered 500 Internal Server Error")
        assert log[1]["status"] == "sent"
        assert "secret" not in hooks[0], "lists never carry secrets"
    finally:
        receiver.fail = False
    shown = web.get(mailing.base + "/connect").text
    assert "the receiver answered 500" in shown


def test_webhook_urls_are_checked_and_private_to_their_recipient(portal, mailing, receiver):
    name = f"hooks_{uuid.uuid4().hex[:6]}"
    portal.cli("recipient", "create", name)
    headers = bearer(partner_token(portal, name)[0])
    for url in ["http://example.com/hook", "ftp://example.com", "https://user:pw@example.com/x"]:
        body = error_of(requests.post(portal.base + "/api/v1/webhooks", headers=headers, json={"name": "x", "url": url}), 400, field="url")
        assert body["message"], url
    # Addresses inside the provider's network, however written, are refused.
    for url in ["https://127.0.0.1/hook", "https://169.254.169.254/latest", "https://10.0.0.7/x", "https://[::1]/hook",
                "https://[::ffff:169.254.169.254]/x", "https://[64:ff9b::a9fe:a9fe]/x", "https://localhost/hook"]:
        body = error_of(requests.post(portal.base + "/api/v1/webhooks", headers=headers, json={"name": "x", "url": url}), 400, field="url")
        assert "not a public address" in body["message"], (url, body)
    error_of(requests.post(portal.base + "/api/v1/webhooks", headers=headers, json={"name": "", "url": "https://example.com/x"}), 400, field="name")
    error_of(requests.post(portal.base + "/api/v1/webhooks", headers=headers, json={"name": "x", "url": "https://example.com", "events": []}), 400)

    owner = new_recipient(mailing)
    mine = bearer(partner_token(mailing, owner)[0])
    hook = requests.post(mailing.base + "/api/v1/webhooks", headers=mine, json={"name": "x", "url": receiver.url + "/private"})
    assert hook.status_code == 201 and hook.json()["secret"].startswith("whsec_"), hook.text
    theirs = bearer(partner_token(mailing, new_recipient(mailing))[0])
    hook_id = hook.json()["id"]
    assert requests.get(f"{mailing.base}/api/v1/webhooks/{hook_id}", headers=theirs).status_code == 404
    assert requests.delete(f"{mailing.base}/api/v1/webhooks/{hook_id}", headers=theirs).status_code == 404
    assert requests.get(f"{mailing.base}/api/v1/webhooks/{hook_id}", headers=mine).json()["secret"] == hook.json()["secret"]
    assert requests.delete(f"{mailing.base}/api/v1/webhooks/{hook_id}", headers=mine).status_code == 200
    assert requests.get(f"{mailing.base}/api/v1/webhooks", headers=mine).json()["items"] == []


def test_a_pipeline_hears_of_a_delivery_by_webhook_and_fetches_the_file_with_its_token(mailing, receiver, orders):
    share, _, _ = orders
    name = new_recipient(mailing)
    mailing.cli("grant", share, name)
    headers = bearer(partner_token(mailing, name)[0])
    path = f"/pipeline/{uuid.uuid4().hex[:6]}"
    secret = requests.post(mailing.base + "/api/v1/webhooks", headers=headers, json={"name": "loader", "url": receiver.url + path}).json()["secret"]
    view_id = requests.post(f"{mailing.base}/api/v1/views", headers=headers,
                            json={"share": share, "schema": "s", "table": "orders", "view": "", "name": "Daily"}).json()["id"]
    delivery = requests.put(f"{mailing.base}/api/v1/views/{view_id}/delivery", headers=headers, json={"schedule": "daily", "hour": 3, "format": "csv"})
    assert delivery.status_code == 200, delivery.text
    at = delivery.json()["delivery"]["next_at"]
    assert mailing.cli("deliveries", "run", "--at", at).stdout.startswith("started 1 deliveries")
    hook_headers, body = receiver.wait(path, "delivery.ready")
    event = verified(hook_headers, body, secret)
    assert event["data"]["savedView"]["name"] == "Daily" and event["data"]["export"]["rows"] >= 1
    got = requests.get(event["data"]["export"]["fileUrl"], headers=headers)
    assert got.status_code == 200 and got.text.lstrip("\ufeff").splitlines()[0].startswith("partner_id")
    assert got.text.count("\n") == event["data"]["export"]["rows"] + 1
