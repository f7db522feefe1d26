"""Two `portal serve` replicas on one Postgres catalog behind Debian's nginx (round robin, no
stickiness, TLS with a self-signed certificate): the deployment of docs/deployment.md, for real."""
import os
import shutil
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

import pg
from conftest import Portal, free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# nginx connects to the replicas from this address, the only trusted proxy; tests connect from
# 127.0.0.1 (an untrusted peer when they call a replica directly) or bind other loopback addresses.
PROXY_ADDR = "127.0.0.2"

NGINX_CONF = """
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
{user}
events {{ worker_connections 1024; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    client_max_body_size 16m;
    upstream portal {{
        server 127.0.0.1:{a};
        server 127.0.0.1:{b};
    }}
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {dir}/cert.pem;
        ssl_certificate_key {dir}/key.pem;
        location / {{
            proxy_pass http://portal;
            proxy_bind {proxy};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_buffering off;
            proxy_read_timeout 300s;
            proxy_next_upstream error timeout;
        }}
    }}
}}
"""


class Nginx:
    def __init__(self, root: Path, port, upstreams):
        self.dir = root
        self.port = port
        self.base = f"https://127.0.0.1:{self.port}"
        root.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem")],
            check=True, capture_output=True)
        self.cert = str(root / "cert.pem")
        user = "user root;" if os.geteuid() == 0 else ""
        conf = NGINX_CONF.format(dir=root, user=user, a=upstreams[0], b=upstreams[1], port=self.port, proxy=PROXY_ADDR)
        (root / "nginx.conf").write_text(conf)
        self.proc = subprocess.Popen([NGINX, "-c", str(root / "nginx.conf"), "-p", str(root), "-g", "daemon off;"],
                                     stdout=subprocess.DEVNULL, stderr=open(root / "stderr.log", "w"))
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                requests.get(self.base + "/healthz", verify=self.cert, timeout=2)
                return
            except requests.ConnectionError:
                assert self.proc.poll() is None, (root / "stderr.log").read_text()
                time.sleep(0.1)
        raise AssertionError("nginx did not start")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Cluster:
    """Replicas `a` and `b` (own data directories, one catalog, one export directory) and nginx."""

    def __init__(self, root: Path):
        self.database_url = pg.new_database()
        ports = [free_port(), free_port()]
        self.nginx_port = free_port()
        public = f"https://127.0.0.1:{self.nginx_port}"
        shared = {
            "PORTAL_DATABASE_URL": self.database_url,
            "PORTAL_PUBLIC_URL": public,
            "PORTAL_TRUSTED_PROXIES": PROXY_ADDR,
            "PORTAL_EXPORT_LOCATION": str(root / "shared-exports"),
            "PORTAL_METRICS_TOKEN": "metrics-token-for-tests",
            "PORTAL_EXPORT_WORKERS": "1",
        }
        self.replicas = []
        for name, port in zip("ab", ports):
            data = root / name
            data.mkdir()
            self.replicas.append(Portal(data, port, extra_env=shared))
        self.a, self.b = self.replicas
        # Started together on an empty database: both migrate it at once (one waits for the other).
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(Portal.start, self.replicas))
        self.front = Portal.__new__(Portal)
        self.front.__dict__.update(self.a.__dict__, base=public, endpoint=public + "/delta-sharing")
        self.nginx = Nginx(root / "nginx", self.nginx_port, ports)
        self.cert = self.nginx.cert
        self.base = public
        self.endpoint = public + "/delta-sharing"

    def stop(self):
        self.nginx.stop()
        for r in self.replicas:
            r.stop()
