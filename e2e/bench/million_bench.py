"""`/query` on a table of a million files, next to the 50,000-file table in the same run.

The table is a real Delta table: 1,000,000 active files in 1,000 day partitions, written as ten
commits of log entries, a checkpoint, and one commit after it (a file replaced), so a reader goes
through the checkpoint and then replays a commit. Each data file is a hard link to one small
parquet file (one copy per day: file systems cap links per file) whose statistics the log states
truly, so the files exist and read correctly while the table costs a few hundred megabytes of
log instead of a million files' worth of disk.

Measured, each in a fresh server so that peak RSS is the query's own:
- cold `/query` of every file (time to the first byte, to the last, the server's peak RSS) for
  1M and for 50k files, and the cost per file of each (linear growth gives a ratio near 1);
- warm `/query`: every file, the first page of `maxFiles=1000`, and one day (1,000 files
  pruned by a predicate hint).

Writes bench-results/million.json. Run with `make bench`.
"""
import json
import os
import shutil
import statistics
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import requests
from deltalake import DeltaTable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "e2e" / "python"))
sys.path.insert(0, str(HERE))
from bench import WORK, many_files_table, pct, rss_peak_kb  # noqa: E402
from conftest import Portal, free_port  # noqa: E402

DAYS = int(os.environ.get("BENCH_MILLION_DAYS", "1000"))
PER_DAY = int(os.environ.get("BENCH_MILLION_PER_DAY", "1000"))
COMMITS = 10


def million_files_table(path: Path):
    """DAYS × PER_DAY files; see the module's docstring."""
    if (path / "_delta_log" / "_last_checkpoint").exists():
        return
    shutil.rmtree(path, ignore_errors=True)
    log = path / "_delta_log"
    log.mkdir(parents=True)
    seed = path / "_seed.parquet"
    rng = np.random.default_rng(3)
    order_id, units = rng.integers(0, 1 << 40, 20), rng.integers(1, 24, 20)
    pq.write_table(pa.table({"order_id": pa.array(order_id), "units": pa.array(units)}), seed)
    size = seed.stat().st_size
    stats = json.dumps({
        "numRecords": 20,
        "minValues": {"order_id": int(order_id.min()), "units": int(units.min())},
        "maxValues": {"order_id": int(order_id.max()), "units": int(units.max())},
        "nullCount": {"order_id": 0, "units": 0},
    })
    now = int(time.time() * 1000)
    schema = {"type": "struct", "fields": [
        {"name": "order_id", "type": "long", "nullable": True, "metadata": {}},
        {"name": "units", "type": "long", "nullable": True, "metadata": {}},
        {"name": "day", "type": "string", "nullable": True, "metadata": {}},
    ]}
    days = [f"day={np.datetime64('2024-01-01') + d}" for d in range(DAYS)]

    seeds = path / "_seeds"  # a leading underscore: not part of the table's data
    seeds.mkdir()

    def add(day_dir):
        # A file system allows some tens of thousands of links to one file: one copy per day.
        day_seed = seeds / f"{day_dir}.parquet"
        if not day_seed.exists():
            shutil.copyfile(seed, day_seed)
        name = f"{day_dir}/part-{uuid.uuid4()}.c000.snappy.parquet"
        os.link(day_seed, path / name)
        line = {"add": {"path": name, "partitionValues": {"day": day_dir[4:]}, "size": size, "modificationTime": now, "dataChange": True, "stats": stats}}
        return json.dumps(line, separators=(",", ":")), name

    per_commit = (DAYS + COMMITS - 1) // COMMITS
    first_name = None
    for c in range(COMMITS):
        lines = []
        if c == 0:
            lines.append(json.dumps({"protocol": {"minReaderVersion": 1, "minWriterVersion": 2}}))
            lines.append(json.dumps({"metaData": {
                "id": str(uuid.uuid4()), "format": {"provider": "parquet", "options": {}},
                "schemaString": json.dumps(schema), "partitionColumns": ["day"], "configuration": {}, "createdTime": now}}))
        for day_dir in days[c * per_commit:(c + 1) * per_commit]:
            (path / day_dir).mkdir()
            for _ in range(PER_DAY):
                line, name = add(day_dir)
                first_name = first_name or name
                lines.append(line)
        lines.append(json.dumps({"commitInfo": {"timestamp": now, "operation": "WRITE"}}))
        (log / f"{c:020d}.json").write_text("\n".join(lines) + "\n")
    DeltaTable(str(path)).create_checkpoint()
    # One commit after the checkpoint: a file replaced, so readers replay the log past it.
    line, _ = add(days[0])
    remove = {"remove": {"path": first_name, "deletionTimestamp": now, "dataChange": True, "partitionValues": {"day": days[0][4:]}, "size": size}}
    (log / f"{COMMITS:020d}.json").write_text("\n".join([json.dumps(remove), line, json.dumps({"commitInfo": {"timestamp": now}})]) + "\n")


def streamed_query(url, headers, body):
    """(seconds to the first byte, seconds to the last, file lines, bytes) of one `/query`
    (paged answers end with one more line, `endStreamAction`)."""
    start = time.perf_counter()
    first, lines, size = None, 0, 0
    with requests.post(url, json=body, headers=headers, stream=True) as resp:
        assert resp.status_code == 200, resp.text[:500]
        for chunk in resp.iter_content(chunk_size=1 << 20):
            first = first or time.perf_counter() - start
            lines += chunk.count(b"\n")
            size += len(chunk)
    return first, time.perf_counter() - start, lines - 2 - ("maxFiles" in body), size


def serve(data: Path, tables):
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    portal = Portal(data, free_port(), {"PORTAL_LOG": "warn"})
    portal.cli("share", "create", "bench")
    for name, location in tables.items():
        portal.cli("table", "add", f"bench.s.{name}", "--location", str(location))
    portal.cli("recipient", "create", "bench_reader")
    portal.cli("grant", "bench", "bench_reader")
    profile, _ = portal.profile("bench_reader", data / "bench.share")
    portal.start()
    return portal, {"Authorization": "Bearer " + portal.token_of(profile)}


def main():
    WORK.mkdir(parents=True, exist_ok=True)
    million, many = WORK / "million_files", WORK / "many_files"
    t0 = time.time()
    million_files_table(million)
    many_files_table(many)
    print(f"tables ready in {time.time() - t0:.0f} s", flush=True)
    results = {}

    portal, headers = serve(WORK / "portal-50k", {"many": many})
    try:
        ttfb, total, files, _ = streamed_query(portal.endpoint + "/shares/bench/schemas/s/tables/many/query", headers, {})
        results["cold_50k"] = {"files": files, "first_byte_s": ttfb, "total_s": total, "server_peak_rss_mb": rss_peak_kb(portal.proc.pid) / 1024}
    finally:
        portal.stop()

    portal, headers = serve(WORK / "portal-1m", {"million": million})
    url = portal.endpoint + "/shares/bench/schemas/s/tables/million/query"
    try:
        ttfb, total, files, size = streamed_query(url, headers, {})
        results["cold_1m"] = {"files": files, "response_mb": size / 1e6, "first_byte_s": ttfb, "total_s": total,
                              "server_peak_rss_mb": rss_peak_kb(portal.proc.pid) / 1024}
        print(json.dumps(results, indent=2), flush=True)
        warm = [streamed_query(url, headers, {}) for _ in range(3)]
        page = [streamed_query(url, headers, {"maxFiles": 1000}) for _ in range(11)]
        day = json.dumps({"op": "equal", "children": [{"op": "column", "name": "day", "valueType": "string"},
                                                      {"op": "literal", "value": str(np.datetime64("2024-01-01") + DAYS // 2), "valueType": "string"}]})
        pruned = [streamed_query(url, headers, {"jsonPredicateHints": day}) for _ in range(11)]
        assert {p[2] for p in page} == {1000} and {p[2] for p in pruned} == {PER_DAY}, (page[0], pruned[0])
        results["warm_1m"] = {
            "all_files_first_byte_p50_s": statistics.median(w[0] for w in warm),
            "all_files_p50_s": statistics.median(w[1] for w in warm),
            "first_page_1000_p50_s": statistics.median(p[1] for p in page),
            "first_page_1000_p95_s": pct([p[1] for p in page], 0.95),
            "one_day_pruned_p50_s": statistics.median(p[1] for p in pruned),
            "server_peak_rss_mb": rss_peak_kb(portal.proc.pid) / 1024,
        }
    finally:
        portal.stop()
    c50, c1m = results["cold_50k"], results["cold_1m"]
    results["growth"] = {
        "files_ratio": c1m["files"] / c50["files"],
        "cold_time_ratio": c1m["total_s"] / c50["total_s"],
        "per_file_cost_ratio_1m_over_50k": (c1m["total_s"] / c1m["files"]) / (c50["total_s"] / c50["files"]),
    }
    print(json.dumps(results, indent=2), flush=True)
    out = ROOT / "bench-results" / "million.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
