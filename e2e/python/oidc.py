"""A real OpenID Provider for the tests (e2e/oidc/provider.mjs, npm `oidc-provider`) and a
browser stand-in that signs in through it with a `requests.Session`."""
import json
import os
import select
import shutil
import socket
import subprocess
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import requests

PROVIDER_SCRIPT = Path(__file__).resolve().parents[1] / "oidc" / "provider.mjs"
READY = "oidc provider listening on "


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Provider:
    """A running provider: `.issuer` (http://127.0.0.1:<port>), `.port`, `.log()` (its stderr), `.stop()`."""

    def __init__(self, proc, issuer, port, log_path):
        self.proc = proc
        self.issuer = issuer
        self.port = port
        self.log_path = log_path

    def log(self):
        return Path(self.log_path).read_text(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start_provider(port, client_id, client_secret, redirect_uris, timeout=30, machine_clients=(), resource=None, signing_jwk=None):
    """Starts the provider on 127.0.0.1:`port` (None: a free port) with one confidential client;
    `redirect_uris` is a list or a comma-separated string. `machine_clients`: (id, secret) pairs
    allowed the client-credentials grant (JWT access tokens for `resource`); `signing_jwk`: the
    provider's private signing key (a dict), so the test can sign tokens too. Waits for its ready line."""
    port = port or _free_port()
    if not isinstance(redirect_uris, str):
        redirect_uris = ",".join(redirect_uris)
    node = shutil.which("node") or "node"
    env = {
        **os.environ,
        "OIDC_PORT": str(port),
        "OIDC_CLIENT_ID": client_id,
        "OIDC_CLIENT_SECRET": client_secret,
        "OIDC_REDIRECT_URIS": redirect_uris,
        "OIDC_MACHINE_CLIENTS": json.dumps([{"client_id": i, "client_secret": s} for i, s in machine_clients]),
    }
    if resource:
        env["OIDC_RESOURCE"] = resource
    if signing_jwk:
        env["OIDC_SIGNING_JWK"] = json.dumps(signing_jwk)
    log = tempfile.NamedTemporaryFile(prefix="oidc-provider-", suffix=".log", delete=False)
    proc = subprocess.Popen([node, str(PROVIDER_SCRIPT)], env=env, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
    log.close()
    buf = b""
    deadline = time.time() + timeout
    while b"\n" not in buf:
        left = deadline - time.time()
        ready, _, _ = select.select([proc.stdout], [], [], max(left, 0))
        chunk = os.read(proc.stdout.fileno(), 4096) if ready else b""
        if not chunk:
            proc.kill()
            proc.wait()
            why = "exited" if ready else f"printed no ready line in {timeout} s"
            raise AssertionError(f"oidc provider {why}: {buf.decode(errors='replace')}{Path(log.name).read_text(errors='replace')}")
        buf += chunk
    line = buf.split(b"\n", 1)[0].decode().strip()
    if not line.startswith(READY):
        proc.kill()
        raise AssertionError(f"oidc provider said {line!r}")
    return Provider(proc, line[len(READY):], port, log.name)


class _Forms(HTMLParser):
    """Collects every <form>: {"action", "method", "fields": {name: value}, "inputs": [names]}."""

    def __init__(self):
        super().__init__()
        self.forms = []
        self._form = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action") or "", "method": (a.get("method") or "get").lower(), "fields": {}, "inputs": []}
            self.forms.append(self._form)
        elif tag in ("input", "button") and self._form is not None and a.get("name"):
            self._form["inputs"].append(a["name"])
            if tag == "input" and (a.get("type") or "text").lower() == "hidden":
                self._form["fields"][a["name"]] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def parse_forms(html):
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def browser_login(session, start_url, login, password="any-password", stop_at=None, max_steps=30):
    """Signs in as a browser would: follows redirects from `start_url` (e.g. the portal's
    `/auth/oidc/start?as=partner`) to the provider's login form, submits `login`/`password`
    with the form's hidden fields, submits a consent form or a self-submitting page if one is
    shown, and follows the redirects back. Returns the final response. With `stop_at` (a URL prefix, e.g. the
    redirect URI) it returns the 3xx response whose Location starts with it, unfollowed."""
    resp = session.get(start_url, allow_redirects=False)
    submitted_login = False
    for _ in range(max_steps):
        if resp.is_redirect:
            target = urljoin(resp.url, resp.headers["Location"])
            if stop_at and target.startswith(stop_at):
                return resp
            resp = session.get(target, allow_redirects=False)
            continue
        forms = parse_forms(resp.text) if "html" in resp.headers.get("Content-Type", "") else []
        login_form = next((f for f in forms if "login" in f["inputs"] and "password" in f["inputs"]), None)
        consent_form = next((f for f in forms if f["fields"].get("prompt") == "consent"), None)
        if consent_form is None and forms and "document.forms[0].submit()" in resp.text:
            # A page that submits itself with script, e.g. the provider ending the previous
            # user's session when another user signs in (prompt=login).
            consent_form = forms[0]
        if login_form:
            if submitted_login:
                raise AssertionError(f"the provider showed its login form again: {resp.url}")
            submitted_login = True
            data = {**login_form["fields"], "login": login, "password": password}
            resp = session.post(urljoin(resp.url, login_form["action"]), data=data, allow_redirects=False)
        elif consent_form:
            action = urljoin(resp.url, consent_form["action"])
            if consent_form["method"] == "get":
                resp = session.get(action, params=consent_form["fields"], allow_redirects=False)
            else:
                resp = session.post(action, data=consent_form["fields"], allow_redirects=False)
        else:
            return resp
    raise AssertionError(f"sign-in did not finish in {max_steps} steps; last {resp.status_code} {resp.url}")
