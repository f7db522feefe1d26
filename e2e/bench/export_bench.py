"""Export benchmark: the portal's Excel and CSV downloads side by side with their peers in the
same run, on the same generated partitioned Delta table (10M rows x 12 typed columns by default).

  XLSX: `GET .../export.xlsx?partner_id=P000` (exactly BENCH_XLSX_ROWS rows, 1M by default)
        vs Python XlsxWriter in constant_memory mode (typed writes, one call per cell) and
        pandas `DataFrame.to_excel` (engine xlsxwriter), both writing the same rows, read into
        memory before the clock starts.
  CSV:  `GET .../export.csv?_dialect=plain` (every row) vs DuckDB `COPY (SELECT ... FROM
        read_parquet(...)) TO ... (HEADER)` over the same parquet files (threads=2) and pandas
        `DataFrame.to_csv` (data in memory before the clock starts).
  The server's RSS, sampled every 50 ms while each download streams.

  The XLSX limit: rust_xlsxwriter alone writing the same typed cells from memory
        (server/examples/xlsx_limit.rs, built by `make bench`).

Targets (from the issue): XLSX within 1.25x the time of rust_xlsxwriter alone, CSV >= 1.5x
DuckDB's rows/s, server peak RSS <= 150 MB. Every output is checked (row counts, header) before anything is reported.
Writes results to bench-results/export.json and prints a summary with the ratios. Run with
`make bench`.

Environment: PORTAL_BIN (the server binary), BENCH_DIR (where the table is generated, kept
between runs), BENCH_EXPORT_ROWS (default 10000000), BENCH_XLSX_ROWS (rows of partner P000, the
Excel view; default 1000000), BENCH_PANDAS_XLSX_ROWS / BENCH_PANDAS_CSV_ROWS (pandas writes only
the first N rows of its input when set, as it is slow; compared in rows/s, so still fair).
"""
import json
import math
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import requests
from deltalake import DeltaTable, write_deltalake

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "e2e" / "python"))
import conftest  # noqa: E402
from bench import human, rss_peak_kb  # noqa: E402
from conftest import Portal, free_port  # noqa: E402

WORK = Path(os.environ.get("BENCH_DIR", ROOT / "bench-results" / "work"))
ROWS = int(os.environ.get("BENCH_EXPORT_ROWS", "10000000"))
XLSX_ROWS = int(os.environ.get("BENCH_XLSX_ROWS", "1000000"))
# Excel's last row less the header: what pandas (one sheet) can write at most.
ROWS_PER_SHEET = 1_048_575
PANDAS_XLSX_ROWS = int(os.environ.get("BENCH_PANDAS_XLSX_ROWS", str(min(XLSX_ROWS, ROWS_PER_SHEET))))
PANDAS_CSV_ROWS = int(os.environ.get("BENCH_PANDAS_CSV_ROWS", str(ROWS)))
CHUNK = 1_000_000
PARTNERS = 10
SKUS = 5_000
DUCKDB_THREADS = 2
RSS_EVERY_S = 0.05
XLSX_PARTNER = "P000"
# The portal's Excel export within 1.25x of rust_xlsxwriter alone (time ratio), CSV at 1.5x DuckDB.
TARGETS = {"xlsx_time_over_limit": 1.25, "csv_speedup_over_duckdb": 1.5, "server_peak_rss_mb": 150.0}
XLSX_LIMIT_BIN = Path(os.environ.get("XLSX_LIMIT_BIN", ROOT / "target" / "release" / "examples" / "xlsx_limit"))
COUNTRIES = ["US", "GB", "FR", "IT", "ES", "DE", "NL", "SE", "PL", "JP", "BR", "CA"]
COUNTRY_WEIGHTS = [0.22, 0.14, 0.12, 0.10, 0.09, 0.08, 0.06, 0.05, 0.05, 0.04, 0.03, 0.02]
# Column -> how a typed writer writes it (and the Delta type it has).
KINDS = {
    "partner_id": "string",
    "order_id": "string",
    "order_date": "date",  # date32
    "sku": "string",  # leading zeros: text, never a number
    "product": "string",  # ~1% null
    "country": "string",
    "units": "number",  # int64
    "unit_price": "number",  # float64
    "revenue": "number",  # float64
    "discount": "decimal",  # decimal128(10, 2)
    "returned": "boolean",
    "updated_at": "timestamp",  # timestamp[us, UTC]
}
COLUMNS = list(KINDS)
# The portal's header names a timestamp column's zone.
XLSX_HEADER = [c + " (UTC)" if KINDS[c] == "timestamp" else c for c in COLUMNS]


def export_table(path: Path):
    """ROWS order lines partitioned by partner_id (PARTNERS values; exactly XLSX_ROWS of them are
    XLSX_PARTNER's), written CHUNK rows per commit. Written to a side directory and renamed at the
    end, so an interrupted run leaves no half table behind."""
    if (path / "_delta_log").exists():
        return
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    rng = np.random.default_rng(4)
    partners = pa.array([f"P{p:03d}" for p in range(PARTNERS)])
    skus = pa.array([f"{s:06d}" for s in range(SKUS)])
    kinds = ["Organic", "Classic", "Premium", "Family", "Light"]
    goods = ["Oat Milk", "Coffee Beans", "Olive Oil", "Dark Chocolate", "Pasta", "Basmati Rice", "Green Tea", "Granola"]
    products = pa.array([f"{kinds[s % 5]} {goods[s // 5 % 8]} {(s % 25) * 40 + 100} g" for s in range(SKUS)])
    countries = pa.array(COUNTRIES)
    day0 = 18993  # 2022-01-01
    for start in range(0, ROWS, CHUNK):
        n = min(CHUNK, ROWS - start)
        # This chunk's exact share of XLSX_PARTNER's rows (the shares add up to XLSX_ROWS);
        # the other rows spread at random over the other partners.
        mine = XLSX_ROWS * (start + n) // ROWS - XLSX_ROWS * start // ROWS
        partner = np.concatenate([np.zeros(mine, np.int64), rng.integers(1, PARTNERS, n - mine)])
        rng.shuffle(partner)
        sku = rng.integers(0, SKUS, n)
        days = rng.integers(0, 4 * 365, n, dtype=np.int32)
        units = rng.geometric(0.2, n).astype(np.int64)
        unit_price = np.round(rng.uniform(1.0, 200.0, n), 2)
        revenue = np.round(units * unit_price, 2)
        discount = np.round(revenue * rng.choice([0.0, 0.0, 0.0, 0.05, 0.10, 0.15], n), 2)
        updated = (day0 + days).astype(np.int64) * 86_400_000_000 + rng.integers(0, 30 * 86_400_000_000, n)
        order_id = pa.array(np.arange(start, start + n, dtype=np.int64)).cast(pa.string())
        t = pa.table({
            "partner_id": partners.take(pa.array(partner)),
            "order_id": pc.binary_join_element_wise("SO-", pc.utf8_lpad(order_id, 9, "0"), ""),
            "order_date": pa.array(day0 + days, pa.int32()).cast(pa.date32()),
            "sku": skus.take(pa.array(sku)),
            "product": products.take(pa.array(sku, mask=rng.random(n) < 0.01)),
            "country": countries.take(pa.array(rng.choice(len(COUNTRIES), n, p=COUNTRY_WEIGHTS))),
            "units": pa.array(units),
            "unit_price": pa.array(unit_price),
            "revenue": pa.array(revenue),
            "discount": pa.array(discount).cast(pa.decimal128(10, 2)),
            "returned": pa.array(rng.random(n) < 0.03),
            "updated_at": pa.array(updated, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        })
        write_deltalake(str(tmp), t, mode="append", partition_by=["partner_id"])
        print(f"  {start + n:,} / {ROWS:,} rows", flush=True)
    tmp.rename(path)


def dataset(table: Path):
    """The table's files as a pyarrow dataset (the partition column from the paths). pyarrow's
    own dataset, not delta-rs' to_pyarrow_dataset, which can crash the interpreter at exit."""
    files = DeltaTable(str(table)).file_uris()
    partitioning = ds.partitioning(pa.schema([("partner_id", pa.string())]), flavor="hive")
    return ds.dataset(files, format="parquet", partitioning=partitioning, partition_base_dir=str(table))


def rss_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class RssSampler(threading.Thread):
    """The largest VmRSS of `pid` seen while it runs, sampled every RSS_EVERY_S."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.samples = pid, 0, 0
        self.done = threading.Event()

    def run(self):
        while True:
            self.peak_kb = max(self.peak_kb, rss_kb(self.pid))
            self.samples += 1
            if self.done.wait(RSS_EVERY_S):
                return

    def stop(self):
        self.done.set()
        self.join()
        self.peak_kb = max(self.peak_kb, rss_kb(self.pid))
        return self.peak_kb


def count_lines(path: Path):
    n = 0
    with open(path, "rb") as f:
        while block := f.read(1 << 24):
            n += block.count(b"\n")
    return n


def first_line(path: Path):
    with open(path, "rb") as f:
        return f.readline().decode("utf-8").rstrip("\r\n")


def xlsx_rows(path: Path):
    """(sheet names, data rows per "Data…" sheet, header of the first, first data row, About
    facts), from the sheets' dimensions: cheap even for a million rows."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        data = [n for n in wb.sheetnames if n.startswith("Data")]
        counts = []
        for name in data:
            max_row = wb[name].max_row
            assert max_row is not None, f"{path}: sheet {name} has no dimension"
            counts.append(max_row - 1)
        head = list(wb[data[0]].iter_rows(min_row=1, max_row=2, values_only=True))
        about = {r[0]: r[1] for r in wb["About"].iter_rows(max_col=2, values_only=True) if r and r[0]} if "About" in wb.sheetnames else {}
        return wb.sheetnames, counts, list(head[0]), list(head[1]) if len(head) > 1 else [], about
    finally:
        wb.close()


def rate(rows, seconds, path: Path):
    size = path.stat().st_size
    return {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds, "output_mb": size / 1e6, "mb_per_s": size / 1e6 / seconds}


# ---- XLSX peers -------------------------------------------------------------------------------


def xlsxwriter_columns(t: pa.Table):
    """Per column: (kind, Python values), converted before the clock starts. Timestamps as naive
    UTC datetimes and decimals as floats: what Excel stores, and what the portal writes."""
    out = []
    for name, kind in KINDS.items():
        a = t.column(name)
        if kind == "timestamp":
            a = a.cast(pa.timestamp("us"))
        elif kind == "decimal":
            a = a.cast(pa.float64())
        out.append((kind, a.to_pylist()))
    return out


def write_xlsxwriter(columns, n, out: Path):
    """Python XlsxWriter, constant_memory: one typed write per non-null cell, row by row; the same
    bold frozen header and autofilter as the portal, more sheets past Excel's row limit."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(out), {"constant_memory": True})
    bold = wb.add_format({"bold": True})
    formats = {
        "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
        "timestamp": wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
        "decimal": wb.add_format({"num_format": "0.00"}),
    }
    method = {"string": "write_string", "number": "write_number", "decimal": "write_number", "boolean": "write_boolean", "date": "write_datetime", "timestamp": "write_datetime"}
    first, sheet = 0, 0
    while first < n or sheet == 0:
        sheet += 1
        end = min(n, first + ROWS_PER_SHEET)
        ws = wb.add_worksheet("Data" if sheet == 1 else f"Data ({sheet})")
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, end - first, len(COLUMNS) - 1)
        for c, h in enumerate(XLSX_HEADER):
            ws.write_string(0, c, h, bold)
        writes = [(c, getattr(ws, method[kind]), formats.get(kind), values) for c, (kind, values) in enumerate(columns)]
        for r in range(first, end):
            row = r - first + 1
            for c, write, fmt, values in writes:
                v = values[r]
                if v is not None:
                    write(row, c, v, fmt)
        first = end
    wb.close()


def run_xlsx_limit(table: Path, out_dir: Path):
    """rust_xlsxwriter alone (server/examples/xlsx_limit.rs): the same typed cells of the same
    files, read into memory before its clock starts; the ceiling of any Excel export in Rust."""
    import subprocess

    files = sorted(str(f) for f in (table / f"partner_id={XLSX_PARTNER}").glob("*.parquet"))
    out = out_dir / "limit.xlsx"
    done = subprocess.run([str(XLSX_LIMIT_BIN), str(out), f"partner_id={XLSX_PARTNER}", *files], capture_output=True, text=True, check=True)
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    _, counts, header, _, _ = xlsx_rows(out)
    assert sum(counts) == XLSX_ROWS == measured["rows"], (counts, measured)
    result = {"mode": "rust_xlsxwriter constant memory, typed cells from memory", **rate(XLSX_ROWS, measured["seconds"], out)}
    out.unlink()
    print(f"  rust_xlsxwriter alone: {XLSX_ROWS:,} rows in {measured['seconds']:.1f} s", flush=True)
    return result


def run_xlsx_peers(dset, table: Path, out_dir: Path):
    import pandas as pd
    import xlsxwriter

    t = dset.to_table(columns=COLUMNS, filter=pc.field("partner_id") == XLSX_PARTNER)
    assert t.num_rows == XLSX_ROWS, f"{XLSX_PARTNER} has {t.num_rows} rows, expected {XLSX_ROWS}; delete the table to regenerate"
    results = {"rust_xlsxwriter": run_xlsx_limit(table, out_dir)}

    columns = xlsxwriter_columns(t)
    out = out_dir / "xlsxwriter.xlsx"
    s = time.perf_counter()
    write_xlsxwriter(columns, XLSX_ROWS, out)
    secs = time.perf_counter() - s
    del columns
    _, counts, header, _, _ = xlsx_rows(out)
    assert sum(counts) == XLSX_ROWS and header == XLSX_HEADER, (counts, header)
    results["xlsxwriter"] = {"version": xlsxwriter.__version__, "mode": "constant_memory, typed write_* per cell", **rate(XLSX_ROWS, secs, out)}
    out.unlink()
    print(f"  xlsxwriter: {XLSX_ROWS:,} rows in {secs:.1f} s", flush=True)

    df = t.slice(0, PANDAS_XLSX_ROWS).to_pandas()
    df["updated_at"] = df["updated_at"].dt.tz_localize(None)  # Excel has no time zones; pandas refuses them
    df["discount"] = df["discount"].astype("float64")
    out = out_dir / "pandas.xlsx"
    s = time.perf_counter()
    df.to_excel(out, sheet_name="Data", index=False, engine="xlsxwriter", freeze_panes=(1, 0))
    secs = time.perf_counter() - s
    del df, t
    _, counts, header, _, _ = xlsx_rows(out)
    assert counts == [PANDAS_XLSX_ROWS] and header == COLUMNS, (counts, header)
    results["pandas"] = {
        "version": pd.__version__,
        "mode": "DataFrame.to_excel(engine='xlsxwriter'), in memory (pandas writes column by column, so not constant_memory)",
        **rate(PANDAS_XLSX_ROWS, secs, out),
    }
    out.unlink()
    print(f"  pandas to_excel: {PANDAS_XLSX_ROWS:,} rows in {secs:.1f} s", flush=True)
    return results


# ---- CSV peers --------------------------------------------------------------------------------


def run_csv_peers(dset, table: Path, out_dir: Path):
    import duckdb
    import pandas as pd

    results = {}
    out = out_dir / "duckdb.csv"
    source = "read_parquet('{}', hive_partitioning = true)".format(f"{table}/**/*.parquet".replace("'", "''"))
    sql = f"COPY (SELECT {', '.join(COLUMNS)} FROM {source}) TO '{out}' (HEADER)"
    con = duckdb.connect()
    con.execute(f"SET threads = {DUCKDB_THREADS}")
    s = time.perf_counter()
    con.execute(sql)
    secs = time.perf_counter() - s
    con.close()
    lines = count_lines(out)
    assert lines == ROWS + 1 and first_line(out) == ",".join(COLUMNS), (lines, first_line(out))
    results["duckdb"] = {"version": duckdb.__version__, "threads": DUCKDB_THREADS, "sql": sql, **rate(ROWS, secs, out)}
    out.unlink()
    print(f"  duckdb COPY: {ROWS:,} rows in {secs:.1f} s", flush=True)

    t = dset.to_table(columns=COLUMNS) if PANDAS_CSV_ROWS >= ROWS else dset.head(PANDAS_CSV_ROWS, columns=COLUMNS)
    assert t.num_rows == PANDAS_CSV_ROWS, (t.num_rows, PANDAS_CSV_ROWS)
    df = t.to_pandas()
    del t
    out = out_dir / "pandas.csv"
    s = time.perf_counter()
    df.to_csv(out, index=False)
    secs = time.perf_counter() - s
    del df
    lines = count_lines(out)
    assert lines == PANDAS_CSV_ROWS + 1 and first_line(out) == ",".join(COLUMNS), (lines, first_line(out))
    results["pandas"] = {"version": pd.__version__, "mode": "DataFrame.to_csv, in memory", **rate(PANDAS_CSV_ROWS, secs, out)}
    out.unlink()
    print(f"  pandas to_csv: {PANDAS_CSV_ROWS:,} rows in {secs:.1f} s", flush=True)
    return results


# ---- The portal -------------------------------------------------------------------------------


def download(http, url, out: Path, pid):
    """Streams `url` to `out`; (seconds, server RSS before in kB, sampled peak in kB, samples)."""
    before = rss_kb(pid)
    sampler = RssSampler(pid)
    sampler.start()
    s = time.perf_counter()
    try:
        with http.get(url, stream=True, timeout=(30, 3600)) as r:
            if r.status_code != 200:
                raise AssertionError(f"GET {url}: {r.status_code} {r.text[:500]}")
            with open(out, "wb") as f:
                for chunk in r.iter_content(1 << 20):
                    f.write(chunk)
        secs = time.perf_counter() - s
    finally:
        peak = sampler.stop()
    return secs, before, peak, sampler.samples


def run_portal(table: Path, out_dir: Path):
    data = WORK / "portal-export"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir()
    env = {"PORTAL_LOG": "warn", "PORTAL_QUERY_TIMEOUT_SECS": "300"}
    if XLSX_ROWS > 5_000_000:  # the server's default limit for one Excel download
        env["PORTAL_XLSX_MAX_ROWS"] = str(XLSX_ROWS)
    portal = Portal(data, free_port(), env)
    portal.cli("share", "create", "bench")
    portal.cli("table", "add", "bench.s.orders", "--location", str(table))
    portal.cli("recipient", "create", "bench_reader")
    portal.cli("grant", "bench", "bench_reader")
    profile, _ = portal.profile("bench_reader", data / "bench.share")
    portal.start()
    pid = portal.proc.pid
    http = requests.Session()
    http.headers["Authorization"] = "Bearer " + portal.token_of(profile)
    base = portal.base + "/api/v1/shares/bench/schemas/s/tables/orders/"
    results = {}
    try:
        # Warm-up: opens the table (one empty partition) so neither download pays for it.
        r = http.get(base + "export.csv?partner_id=none", timeout=300)
        assert r.status_code == 200 and r.text.count("\n") == 1, (r.status_code, r.text[:500])

        query = f"export.xlsx?partner_id={XLSX_PARTNER}"
        out = out_dir / "portal.xlsx"
        secs, before, peak, samples = download(http, base + query, out, pid)
        hwm_xlsx = rss_peak_kb(pid)
        sheets, counts, header, first, about = xlsx_rows(out)
        expected_sheets = ["Data"] + [f"Data ({i})" for i in range(2, math.ceil(XLSX_ROWS / ROWS_PER_SHEET) + 1)] + ["About"]
        assert sheets == expected_sheets, sheets
        assert sum(counts) == XLSX_ROWS, f"portal xlsx holds {counts} data rows, expected {XLSX_ROWS}"
        assert header == XLSX_HEADER, header
        assert about.get("Rows") == str(XLSX_ROWS), about.get("Rows")
        types = [type(v).__name__ for v in first]
        assert first[0] == XLSX_PARTNER and isinstance(first[6], int) and isinstance(first[10], bool) and types[2] == types[11] == "datetime", types
        results["xlsx"] = {
            "query": query,
            "sheets": sheets,
            **rate(XLSX_ROWS, secs, out),
            "server_rss_before_mb": before / 1024,
            "server_peak_rss_mb": peak / 1024,
            "rss_samples": samples,
            "server_vmhwm_after_mb": hwm_xlsx / 1024,
        }
        out.unlink()
        print(f"  portal xlsx: {XLSX_ROWS:,} rows in {secs:.1f} s, server peak RSS {peak / 1024:.0f} MB", flush=True)

        query = "export.csv?_dialect=plain"
        out = out_dir / "portal.csv"
        secs, before, peak, samples = download(http, base + query, out, pid)
        hwm_csv = rss_peak_kb(pid)
        lines = count_lines(out)
        assert lines == ROWS + 1, f"portal csv has {lines} lines, expected {ROWS + 1}"
        assert first_line(out) == ",".join(COLUMNS), first_line(out)
        results["csv"] = {
            "query": query,
            **rate(ROWS, secs, out),
            "server_rss_before_mb": before / 1024,
            "server_peak_rss_mb": peak / 1024,
            "rss_samples": samples,
            "server_vmhwm_after_mb": hwm_csv / 1024,
        }
        out.unlink()
        print(f"  portal csv: {ROWS:,} rows in {secs:.1f} s, server peak RSS {peak / 1024:.0f} MB", flush=True)
    finally:
        portal.stop()
    return results


def main():
    if not Path(conftest.PORTAL_BIN).is_file() or not os.access(conftest.PORTAL_BIN, os.X_OK):
        sys.exit(f"export_bench: PORTAL_BIN={conftest.PORTAL_BIN} is not an executable file; "
                 "build it (cargo build --release -p server --bin portal) or run `make bench`")
    try:
        import duckdb  # noqa: F401
        import openpyxl  # noqa: F401
        import pandas  # noqa: F401
        import xlsxwriter  # noqa: F401
    except ImportError as e:
        sys.exit(f"export_bench: {e.name} is not installed; .venv/bin/pip install -r e2e/python/requirements.txt")
    if not 0 < XLSX_ROWS <= ROWS:
        sys.exit("export_bench: BENCH_XLSX_ROWS must be between 1 and BENCH_EXPORT_ROWS")
    if not 0 < PANDAS_XLSX_ROWS <= min(XLSX_ROWS, ROWS_PER_SHEET):
        sys.exit(f"export_bench: BENCH_PANDAS_XLSX_ROWS must be between 1 and {min(XLSX_ROWS, ROWS_PER_SHEET):,} (pandas writes one sheet)")
    if not 0 < PANDAS_CSV_ROWS <= ROWS:
        sys.exit("export_bench: BENCH_PANDAS_CSV_ROWS must be between 1 and BENCH_EXPORT_ROWS")

    WORK.mkdir(parents=True, exist_ok=True)
    table = WORK / f"export{human(ROWS)}-{human(XLSX_ROWS)}"
    t0 = time.time()
    export_table(table)
    files = DeltaTable(str(table)).file_uris()
    on_disk = sorted(table.rglob("*.parquet"))
    assert len(on_disk) == len(files), f"{table} holds {len(on_disk)} parquet files, the Delta log {len(files)}; delete it to regenerate"
    parquet_gb = sum(f.stat().st_size for f in on_disk) / 1e9
    print(f"table ready in {time.time() - t0:.0f} s: {ROWS:,} rows, {len(files)} files, {parquet_gb:.2f} GB", flush=True)

    out_dir = WORK / "export-out"
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir()
    dset = dataset(table)
    xlsx_peers = run_xlsx_peers(dset, table, out_dir)
    csv_peers = run_csv_peers(dset, table, out_dir)
    portal = run_portal(table, out_dir)
    shutil.rmtree(out_dir, ignore_errors=True)

    px, pcsv = portal["xlsx"]["rows_per_s"], portal["csv"]["rows_per_s"]
    ratios = {
        "xlsx_portal_over_rust_xlsxwriter": px / xlsx_peers["rust_xlsxwriter"]["rows_per_s"],
        "xlsx_portal_over_xlsxwriter": px / xlsx_peers["xlsxwriter"]["rows_per_s"],
        "xlsx_portal_over_pandas": px / xlsx_peers["pandas"]["rows_per_s"],
        "csv_portal_over_duckdb": pcsv / csv_peers["duckdb"]["rows_per_s"],
        "csv_portal_over_pandas": pcsv / csv_peers["pandas"]["rows_per_s"],
    }
    peak_mb = max(portal["xlsx"]["server_peak_rss_mb"], portal["csv"]["server_peak_rss_mb"])
    targets = {
        "xlsx_within_limit": {"target": f"time <= {TARGETS['xlsx_time_over_limit']:g}x rust_xlsxwriter",
                              "value": 1 / ratios["xlsx_portal_over_rust_xlsxwriter"],
                              "met": 1 / ratios["xlsx_portal_over_rust_xlsxwriter"] <= TARGETS["xlsx_time_over_limit"]},
        "csv_over_duckdb": {"target": f">= {TARGETS['csv_speedup_over_duckdb']:g}x", "value": ratios["csv_portal_over_duckdb"],
                                "met": ratios["csv_portal_over_duckdb"] >= TARGETS["csv_speedup_over_duckdb"]},
        "server_peak_rss_150mb": {"target": f"<= {TARGETS['server_peak_rss_mb']:g} MB", "value": peak_mb, "met": peak_mb <= TARGETS["server_peak_rss_mb"]},
    }
    results = {
        "table": {"rows": ROWS, "columns": len(COLUMNS), "files": len(files), "partitions": PARTNERS, "parquet_gb": parquet_gb, "path": str(table),
                  "xlsx_view": f"partner_id={XLSX_PARTNER}", "xlsx_rows": XLSX_ROWS},
        "note": "rows_per_s from one run each; peers' inputs are in memory before the clock starts, the portal reads the parquet files "
                "and its time includes HTTP and the client writing the file; server RSS sampled every "
                f"{RSS_EVERY_S * 1000:.0f} ms during each download (VmHWM is the process lifetime's peak)",
        "portal": {"bin": conftest.PORTAL_BIN, **portal},
        "xlsx_peers": xlsx_peers,
        "csv_peers": csv_peers,
        "ratios_rows_per_s_portal_over_peer": ratios,
        "targets": targets,
    }
    out = ROOT / "bench-results" / "export.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))

    def line(label, r, ratio=None):
        ratio = f"{ratio:>9.1f}x" if ratio is not None else f"{'':>10}"
        print(f"{label:<44}{r['rows']:>12,}{r['seconds']:>9.1f}{r['rows_per_s']:>12,.0f}{r['mb_per_s']:>8.1f}{ratio}")

    print()
    print(f"Exports of one Delta table, {ROWS:,} rows x {len(COLUMNS)} typed columns in {len(files)} files over {PARTNERS} partitions "
          f"({parquet_gb:.2f} GB parquet); one run each.")
    print(f"portal: {conftest.PORTAL_BIN}; times include HTTP and writing the file. Peers: input in memory before the clock starts.")
    print(f"{'':<44}{'rows':>12}{'s':>9}{'rows/s':>12}{'MB/s':>8}{'portal is':>10}")
    print(f"XLSX (partner_id={XLSX_PARTNER})")
    line("  portal export.xlsx", portal["xlsx"])
    line("  rust_xlsxwriter alone, from memory", xlsx_peers["rust_xlsxwriter"], ratios["xlsx_portal_over_rust_xlsxwriter"])
    line(f"  XlsxWriter {xlsx_peers['xlsxwriter']['version']} constant_memory", xlsx_peers["xlsxwriter"], ratios["xlsx_portal_over_xlsxwriter"])
    line(f"  pandas {xlsx_peers['pandas']['version']} to_excel (xlsxwriter)", xlsx_peers["pandas"], ratios["xlsx_portal_over_pandas"])
    print("CSV (every row)")
    line("  portal export.csv?_dialect=plain", portal["csv"])
    line(f"  DuckDB {csv_peers['duckdb']['version']} COPY, threads={DUCKDB_THREADS}", csv_peers["duckdb"], ratios["csv_portal_over_duckdb"])
    line(f"  pandas {csv_peers['pandas']['version']} to_csv", csv_peers["pandas"], ratios["csv_portal_over_pandas"])
    for kind in ("xlsx", "csv"):
        p = portal[kind]
        print(f"server RSS during {kind}: {p['server_rss_before_mb']:.0f} MB before, peak {p['server_peak_rss_mb']:.0f} MB "
              f"({p['rss_samples']} samples); VmHWM after {p['server_vmhwm_after_mb']:.0f} MB")
    print("targets:")
    for name, t in targets.items():
        got = f"{t['value']:.0f} MB" if name.startswith("server") else f"{t['value']:.2f}x"
        print(f"  {name:<24}{t['target']:>12}  got {got:>8}  {'met' if t['met'] else 'NOT MET'}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
