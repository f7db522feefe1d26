"""Load on the metadata endpoints and the rows API: one replica on SQLite, one on Postgres, and
two on Postgres behind nginx (https, round robin), side by side in the same run.

wrk, 64 connections, 2 threads, on loopback (the load generator shares the machine's cores with
the portal, the same for every setup). Writes bench-results/load.json and prints req/s, p50 and
p99 per endpoint and setup, with Postgres/SQLite and two-replica/one-replica ratios.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "e2e" / "python"))
import pg  # noqa: E402
from conftest import Portal, free_port  # noqa: E402
from replicas import Cluster  # noqa: E402

WORK = Path(os.environ.get("BENCH_DIR", ROOT / "bench-results" / "work")) / "load"
SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "8"))
CONNECTIONS = 64
TABLE = "/delta-sharing/shares/wholesale/schemas/commerce/tables/sales"
ENDPOINTS = {
    "list shares": "/delta-sharing/shares",
    "list tables": "/delta-sharing/shares/wholesale/all-tables",
    "table version": TABLE + "/version",
    "table metadata": TABLE + "/metadata",
    "rows API (50 rows)": "/api/v1/shares/wholesale/schemas/commerce/tables/sales/rows?_size=50",
}


def wrk(url, token):
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency", "-H", f"Authorization: Bearer {token}", url],
        check=True, capture_output=True, text=True).stdout
    def ms(label):
        value, unit = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    assert not errors, f"{url}: {errors.group(0)}\n{out}"
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50_ms": ms("50"), "p99_ms": ms("99")}


def token_of(portal):
    done = portal.cli("token", "create", "acme_foods")
    return json.loads("\n".join(done.stdout.strip().splitlines()[:-1]))["bearerToken"]


def measure(name, base, token):
    print(f"== {name}", flush=True)
    results = {}
    for label, path in ENDPOINTS.items():
        results[label] = wrk(base + path, token)
        r = results[label]
        print(f"  {label:<20} {r['rps']:>9.0f} req/s  p50 {r['p50_ms']:>7.2f} ms  p99 {r['p99_ms']:>7.2f} ms", flush=True)
    return results


def single(name, extra_env):
    data = WORK / name
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    p = Portal(data, free_port(), extra_env={"PORTAL_LOG": "warn", **extra_env})
    p.cli("demo")
    p.start()
    try:
        return measure(name, p.base, token_of(p))
    finally:
        p.stop()


def replicated():
    root = WORK / "replicas"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    os.environ["PORTAL_LOG"] = "warn"
    c = Cluster(root)
    try:
        c.a.cli("demo")
        return measure("two replicas on Postgres behind nginx (https)", c.base, token_of(c.a))
    finally:
        c.stop()


def main():
    started = time.time()
    setups = {
        "sqlite": single("one replica, SQLite", {}),
        "postgres": single("one replica, Postgres", {"PORTAL_DATABASE_URL": pg.new_database()}),
        "two_replicas": replicated(),
    }
    print("\n== ratios (req/s)")
    for label in ENDPOINTS:
        s, p, t = (setups[k][label]["rps"] for k in ("sqlite", "postgres", "two_replicas"))
        print(f"  {label:<20} Postgres/SQLite {p / s:5.2f}x   two replicas/one (Postgres) {t / p:5.2f}x")
    out = ROOT / "bench-results" / "load.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"connections": CONNECTIONS, "seconds": SECONDS, "setups": setups, "took_s": round(time.time() - started)}, indent=2))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
