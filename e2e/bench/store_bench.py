"""Object-storage benchmark: the same tables on local disk and in S3 (s3s-fs on 127.0.0.1,
signatures verified), side by side in one run.

1. `/query` on a 50,000-file table: p50 cold (the first request of a fresh server) and warm.
2. Preview through the rows API (unfiltered first page; selective filter + sort; facet) on the
   20M-row table: S3 vs local, and vs pyarrow's `S3FileSystem` + `pyarrow.dataset` reading the
   same S3 files.
3. CSV export of the 10M-row table: S3 vs local, with the server's peak RSS.

Tables come from bench.py, preview_bench.py and export_bench.py (generated once under
BENCH_DIR), copied into the s3s-fs bucket. Writes bench-results/store.json. Run with `make bench`.
"""
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import requests
from deltalake import DeltaTable

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "e2e" / "python"))
sys.path.insert(0, str(ROOT / "e2e" / "bench"))
import conftest  # noqa: E402
from bench import FILES, human, many_files_table, rss_peak_kb  # noqa: E402
from conftest import Portal, free_port  # noqa: E402
from export_bench import ROWS as EXPORT_ROWS, XLSX_ROWS, RssSampler, export_table  # noqa: E402
from preview_bench import FILTER, PORTAL_QUERIES, ROWS as PREVIEW_ROWS, preview_table  # noqa: E402
from stores import S3  # noqa: E402

WORK = Path(os.environ.get("BENCH_DIR", ROOT / "bench-results" / "work"))
RUNS = int(os.environ.get("BENCH_STORE_RUNS", "9"))


def timed(fn, runs):
    """(first run's seconds, the others' seconds, the last result)."""
    times, out = [], None
    for _ in range(runs):
        s = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - s)
    return times[0], times[1:], out


def p50_ms(times):
    return round(statistics.median(times) * 1000, 1)


def pyarrow_queries(fs, files, base):
    partitioning = ds.partitioning(pa.schema([("partner_id", pa.string())]), flavor="hive")
    dset = lambda: ds.dataset(files, format="parquet", filesystem=fs, partitioning=partitioning, partition_base_dir=base)  # noqa: E731
    match = (pc.field("country") == FILTER["country"]) & (pc.field("units") >= FILTER["units_gte"])
    return {
        "a_first_page": lambda: dset().head(100),
        "b_filter_sort_limit": lambda: dset().to_table(filter=match).sort_by([("revenue", "descending")]).slice(0, 100),
        "c_facet_count": lambda: dset().to_table(columns=["country"]).group_by("country").aggregate([("country", "count")]),
    }


def main():
    if not Path(conftest.PORTAL_BIN).is_file():
        sys.exit(f"store_bench: PORTAL_BIN={conftest.PORTAL_BIN} is not a file; run `make bench`")
    WORK.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    local = {
        "many": WORK / "many_files",
        "preview": WORK / f"preview{human(PREVIEW_ROWS)}",
        "orders": WORK / f"export{human(EXPORT_ROWS)}-{human(XLSX_ROWS)}",
    }
    many_files_table(local["many"])
    preview_table(local["preview"])
    export_table(local["orders"])
    objects = WORK / "s3-objects"
    shutil.rmtree(objects, ignore_errors=True)
    (objects / "lake").mkdir(parents=True)
    for name, path in local.items():
        shutil.copytree(path, objects / "lake" / name)
    print(f"tables ready in {time.time() - t0:.0f} s", flush=True)

    s3 = S3(objects)
    results = {"runs": RUNS, "store": "s3s-fs 0.14.1 on 127.0.0.1 (SigV4 verified)"}
    data = WORK / "portal-store"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir()
    portal = Portal(data, free_port(), {**s3.env, "PORTAL_LOG": "warn", "PORTAL_QUERY_TIMEOUT_SECS": "300"})
    portal.cli("share", "create", "bench")
    for name, path in local.items():
        portal.cli("table", "add", f"bench.local.{name}", "--location", str(path))
        portal.cli("table", "add", f"bench.s3.{name}", "--location", f"s3://lake/{name}")
    portal.cli("recipient", "create", "bench_reader")
    portal.cli("grant", "bench", "bench_reader")
    profile, _ = portal.profile("bench_reader", data / "bench.share")
    portal.start()
    http = requests.Session()
    http.headers["Authorization"] = "Bearer " + portal.token_of(profile)
    try:
        # 1. /query on FILES files.
        query = {}
        for where in ["local", "s3"]:
            url = f"{portal.endpoint}/shares/bench/schemas/{where}/tables/many/query"
            cold, warm, r = timed(lambda: http.post(url, json={}, timeout=600), RUNS)
            assert r.status_code == 200 and r.text.count("\n") == FILES + 2, (r.status_code, r.text[:300])
            query[where] = {"cold_ms": round(cold * 1000, 1), "warm_p50_ms": p50_ms(warm)}
            print(f"  /query {FILES:,} files, {where}: cold {query[where]['cold_ms']} ms, warm p50 {query[where]['warm_p50_ms']} ms", flush=True)
        query["ratio_s3_over_local_warm"] = round(query["s3"]["warm_p50_ms"] / query["local"]["warm_p50_ms"], 2)
        query["ratio_s3_over_local_cold"] = round(query["s3"]["cold_ms"] / query["local"]["cold_ms"], 2)
        results["query_50k_files"] = query

        # 2. Preview: portal local, portal S3, pyarrow S3.
        fs = pafs.S3FileSystem(access_key=s3.access_key, secret_key=s3.secret_key, endpoint_override=s3.endpoint.removeprefix("http://"), scheme="http", region="us-east-1")
        files = [f.removeprefix("s3://") for f in DeltaTable("s3://lake/preview", storage_options=s3.env).file_uris()]
        peers = pyarrow_queries(fs, files, "lake/preview")
        preview = {}
        for name, q in PORTAL_QUERIES.items():
            row = {}
            for where in ["local", "s3"]:
                url = f"{portal.base}/api/v1/shares/bench/schemas/{where}/tables/preview/rows?{q}"
                _, warm, r = timed(lambda: http.get(url, timeout=600), RUNS)
                assert r.status_code == 200, r.text[:300]
                row[f"portal_{where}_p50_ms"] = p50_ms(warm)
            _, warm, answer = timed(peers[name], RUNS)
            assert answer.num_rows > 0
            row["pyarrow_s3_p50_ms"] = p50_ms(warm)
            row["ratio_portal_s3_over_local"] = round(row["portal_s3_p50_ms"] / row["portal_local_p50_ms"], 2)
            row["ratio_portal_s3_over_pyarrow_s3"] = round(row["portal_s3_p50_ms"] / row["pyarrow_s3_p50_ms"], 2)
            preview[name] = row
            print(f"  preview {name}: {row}", flush=True)
        results["preview_20m"] = preview

        results["server_peak_rss_mb_query_and_preview"] = round(rss_peak_kb(portal.proc.pid) / 1024, 1)
    finally:
        portal.stop()

    # 3. CSV export: local, then S3, each on a fresh server so its peak RSS is the export's own.
    try:
        export = {}
        for where in ["local", "s3"]:
            fresh = Portal(data, free_port(), {**s3.env, "PORTAL_LOG": "warn"})
            fresh.start()
            try:
                sampler = RssSampler(fresh.proc.pid)
                sampler.start()
                s = time.perf_counter()
                lines = 0
                with http.get(f"{fresh.base}/api/v1/shares/bench/schemas/{where}/tables/orders/export.csv", stream=True, timeout=(30, 3600)) as r:
                    assert r.status_code == 200, r.text[:300]
                    for chunk in r.iter_content(1 << 20):
                        lines += chunk.count(b"\n")
                secs = time.perf_counter() - s
                peak = sampler.stop()
            finally:
                fresh.stop()
            assert lines == EXPORT_ROWS + 1, lines
            export[where] = {"seconds": round(secs, 2), "rows_per_s": round(EXPORT_ROWS / secs), "server_peak_rss_mb": round(peak / 1024, 1)}
            print(f"  export.csv {EXPORT_ROWS:,} rows, {where}: {export[where]}", flush=True)
        export["ratio_s3_over_local"] = round(export["s3"]["seconds"] / export["local"]["seconds"], 2)
        results["csv_export_10m"] = export
    finally:
        s3.stop()
    out = ROOT / "bench-results" / "store.json"
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
