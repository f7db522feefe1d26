"""Table preview benchmark: the rows API side by side with DuckDB in the same run.

On a generated partitioned Delta table (20M rows by default), p50/p95 latency of
  (a) the unfiltered first page,
  (b) a selective filter + sort + limit 100,
  (c) a facet count,
through `GET /api/v1/shares/{share}/schemas/{schema}/tables/{table}/rows` of the real server
(HTTP + JSON included), and through DuckDB (PyPI, in-process, 2 threads) reading the same
parquet files. Also the server's peak RSS.

Writes results to bench-results/preview.json and prints a summary with the ratios
portal/duckdb. Run with `make bench`.

Environment: PORTAL_BIN (the server binary), BENCH_DIR (where the table is generated, kept
between runs), BENCH_PREVIEW_ROWS (default 20000000), BENCH_PREVIEW_RUNS (default 15; the
first run of each query is a warm-up and is not counted).
"""
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import requests
from deltalake import DeltaTable, write_deltalake

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "e2e" / "python"))
import conftest  # noqa: E402
from bench import human, pct, rss_peak_kb  # noqa: E402
from conftest import Portal, free_port  # noqa: E402

WORK = Path(os.environ.get("BENCH_DIR", ROOT / "bench-results" / "work"))
ROWS = int(os.environ.get("BENCH_PREVIEW_ROWS", "20000000"))
RUNS = int(os.environ.get("BENCH_PREVIEW_RUNS", "15"))
CHUNK = 2_000_000
PARTNERS = 20
SKUS = 5_000
DUCKDB_THREADS = 2
# Skewed, so that the facet has a shape and `country=DE` is one country among many.
COUNTRIES = ["US", "GB", "FR", "IT", "ES", "DE", "NL", "SE", "PL", "JP", "BR", "CA"]
COUNTRY_WEIGHTS = [0.22, 0.14, 0.12, 0.10, 0.09, 0.08, 0.06, 0.05, 0.05, 0.04, 0.03, 0.02]
# units are geometric (p=0.2), so units >= 20 is ~1.4% of rows; with DE (8%) about 0.12%:
# ~23,000 rows of 20M, ~230 of 200k -- selective, yet always more than one page.
FILTER = {"country": "DE", "units_gte": 20}

PORTAL_QUERIES = {
    "a_first_page": "_size=100",
    "b_filter_sort_limit": f"country={FILTER['country']}&units__gte={FILTER['units_gte']}&_sort_desc=revenue&_size=100",
    "c_facet_count": "_facet=country&_size=1",
}
LABELS = {
    "a_first_page": "(a) unfiltered first page",
    "b_filter_sort_limit": "(b) filter + sort + limit 100",
    "c_facet_count": "(c) facet count (country)",
}


def duckdb_queries(table: Path):
    source = "read_parquet('{}', hive_partitioning = true)".format(f"{table}/**/*.parquet".replace("'", "''"))
    return {
        "a_first_page": f"SELECT * FROM {source} LIMIT 100",
        "b_filter_sort_limit": f"SELECT * FROM {source} WHERE country = '{FILTER['country']}' AND units >= {FILTER['units_gte']} ORDER BY revenue DESC LIMIT 100",
        "c_facet_count": f"SELECT country, count(*) FROM {source} GROUP BY country ORDER BY 2 DESC LIMIT 30",
    }


def preview_table(path: Path):
    """ROWS order lines partitioned by partner_id, written CHUNK rows per commit. Written to a
    side directory and renamed at the end, so an interrupted run leaves no half table behind."""
    if (path / "_delta_log").exists():
        return
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    rng = np.random.default_rng(3)
    partners = pa.array([f"P{p:03d}" for p in range(PARTNERS)])
    skus = pa.array([f"SKU-{s:05d}" for s in range(SKUS)])
    countries = pa.array(COUNTRIES)
    day0 = 18993  # 2022-01-01
    for start in range(0, ROWS, CHUNK):
        n = min(CHUNK, ROWS - start)
        days = rng.integers(0, 4 * 365, n, dtype=np.int32)
        units = rng.geometric(0.2, n).astype(np.int64)
        unit_price = np.round(rng.uniform(1.0, 200.0, n), 2)
        updated = (day0 + days).astype(np.int64) * 86_400_000_000 + rng.integers(0, 30 * 86_400_000_000, n)
        t = pa.table({
            "partner_id": partners.take(pa.array(rng.integers(0, PARTNERS, n))),
            "order_id": pa.array(np.arange(start, start + n, dtype=np.int64)),
            "order_date": pa.array(day0 + days, pa.int32()).cast(pa.date32()),
            "sku": skus.take(pa.array(rng.integers(0, SKUS, n))),
            "country": countries.take(pa.array(rng.choice(len(COUNTRIES), n, p=COUNTRY_WEIGHTS))),
            "units": pa.array(units),
            "unit_price": pa.array(unit_price),
            "revenue": pa.array(np.round(units * unit_price, 2)),
            "updated_at": pa.array(updated, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        })
        write_deltalake(str(tmp), t, mode="append", partition_by=["partner_id"])
        print(f"  {start + n:,} / {ROWS:,} rows", flush=True)
    tmp.rename(path)


def timed(fn, runs):
    """Per-run seconds of `fn()` and its last result; the first run is a warm-up, not counted."""
    times, out = [], None
    for i in range(runs):
        s = time.perf_counter()
        out = fn()
        if i > 0:
            times.append(time.perf_counter() - s)
    return times, out


def stats_ms(times):
    return {"p50_ms": statistics.median(times) * 1e3, "p95_ms": pct(times, 0.95) * 1e3, "runs_ms": [t * 1e3 for t in times]}


def run_duckdb(table: Path):
    """Each query on its own fresh in-process database (no cache carried over from another
    query), rows fetched into Python."""
    import duckdb

    results, answers = {}, {}
    for name, sql in duckdb_queries(table).items():
        con = duckdb.connect()
        con.execute(f"SET threads = {DUCKDB_THREADS}")

        def run():
            cur = con.execute(sql)
            return [d[0] for d in cur.description], cur.fetchall()

        times, answers[name] = timed(run, RUNS)
        con.close()
        results[name] = {"sql": sql, **stats_ms(times)}
        print(f"  duckdb {name}: p50 {results[name]['p50_ms']:.1f} ms", flush=True)
    return results, answers


def check_duckdb(answers, table: Path):
    """The table is what the queries assume: all the rows, enough for a full filtered page."""
    facet = dict(answers["c_facet_count"][1])
    assert sum(facet.values()) == ROWS, f"duckdb counts {sum(facet.values())} rows under {table}, expected {ROWS}"
    assert set(facet) == set(COUNTRIES), facet
    cols, rows = answers["b_filter_sort_limit"]
    assert len(rows) == 100, f"the filter of (b) matches only {len(rows)} rows; raise BENCH_PREVIEW_ROWS"
    assert len(answers["a_first_page"][1]) == 100


def run_portal(table: Path, duck_answers):
    data = WORK / "portal-preview"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir()
    portal = Portal(data, free_port(), {"PORTAL_LOG": "warn", "PORTAL_QUERY_TIMEOUT_SECS": "120"})
    portal.cli("share", "create", "bench")
    portal.cli("table", "add", "bench.s.preview", "--location", str(table))
    portal.cli("recipient", "create", "bench_reader")
    portal.cli("grant", "bench", "bench_reader")
    profile, _ = portal.profile("bench_reader", data / "bench.share")
    portal.start()
    http = requests.Session()
    http.headers["Authorization"] = "Bearer " + portal.token_of(profile)
    url = portal.base + "/api/v1/shares/bench/schemas/s/tables/preview/rows?"
    results, bodies = {}, {}
    try:
        for name, query in PORTAL_QUERIES.items():

            def run():
                r = http.get(url + query, timeout=300)
                if r.status_code != 200:
                    raise AssertionError(f"GET rows?{query}: {r.status_code} {r.text[:500]}")
                return r

            times, r = timed(run, RUNS)
            bodies[name] = r.json()
            results[name] = {"query": "rows?" + query, "response_bytes": len(r.content), **stats_ms(times)}
            print(f"  portal {name}: p50 {results[name]['p50_ms']:.1f} ms", flush=True)
        peak_mb = rss_peak_kb(portal.proc.pid) / 1024
    finally:
        portal.stop()

    # Same answers as DuckDB, so the two sides did the same work.
    a = bodies["a_first_page"]
    assert len(a["rows"]) == 100 and a["count"] == ROWS, (len(a["rows"]), a["count"])
    b = bodies["b_filter_sort_limit"]
    names = [c["name"] for c in b["columns"]]
    revenue = [row[names.index("revenue")] for row in b["rows"]]
    cols, rows = duck_answers["b_filter_sort_limit"]
    expected = [row[cols.index("revenue")] for row in rows]
    assert len(revenue) == 100 and all(abs(x - y) < 1e-6 for x, y in zip(revenue, expected)), (revenue[:5], expected[:5])
    assert all(row[names.index("country")] == FILTER["country"] and row[names.index("units")] >= FILTER["units_gte"] for row in b["rows"])
    results["b_filter_sort_limit"]["matching_rows"] = b["count"]
    results["b_filter_sort_limit"]["matching_rows_exact"] = b["count_exact"]
    return results, peak_mb


def main():
    if not Path(conftest.PORTAL_BIN).is_file() or not os.access(conftest.PORTAL_BIN, os.X_OK):
        sys.exit(f"preview_bench: PORTAL_BIN={conftest.PORTAL_BIN} is not an executable file; "
                 "build it (cargo build --release -p server --bin portal) or run `make bench`")
    try:
        import duckdb
    except ImportError:
        sys.exit("preview_bench: duckdb is not installed; .venv/bin/pip install -r e2e/python/requirements.txt")
    if RUNS < 2:
        sys.exit("preview_bench: BENCH_PREVIEW_RUNS must be at least 2 (the first run is a warm-up)")

    WORK.mkdir(parents=True, exist_ok=True)
    table = WORK / f"preview{human(ROWS)}"
    t0 = time.time()
    preview_table(table)
    files = DeltaTable(str(table)).file_uris()
    on_disk = sorted(table.rglob("*.parquet"))
    assert len(on_disk) == len(files), f"{table} holds {len(on_disk)} parquet files, the Delta log {len(files)}; delete it to regenerate"
    parquet_gb = sum(f.stat().st_size for f in on_disk) / 1e9
    print(f"table ready in {time.time() - t0:.0f} s: {ROWS:,} rows, {len(files)} files, {parquet_gb:.2f} GB", flush=True)

    duck, duck_answers = run_duckdb(table)
    check_duckdb(duck_answers, table)
    portal, peak_mb = run_portal(table, duck_answers)

    results = {
        "table": {"rows": ROWS, "files": len(files), "partitions": PARTNERS, "parquet_gb": parquet_gb, "path": str(table)},
        "runs_counted": RUNS - 1,
        "portal": {"bin": conftest.PORTAL_BIN, "note": "HTTP + JSON included", "server_peak_rss_mb": peak_mb, **portal},
        "duckdb": {"version": duckdb.__version__, "threads": DUCKDB_THREADS, "note": "in-process, rows fetched into Python", **duck},
        "ratios_portal_over_duckdb": {
            name: {"p50": portal[name]["p50_ms"] / duck[name]["p50_ms"], "p95": portal[name]["p95_ms"] / duck[name]["p95_ms"]} for name in PORTAL_QUERIES
        },
    }
    out = ROOT / "bench-results" / "preview.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))

    print()
    print(f"Table preview, {ROWS:,} rows in {len(files)} files over {PARTNERS} partitions ({parquet_gb:.2f} GB parquet); "
          f"p50/p95 of {RUNS - 1} runs after one warm-up, in ms.")
    print(f"portal: GET .../rows, times include HTTP + JSON encoding/decoding; {conftest.PORTAL_BIN}")
    print(f"duckdb {duckdb.__version__}: in-process, threads={DUCKDB_THREADS}, read_parquet over the same files, rows fetched into Python")
    print(f"{'query':<32}{'portal p50':>11}{'p95':>9}{'duckdb p50':>12}{'p95':>9}{'ratio p50':>11}{'p95':>7}")
    for name in PORTAL_QUERIES:
        p, d, r = portal[name], duck[name], results["ratios_portal_over_duckdb"][name]
        print(f"{LABELS[name]:<32}{p['p50_ms']:>11.1f}{p['p95_ms']:>9.1f}{d['p50_ms']:>12.1f}{d['p95_ms']:>9.1f}{r['p50']:>10.1f}x{r['p95']:>6.1f}x")
    b = portal["b_filter_sort_limit"]
    matched = "an uncounted number of" if b["matching_rows"] is None else f"{b['matching_rows']:,}{'' if b['matching_rows_exact'] else '+'}"
    how = "exactly, in its sort's scan" if b["matching_rows_exact"] else "up to its cap"
    print(f"(b) matches {matched} rows (the portal counts them {how}); server peak RSS {peak_mb:.0f} MB")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
