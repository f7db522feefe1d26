"""kill -9 under write load: what the portal acknowledged survives, nothing is half-done.

A portal seeded with the demo takes writes from several threads at once: tokens made with the
CLI and on /connect, activation links made through the admin API and redeemed, grants switched
on and off through the admin API, browser sign-ins, and background exports. At a random moment
(seeded, so a failure can be replayed) the server gets SIGKILL. Then, before it restarts, the
SQLite catalog must pass `PRAGMA integrity_check`; after it restarts (`/readyz` 200):
- every token the client received (CLI, /connect, a redeemed link) authenticates;
- every activation link is spent with a working token, or still works exactly once; a link whose
  redemption was cut off is either usable once more or gone (410), never an error;
- a /connect token acknowledged by its redirect is still shown once after the restart;
- every acknowledged sign-in's session still works;
- every grant is as the last acknowledged change left it (a change cut off may have gone either way);
- every acknowledged export job exists, in a whole state (queued, running, done with a complete
  file, failed with a reason), and the export directory holds only files of jobs: a finished
  `<id>.csv` only for a live job, part files only of known jobs (removing abandoned part files
  is the periodic sweep's work, which may not run within this test).
Five rounds of start, load, kill, all on the same data directory."""
import csv
import io
import json
import random
import re
import signal
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field

import requests

from admin import AdminApi, bearer, create_api_token, partner_token
from conftest import Portal, free_port

ROUNDS = 5
SEED = 20261201
LOAD_SECONDS = (0.8, 3.0)
SHARE = "wholesale"
TABLE_API = "/api/v1/shares/wholesale/schemas/commerce/tables/sales"
GRANTED = "partner_program"  # the share the grant thread switches on and off
JOB_STATES = {"queued", "running", "done", "failed"}


@dataclass
class Link:
    url: str
    # new: made, never sent; sent: redemption sent, no answer; redeemed: 200 with a profile.
    state: str = "new"
    token: str = None


@dataclass
class Issued:
    session: requests.Session
    reveal: str  # /connect?issued=… : the acknowledged redirect
    # issued: never fetched; fetching: fetched without an answer; shown: the token was read.
    state: str = "issued"
    token: str = None


@dataclass
class Grant:
    recipient: str
    granted: bool = False  # as the last acknowledged change left it
    in_flight: bool = False


@dataclass
class Ledger:
    """What the clients were told, across all rounds."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    tokens: list = field(default_factory=list)  # (origin, token) acknowledged
    links: list = field(default_factory=list)
    issued: list = field(default_factory=list)
    sessions: list = field(default_factory=list)  # signed-in requests.Session
    grants: dict = field(default_factory=dict)
    jobs: dict = field(default_factory=dict)  # job id -> bearer token of its recipient
    problems: list = field(default_factory=list)  # answers that must never happen (5xx, surprises)
    counts: dict = field(default_factory=dict)
    checked: dict = field(default_factory=dict)  # list name -> how many of its items were checked

    def unchecked(self, name):
        """The items of a list added since the last restart's checks (older ones were settled then)."""
        items = getattr(self, name)
        start, self.checked[name] = self.checked.get(name, 0), len(items)
        return items[start:]

    def note(self, what):
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + 1

    def problem(self, text):
        with self.lock:
            self.problems.append(text)


def csrf_in(html):
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    return m.group(1) if m else ""


def sign_in(portal, token):
    web = requests.Session()
    web.headers["Accept"] = "text/html"
    page = web.get(portal.base + "/login", timeout=30)
    resp = web.post(portal.base + "/login", data={"csrf": csrf_in(page.text), "token": token, "next": "/connect"}, allow_redirects=False, timeout=30)
    return web, resp


def shown_token(html):
    m = re.search(r'<input[^>]*id="new-token"[^>]*>', html)
    value = re.search(r'value="([^"]+)"', m.group(0)) if m else None
    return value.group(1) if value else None


# --- The load ----------------------------------------------------------------------------------------


class Load:
    def __init__(self, world, ledger, rng, round_no):
        self.w, self.ledger, self.round = world, ledger, round_no
        self.stop = threading.Event()
        self.rngs = [random.Random(rng.random()) for _ in range(8)]
        self.threads = [
            threading.Thread(target=self.guard, args=(fn, r), daemon=True)
            for fn, r in zip((self.cli_tokens, self.connect_tokens, self.links, self.grants, self.sign_ins, self.exports), self.rngs)
        ]

    def start(self):
        for t in self.threads:
            t.start()

    def join(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)
            assert not t.is_alive(), "a load thread hangs"

    def guard(self, fn, rng):
        while not self.stop.is_set():
            try:
                fn(rng)
            except requests.RequestException:
                # The server is gone (or going): whatever was in flight is of unknown outcome.
                time.sleep(0.05)

    def unexpected(self, what, resp):
        self.ledger.problem(f"round {self.round}: {what} -> {resp.status_code} {resp.text[:200]}")

    def cli_tokens(self, rng):
        done = self.w.portal.cli("token", "create", rng.choice(self.w.recipients), check=False)
        if done.returncode != 0:
            self.ledger.problem(f"round {self.round}: portal token create failed: {done.stderr.strip()}")
            return
        token = json.loads("\n".join(done.stdout.strip().splitlines()[:-1]))["bearerToken"]
        with self.ledger.lock:
            self.ledger.tokens.append(("cli", token))
        self.ledger.note("cli tokens")

    def connect_tokens(self, rng):
        web = self.w.connect_session
        page = web.get(self.w.portal.base + "/connect", allow_redirects=False, timeout=30)
        if page.status_code != 200:
            return self.unexpected("GET /connect", page)
        resp = web.post(self.w.portal.base + "/connect/tokens", data={"csrf": csrf_in(page.text), "name": f"crash {uuid.uuid4().hex[:8]}"}, allow_redirects=False, timeout=30)
        if resp.status_code != 303 or not resp.headers["location"].startswith("/connect?issued="):
            return self.unexpected("POST /connect/tokens", resp)
        issued = Issued(web, resp.headers["location"].split("#")[0])
        with self.ledger.lock:
            self.ledger.issued.append(issued)
        self.ledger.note("connect tokens")
        if rng.random() < 0.2:
            return  # left to be shown after the restart
        issued.state = "fetching"
        shown = web.get(self.w.portal.base + issued.reveal, allow_redirects=False, timeout=30)
        token = shown_token(shown.text) if shown.status_code == 200 else None
        if not token:
            return self.unexpected(f"GET {issued.reveal}", shown)
        issued.token, issued.state = token, "shown"
        with self.ledger.lock:
            self.ledger.tokens.append(("connect", token))

    def links(self, rng):
        made = self.w.admin.post(f"/recipients/{self.w.link_recipient}/activation-links", {"ttlHours": 24})
        if made.status_code != 201:
            return self.unexpected("POST activation-links", made)
        link = Link(made.json()["url"])
        with self.ledger.lock:
            self.ledger.links.append(link)
        self.ledger.note("links")
        if rng.random() < 0.3:
            return  # kept for after the restart
        link.state = "sent"
        resp = self.w.portal.activate(link.url)
        if resp.status_code != 200:
            return self.unexpected(f"redeeming {link.url}", resp)
        link.token, link.state = resp.json()["bearerToken"], "redeemed"
        with self.ledger.lock:
            self.ledger.tokens.append(("activation", link.token))
        self.ledger.note("redeemed links")

    def grants(self, rng):
        grant = self.ledger.grants[rng.choice(sorted(self.ledger.grants))]
        if grant.in_flight:
            return  # cut off in an earlier round: its outcome is read after that restart
        wanted = not grant.granted
        grant.in_flight = True
        resp = self.w.admin.call("PUT" if wanted else "DELETE", f"/shares/{GRANTED}/grants/{grant.recipient}")
        if resp.status_code != 200:
            return self.unexpected(f"grant {wanted} {grant.recipient}", resp)
        grant.granted, grant.in_flight = wanted, False
        self.ledger.note("grant changes")

    def sign_ins(self, rng):
        web, resp = sign_in(self.w.portal, rng.choice(self.w.tokens))
        if resp.status_code != 303 or not web.cookies.get("portal_session"):
            return self.unexpected("POST /login", resp)
        with self.ledger.lock:
            self.ledger.sessions.append(web)
        self.ledger.note("sign-ins")

    def exports(self, rng):
        token = rng.choice(self.w.tokens)
        resp = requests.post(f"{self.w.portal.base}{TABLE_API}/exports?order_date={self.w.day}&_format=csv", headers=bearer(token), timeout=30)
        if resp.status_code != 202:
            if resp.status_code >= 500:
                self.unexpected("POST exports", resp)
            time.sleep(0.2)  # e.g. five unfinished jobs already
            return
        with self.ledger.lock:
            self.ledger.jobs[resp.json()["id"]] = token
        self.ledger.note("export jobs")
        time.sleep(rng.uniform(0, 0.3))


# --- The checks after a restart ----------------------------------------------------------------------


def integrity_check(world):
    """On SQLite, the catalog file as the killed server left it (opened read-only)."""
    if world.portal.database_url:
        return  # Postgres: its own recovery; the checks after the restart read through the server
    db = world.portal.data_dir / "catalog.db"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        result = con.execute("PRAGMA integrity_check").fetchall()
    finally:
        con.close()
    assert result == [("ok",)], f"integrity_check after kill -9: {result}"


def works(portal, token):
    return requests.get(portal.endpoint + "/shares", headers=bearer(token), timeout=30).status_code


def check_after_restart(world, ledger, round_no):
    p = world.portal
    problems = []
    deadline = time.monotonic() + 30
    while (ready := requests.get(p.base + "/readyz", timeout=10).status_code) != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ready == 200, f"round {round_no}: /readyz {ready} after the restart"
    if p.database_url:
        # No file to check on Postgres: the restarted server answers from its catalog instead.
        assert works(p, world.tokens[0]) == 200, "the restarted server reads its Postgres catalog"

    # Links: spent ones stay spent; cut-off and unused ones work exactly once, or are gone.
    for link in ledger.unchecked("links"):
        if link.state == "redeemed":
            again = p.activate(link.url)
            if again.status_code != 410:
                problems.append(f"a redeemed link answers {again.status_code} after the restart")
            continue
        first = p.activate(link.url)
        if first.status_code == 200:
            link.token, link.state = first.json()["bearerToken"], "redeemed"
            ledger.tokens.append(("late activation", link.token))
            second = p.activate(link.url)
            if second.status_code != 410:
                problems.append(f"a link redeemed after the restart answers {second.status_code} the second time")
        elif first.status_code == 410 and link.state == "sent":
            link.state = "gone"  # spent by the cut-off redemption; its token never reached anyone
        else:
            problems.append(f"a {link.state} link answers {first.status_code} after the restart: {first.text[:200]}")
            link.state = "gone"

    # /connect tokens acknowledged by their redirect are shown after the restart if never fetched.
    for issued in ledger.unchecked("issued"):
        if issued.state in ("issued", "fetching"):
            shown = issued.session.get(p.base + issued.reveal, allow_redirects=False, timeout=30)
            token = shown_token(shown.text) if shown.status_code == 200 else None
            if token:
                issued.token = token
                ledger.tokens.append(("connect, shown after restart", token))
            elif issued.state == "issued":
                problems.append(f"an acknowledged /connect token is not shown after the restart: {shown.status_code} {shown.headers.get('location')}")
            issued.state = "shown" if token else "lost"

    # Every token the clients were given authenticates.
    for origin, token in ledger.tokens:
        status = works(p, token)
        if status != 200:
            problems.append(f"a {origin} token answers {status} after the restart")

    # Every acknowledged sign-in is still signed in.
    for web in ledger.unchecked("sessions"):
        page = web.get(p.base + "/connect", allow_redirects=False, timeout=30)
        if page.status_code != 200:
            problems.append(f"an acknowledged session answers {page.status_code} {page.headers.get('location')} after the restart")

    # Grants: as acknowledged; a cut-off change may have gone either way (then it is read back).
    for grant in ledger.grants.values():
        detail = world.admin.get(f"/recipients/{grant.recipient}")
        assert detail.status_code == 200, detail.text
        granted = GRANTED in detail.json()["grants"]
        if grant.in_flight:
            grant.granted, grant.in_flight = granted, False
        elif granted != grant.granted:
            problems.append(f"{grant.recipient}: granted={granted}, the last acknowledged change said {grant.granted}")

    problems += check_exports(world, ledger)
    assert not problems, f"round {round_no}:\n" + "\n".join(problems)


def check_exports(world, ledger):
    p, problems = world.portal, []
    jobs = {}
    for token in world.tokens:
        resp = requests.get(p.base + "/api/v1/exports", headers=bearer(token), timeout=30)
        assert resp.status_code == 200, resp.text
        for job in resp.json()["items"]:
            jobs[job["id"]] = (job, token)
    for job_id, token in ledger.jobs.items():
        resp = requests.get(f"{p.base}/api/v1/exports/{job_id}", headers=bearer(token), timeout=30)
        if resp.status_code != 200:
            problems.append(f"acknowledged export {job_id} answers {resp.status_code} after the restart")
            continue
        jobs[job_id] = (resp.json(), token)
    for job_id, (job, token) in jobs.items():
        status = job["status"]
        if status not in JOB_STATES:
            problems.append(f"export {job_id} is {status}")
        elif status == "done":
            whole = job["download_url"] and job["file_name"] and job["bytes"] is not None and job["finished_at"] and job["rows_written"] == job["rows_total"]
            if not whole:
                problems.append(f"export {job_id} is done but not whole: {job}")
                continue
            got = requests.get(job["download_url"], headers=bearer(token), timeout=60)
            rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig")))) if got.status_code == 200 else []
            if got.status_code != 200 or len(got.content) != job["bytes"] or len(rows) != job["rows_written"] + 1:
                problems.append(f"export {job_id}: download {got.status_code}, {len(got.content)} bytes of {job['bytes']}, {len(rows)} lines for {job['rows_written']} rows")
        elif status == "failed":
            if not job["error"] or job["download_url"]:
                problems.append(f"export {job_id} failed without a reason, or with a file: {job}")
        elif job["download_url"] or job["finished_at"]:
            problems.append(f"export {job_id} is {status} yet finished: {job}")
    exports = p.data_dir / "exports"
    for path in sorted(exports.iterdir()) if exports.exists() else []:
        job_id = path.name.split(".")[0]
        job = jobs.get(job_id, (None,))[0]
        if job is None:
            problems.append(f"{path.name} in the export directory belongs to no job")
        elif not path.name.endswith(".part"):
            if path.name != f"{job_id}.csv" or job["status"] not in ("done", "running", "queued"):
                problems.append(f"{path.name}: a finished file of a {job['status']} job")
            elif job["status"] == "done" and path.stat().st_size != job["bytes"]:
                problems.append(f"{path.name}: {path.stat().st_size} bytes, the job says {job['bytes']}")
    for job_id, (job, _) in jobs.items():
        if job["status"] == "done" and not (exports / f"{job_id}.csv").is_file():
            problems.append(f"export {job_id} is done but its file is missing")
    return problems


# --- The test -----------------------------------------------------------------------------------------


@dataclass
class World:
    portal: Portal
    admin: AdminApi
    recipients: list
    tokens: list
    link_recipient: str
    day: str
    connect_session: requests.Session = None


def test_kill_9_under_write_load_loses_nothing_acknowledged(tmp_path):
    rng = random.Random(SEED)
    (tmp_path / "data").mkdir()
    p = Portal(tmp_path / "data", free_port(), extra_env={
        # The load makes many tokens for few recipients, and redeems spent links on purpose.
        "PORTAL_TOKEN_MAX_ACTIVE": "100000",
        "PORTAL_AUTH_FAILURES_PER_MINUTE": "100000",
    })
    p.cli("demo")
    recipients = [f"crash_{i}" for i in range(3)]
    for name in recipients + ["crash_links"] + [f"crash_grant_{i}" for i in range(3)]:
        p.cli("recipient", "create", name, "--property", "partner_id=P001")
        p.cli("grant", SHARE, name)
    tokens = [partner_token(p, name)[0] for name in recipients]
    admin = AdminApi(p, bearer(create_api_token(p, name="crash_admin")))
    ledger = Ledger()
    ledger.grants = {name: Grant(name) for name in (f"crash_grant_{i}" for i in range(3))}
    started = time.monotonic()
    p.start()
    try:
        first = requests.get(p.base + TABLE_API + "/rows?_size=1", headers=bearer(tokens[0]), timeout=60)
        assert first.status_code == 200, first.text
        world = World(p, admin, recipients, tokens, "crash_links", first.json()["rows"][0][2])
        for round_no in range(1, ROUNDS + 1):
            world.connect_session, signed = sign_in(p, tokens[round_no % len(tokens)])
            assert signed.status_code == 303, signed.status_code
            load = Load(world, ledger, rng, round_no)
            load.start()
            time.sleep(rng.uniform(*LOAD_SECONDS))
            p.proc.send_signal(signal.SIGKILL)
            p.proc.wait(timeout=30)
            load.join()
            assert not ledger.problems, "answers before the kill:\n" + "\n".join(ledger.problems)
            integrity_check(world)
            p.start()
            check_after_restart(world, ledger, round_no)
        done = ledger.counts
        for what in ("cli tokens", "connect tokens", "links", "redeemed links", "grant changes", "sign-ins", "export jobs"):
            assert done.get(what, 0) >= 1, f"the load did no {what} in {ROUNDS} rounds: {done}"
        print(f"{ROUNDS} rounds in {time.monotonic() - started:.0f} s: {done}")
    finally:
        p.stop()
