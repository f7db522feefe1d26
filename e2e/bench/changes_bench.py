"""Incremental extract benchmark: the portal's "changes since version N" downloads side by side
with delta-rs reading the same change data feed in the same run.

On a generated Delta table with the change data feed on (2M order lines by default, partitioned
by partner_id, then 5 commits that each update 1% of the lines, delete 0.5% and append 1%):

  changes: `GET .../export.csv?_since=1&_dialect=plain` as partner P001 (its scope applied by the
           portal) vs delta-rs `DeltaTable.load_cdf(starting_version=2, predicate="partner_id =
           'P001'")` (its partitions pruned), read whole and written as CSV with pyarrow (the
           same rows, the same columns).
  net:     `...&_net=1` (each changed order once, in its latest state; key column `order_id`)
           vs the same delta-rs read, then pandas: pre-images dropped, the latest change per
           order kept (commit version, an insert beating a delete of the same commit), CSV.

Both sides are checked to hold the same number of rows before anything is reported; medians of
BENCH_CHANGES_RUNS runs (default 5, after one warm-up each). The ratio is portal / delta-rs
(below 1 = the portal is faster). Also the server's peak RSS. Writes
bench-results/changes.json. Run with `make bench`.

Environment: PORTAL_BIN, BENCH_DIR (the table is kept between runs), BENCH_CHANGES_ROWS.
"""
import io
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import requests
from deltalake import DeltaTable, write_deltalake

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "e2e" / "python"))
import conftest  # noqa: E402,F401
from bench import rss_peak_kb  # noqa: E402
from conftest import Portal, free_port  # noqa: E402

WORK = Path(os.environ.get("BENCH_DIR", ROOT / "bench-results" / "work"))
ROWS = int(os.environ.get("BENCH_CHANGES_ROWS", "2000000"))
RUNS = int(os.environ.get("BENCH_CHANGES_RUNS", "5"))
PARTNERS = 20
COMMITS = 5
SINCE = 1
PARTNER = "P001"
COLUMNS = ["order_id", "partner_id", "country", "units", "revenue"]
CHANGE_COLUMNS = ["_change_type", "_commit_version", "_commit_timestamp"]


def lines(first_id, n, rng):
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    return pa.table({
        "order_id": ids,
        "partner_id": pa.array([f"P{p:03d}" for p in ids % PARTNERS]),
        "country": pa.array(np.array(["DE", "FR", "IT", "NL", "SE", "PL"])[rng.integers(0, 6, n)]),
        "units": pa.array(rng.integers(1, 50, n), pa.int64()),
        "revenue": pa.array(np.round(rng.random(n) * 500, 2)),
    })


def changes_table(path: Path):
    """Version 0 the lines, 1 more lines; then COMMITS rounds of update, delete and append (three
    commits each), so `_since=1` spans 15 commits. Written aside and renamed when complete."""
    if (path / "_delta_log").exists():
        return
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    rng = np.random.default_rng(11)
    half = ROWS // 2
    write_deltalake(str(tmp), lines(0, half, rng), partition_by=["partner_id"], configuration={"delta.enableChangeDataFeed": "true"})
    write_deltalake(str(tmp), lines(half, ROWS - half, rng), mode="append")
    next_id = ROWS
    for round_ in range(COMMITS):
        dt = DeltaTable(str(tmp))
        dt.update(predicate=f"order_id % 100 = {round_}", updates={"units": "units + 1"})
        dt.delete(f"order_id % 200 = {100 + round_}")
        write_deltalake(str(tmp), lines(next_id, ROWS // 100, rng), mode="append")
        next_id += ROWS // 100
    tmp.rename(path)


def delta_rs_changes(table: Path):
    # The partner's rows asked for in the read (delta-rs prunes the other partitions), as the
    # portal's scope does.
    reader = DeltaTable(str(table)).load_cdf(starting_version=SINCE + 1, predicate=f"partner_id = '{PARTNER}'")
    changes = pa.table(reader.read_all())
    # delta-rs reads text as string views, which this pyarrow cannot filter: plain strings first.
    plain = pa.schema([f.with_type(pa.string()) if f.type == pa.string_view() else f for f in changes.schema])
    changes = changes.cast(plain)
    return changes.filter(pc.equal(changes["partner_id"], PARTNER)).select(COLUMNS + CHANGE_COLUMNS)


def delta_rs_net(table: Path):
    frame = delta_rs_changes(table).to_pandas()
    frame = frame[frame["_change_type"] != "update_preimage"]
    # Latest commit last; within one commit a delete sorts before the insert that beats it.
    frame = frame.assign(_rank=(frame["_change_type"] != "delete").astype(int))
    frame = frame.sort_values(["order_id", "_commit_version", "_rank"]).drop_duplicates("order_id", keep="last")
    return pa.Table.from_pandas(frame.drop(columns="_rank"), preserve_index=False)


def to_csv(t: pa.Table):
    out = io.BytesIO()
    pacsv.write_csv(t, out)
    return out.getvalue()


def timed(fn):
    times, result = [], None
    for i in range(RUNS + 1):
        start = time.perf_counter()
        result = fn()
        if i:
            times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main():
    WORK.mkdir(parents=True, exist_ok=True)
    table = WORK / f"changes-{ROWS}"
    print(f"changes benchmark: {ROWS:,} lines, {COMMITS * 3} commits after version {SINCE}", flush=True)
    changes_table(table)

    data = WORK / "portal-changes"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir()
    portal = Portal(data, free_port(), {"PORTAL_LOG": "warn", "PORTAL_QUERY_TIMEOUT_SECS": "300"})
    portal.cli("share", "create", "bench")
    portal.cli("table", "add", "bench.s.orders", "--location", str(table), "--history", "--scope", "partner_id=partner_id", "--key", "order_id")
    portal.cli("recipient", "create", "bench_reader", "--property", f"partner_id={PARTNER}")
    portal.cli("grant", "bench", "bench_reader")
    profile, _ = portal.profile("bench_reader", data / "bench.share")
    portal.start()
    http = requests.Session()
    http.headers["Authorization"] = "Bearer " + portal.token_of(profile)
    base = portal.base + "/api/v1/shares/bench/schemas/s/tables/orders/export.csv?_dialect=plain"

    def portal_csv(extra):
        def get():
            r = http.get(f"{base}&_since={SINCE}{extra}", timeout=600)
            assert r.status_code == 200, (r.status_code, r.text[:300])
            return r.content
        return get

    results = {"rows": ROWS, "commits_after_since": COMMITS * 3, "partner": PARTNER}
    try:
        for name, extra, peer in [("changes", "", delta_rs_changes), ("net", "&_net=1", delta_rs_net)]:
            portal_secs, body = timed(portal_csv(extra))
            peer_secs, peer_table = timed(lambda: (lambda t: (t, to_csv(t)))(peer(table)))
            portal_rows = body.count(b"\n") - 1
            assert portal_rows == peer_table[0].num_rows > 0, f"{name}: portal {portal_rows} rows, delta-rs {peer_table[0].num_rows}"
            results[name] = {
                "rows_out": portal_rows,
                "portal_s": portal_secs,
                "delta_rs_s": peer_secs,
                "ratio_portal_to_delta_rs": portal_secs / peer_secs,
            }
            print(f"  {name}: {portal_rows:,} rows; portal {portal_secs:.2f} s, delta-rs {peer_secs:.2f} s, "
                  f"ratio {portal_secs / peer_secs:.2f}", flush=True)
        results["server_peak_rss_mb"] = rss_peak_kb(portal.proc.pid) / 1024
        print(f"  server peak RSS {results['server_peak_rss_mb']:.0f} MB", flush=True)
    finally:
        portal.stop()
    out = ROOT / "bench-results" / "changes.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
