"""Delta Sharing benchmarks, each side by side with its peer in the same run.

1. `/query` on a table with 50,000 files: the first request (cold) and later ones (warm, from the
   snapshot cache) against the same server with the cache off (every request reads the log, as
   before the cache); p50/p95 (curl's time to the last byte) and the server's peak RSS.
2. `load_as_pandas` of a ~1 GB table through the portal vs pyarrow reading the same files
   directly from disk: wall time ratio, split into the server's time and the client's.
3. Data file throughput with 4 concurrent clients: curl through signed `/files` URLs vs cat
   reading the same files, vs the same curl clients reading them from disk (`file://`), and vs
   nginx serving them with sendfile (all from the page cache).

Writes results to bench-results/sharing.json and prints a summary. Run with `make bench`.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import requests
from deltalake import DeltaTable, Field, Schema, convert_to_deltalake, write_deltalake

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "e2e" / "python"))
from conftest import Portal, free_port  # noqa: E402

WORK = Path(os.environ.get("BENCH_DIR", ROOT / "bench-results" / "work"))
FILES = int(os.environ.get("BENCH_FILES", "50000"))
BIG_ROWS = int(os.environ.get("BENCH_BIG_ROWS", "40000000"))



def human(n):
    """20000000 → 20m, 200000 → 200k: short sizes for names and summaries."""
    return f"{n // 1_000_000}m" if n % 1_000_000 == 0 else f"{n // 1000}k" if n % 1000 == 0 else str(n)

def many_files_table(path: Path):
    """FILES small parquet files in 100 partitions, converted in place to a Delta table."""
    if (path / "_delta_log").exists():
        return
    shutil.rmtree(path, ignore_errors=True)
    per_part = FILES // 100
    rng = np.random.default_rng(1)
    for p in range(100):
        d = path / f"partner_id=P{p:03d}"
        d.mkdir(parents=True)
        for i in range(per_part):
            t = pa.table({"order_id": pa.array(rng.integers(0, 1 << 40, 20)), "units": pa.array(rng.integers(1, 24, 20))})
            pq.write_table(t, d / f"part-{i:05d}.parquet")
    convert_to_deltalake(str(path), partition_by=Schema([Field("partner_id", "string")]), partition_strategy="hive")
    DeltaTable(str(path)).create_checkpoint()


def big_table(path: Path):
    """About 1 GB of parquet: order lines with numeric, string and timestamp columns."""
    if (path / "_delta_log").exists():
        return
    rng = np.random.default_rng(2)
    chunk = 4_000_000
    for start in range(0, BIG_ROWS, chunk):
        n = min(chunk, BIG_ROWS - start)
        t = pa.table({
            "order_id": pa.array(np.arange(start, start + n, dtype=np.int64)),
            "sku": pa.array(rng.integers(0, 50_000, n)).cast(pa.string()),
            "units": pa.array(rng.integers(1, 24, n)),
            "unit_price": pa.array(rng.random(n) * 100),
            "revenue": pa.array(rng.random(n) * 1000),
            "updated_at": pa.array(rng.integers(1_700_000_000_000_000, 1_760_000_000_000_000, n)).cast(pa.timestamp("us", tz="UTC")),
        })
        write_deltalake(str(path), t, mode="append")


NGINX_STATIC = """
worker_processes {workers};
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
{user}
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    sendfile on;
    tcp_nopush on;
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
"""


class StaticNginx:
    """nginx serving `root` over plain HTTP with sendfile, one worker per core."""

    def __init__(self, dir: Path, root: Path):
        dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        user = "user root;" if os.geteuid() == 0 else ""
        (dir / "nginx.conf").write_text(NGINX_STATIC.format(workers=os.cpu_count() or 1, dir=dir, user=user, port=port, root=root))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.proc = subprocess.Popen([nginx, "-c", str(dir / "nginx.conf"), "-p", str(dir), "-g", "daemon off;"],
                                     stdout=subprocess.DEVNULL, stderr=open(dir / "stderr.log", "w"))
        for _ in range(200):
            try:
                requests.get(self.base + "/", timeout=2)
                return
            except requests.ConnectionError:
                assert self.proc.poll() is None, (dir / "stderr.log").read_text()
                time.sleep(0.1)
        raise AssertionError("nginx did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def rss_peak_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main():
    WORK.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    many = WORK / "many_files"
    big = WORK / "big"
    many_files_table(many)
    big_table(big)
    print(f"tables ready in {time.time() - t0:.0f} s", flush=True)

    data = WORK / "portal"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir()
    portal = Portal(data, free_port(), {"PORTAL_LOG": "warn"})
    portal.cli("share", "create", "bench")
    portal.cli("table", "add", "bench.s.many", "--location", str(many))
    portal.cli("table", "add", "bench.s.big", "--location", str(big))
    portal.cli("recipient", "create", "bench_reader")
    portal.cli("grant", "bench", "bench_reader")
    profile, _ = portal.profile("bench_reader", data / "bench.share")
    headers = {"Authorization": "Bearer " + portal.token_of(profile)}
    headers_line = "Authorization: " + headers["Authorization"]
    results = {}
    q = portal.endpoint + "/shares/bench/schemas/s/tables/many/query"
    hint = json.dumps({"op": "equal", "children": [{"op": "column", "name": "partner_id", "valueType": "string"}, {"op": "literal", "value": "P007", "valueType": "string"}]})

    def timed(body, runs):
        """Each request's time as curl sees it, the body read and thrown away: the server's time,
        not a Python client's decoding of 25 MB. The last answer comes back for checks."""
        times = []
        for _ in range(runs):
            out = subprocess.run(
                ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", "-H", headers_line,
                 "-H", "Content-Type: application/json", "-d", json.dumps(body), q],
                capture_output=True, text=True, check=True).stdout.split()
            assert out[0] == "200", out
            times.append(float(out[1]))
        return times, requests.post(q, json=body, headers=headers)

    # The peer: the same server with the snapshot cache off, every request reading the log.
    portal.env["PORTAL_SNAPSHOT_CACHE_MB"] = "0"
    portal.start()
    try:
        uncached, _ = timed({}, 7)
        uncached_filtered, _ = timed({"jsonPredicateHints": hint}, 7)
    finally:
        portal.stop()
    del portal.env["PORTAL_SNAPSHOT_CACHE_MB"]
    portal.start()
    try:
        cold, r = timed({}, 1)
        warm, r = timed({}, 21)
        warm_filtered, _ = timed({"jsonPredicateHints": hint}, 21)
        lines = r.text.count("\n")
        results["query_50k_files"] = {
            "files": lines - 2,
            "response_mb": len(r.content) / 1e6,
            "cold_s": cold[0],
            "warm_p50_s": statistics.median(warm),
            "warm_p95_s": pct(warm, 0.95),
            "uncached_p50_s": statistics.median(uncached),
            "ratio_warm_over_uncached": statistics.median(warm) / statistics.median(uncached),
            "ratio_cold_over_uncached": cold[0] / statistics.median(uncached),
            # First request against first request: both pay the process's first-request costs.
            "uncached_first_s": uncached[0],
            "ratio_cold_over_uncached_first": cold[0] / uncached[0],
            "partition_filtered_warm_p50_s": statistics.median(warm_filtered),
            "partition_filtered_uncached_p50_s": statistics.median(uncached_filtered),
            "server_peak_rss_mb": rss_peak_kb(portal.proc.pid) / 1024,
        }
        print(json.dumps(results["query_50k_files"], indent=2), flush=True)

        import delta_sharing
        size_gb = sum(f.stat().st_size for f in big.rglob("*.parquet")) / 1e9
        s = time.perf_counter()
        via_portal = delta_sharing.load_as_pandas(f"{profile}#bench.s.big")
        portal_s = time.perf_counter() - s
        rows_portal = len(via_portal)
        del via_portal
        # The server's share of that time: fetch every signed file URL of the table, one by one.
        s = time.perf_counter()
        lines = requests.post(portal.endpoint + "/shares/bench/schemas/s/tables/big/query", json={}, headers=headers).text.splitlines()
        query_s = time.perf_counter() - s
        urls = [json.loads(l)["file"]["url"] for l in lines[2:]]
        s = time.perf_counter()
        fetched = sum(len(requests.get(u).content) for u in urls)
        http_s = time.perf_counter() - s
        s = time.perf_counter()
        files = DeltaTable(str(big)).file_uris()
        direct = ds.dataset(files, format="parquet").to_table().to_pandas()
        direct_s = time.perf_counter() - s
        assert len(direct) == rows_portal, (len(direct), rows_portal)
        del direct
        # Data file throughput with several clients at once: curl through the portal's signed
        # URLs against cat reading the same files, both from the page cache, in parallel.
        clients = 4
        paths = [str(p) for p in big.rglob("*.parquet")]
        served = portal.endpoint.rsplit("/delta-sharing", 1)[0]
        assert all(u.startswith(served) for u in urls)
        # The best an HTTP server does here: Debian's nginx serving the same directory with
        # sendfile (no copy through user space), read by the same curl clients.
        nginx = StaticNginx(WORK / "nginx-static", big)
        nginx_urls = [f"{nginx.base}/{Path(p).relative_to(big)}" for p in paths]
        throughput = {}
        curl = ["curl", "-sf", "-o", "/dev/null"]
        # The same curl clients reading the files from disk (file://): the client's own cost
        # of taking in the bytes, without the network between.
        file_urls = [Path(p).as_uri() for p in paths]
        for name, cmd, args in [("disk", ["cat"], paths), ("curl_disk", curl, file_urls), ("nginx", curl, nginx_urls), ("portal", curl, urls)]:
            subprocess.run(["xargs", "-0", "-P", str(clients), "-n", "1", *cmd], input="\0".join(args).encode(), check=True, stdout=subprocess.DEVNULL)
            runs = []
            for _ in range(3):
                s = time.perf_counter()
                subprocess.run(["xargs", "-0", "-P", str(clients), "-n", "1", *cmd], input="\0".join(args).encode(), check=True, stdout=subprocess.DEVNULL)
                runs.append(time.perf_counter() - s)
            throughput[name] = fetched / 1e6 / statistics.median(runs)
        nginx.stop()
        results["files_throughput"] = {
            "clients": clients,
            "files": len(urls),
            "mb": fetched / 1e6,
            "disk_mb_per_s": throughput["disk"],
            "curl_from_disk_mb_per_s": throughput["curl_disk"],
            "nginx_sendfile_mb_per_s": throughput["nginx"],
            "portal_mb_per_s": throughput["portal"],
            "ratio_portal_over_disk": throughput["portal"] / throughput["disk"],
            "ratio_portal_over_curl_from_disk": throughput["portal"] / throughput["curl_disk"],
            "ratio_portal_over_nginx": throughput["portal"] / throughput["nginx"],
        }
        print(json.dumps(results["files_throughput"], indent=2), flush=True)
        results["load_as_pandas_1gb"] = {
            "parquet_gb": size_gb,
            "rows": rows_portal,
            "portal_s": portal_s,
            "pyarrow_direct_s": direct_s,
            "http_fetch_all_files_s": http_s,
            # The server's share: answering the query and sending every file (one client, in
            # turn, as load_as_pandas reads them); the rest is the client decoding and building.
            "server_s": query_s + http_s,
            "client_s": portal_s - (query_s + http_s),
            "http_fetch_mb_per_s": fetched / 1e6 / http_s,
            "ratio_portal_over_direct": portal_s / direct_s,
            "server_peak_rss_mb": rss_peak_kb(portal.proc.pid) / 1024,
        }
        print(json.dumps(results["load_as_pandas_1gb"], indent=2), flush=True)
    finally:
        portal.stop()
    out = ROOT / "bench-results" / "sharing.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
