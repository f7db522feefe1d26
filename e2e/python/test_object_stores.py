"""Tables in object storage: Delta tables written into real S3 (s3s-fs) and Azure Blob (Azurite)
servers, added with only the stores' standard environment variables, and read by the official
client through URLs the store itself pre-signed and verifies. Previews and downloads read the
same tables through the portal."""
import io
import json
import re
import shutil
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import delta_sharing
import pandas as pd
import pyarrow as pa
import pytest
import requests
from deltalake import DeltaTable, QueryBuilder, write_deltalake

from admin import bearer, create_api_token
from conftest import PORTAL_BIN, Portal, free_port
from stores import S3, Azure

# Spark-written tables that delta-rs cannot write (copied from delta-rs' test data; see its README).
SPARK_TABLES = Path(__file__).resolve().parents[1] / "testdata/delta"
SPARK = ["table-with-dv-small", "cdf-table-with-cdc-and-dvs", "table_with_column_mapping", "checkpoint-v2-table"]
# Partition values whose keys need escaping: a space, `=`, `%` and non-ASCII.
PARTNERS = ["P001", "P 2=%ü", "P003"]


def frame(n, start=0):
    ids = list(range(start, start + n))
    return pd.DataFrame({"partner_id": [PARTNERS[i % 3] for i in ids], "order_id": ids, "units": [i % 7 for i in ids], "price": [i * 0.5 for i in ids]})


def write_sales(url, opts):
    write_deltalake(url, frame(30), partition_by=["partner_id"], storage_options=opts, configuration={"delta.enableChangeDataFeed": "true"})
    write_deltalake(url, frame(30, start=30), partition_by=["partner_id"], storage_options=opts, mode="append")
    DeltaTable(url, storage_options=opts).delete("units = 0")


def write_many(url, opts):
    write_deltalake(url, frame(120).assign(bucket=[i % 40 for i in range(120)]), partition_by=["bucket"], storage_options=opts)


@pytest.fixture(scope="module", params=["s3", "azure"])
def lake(request, tmp_path_factory):
    """A store with tables in bucket/container `lake`, and a portal that knows the store only
    from its standard environment variables."""
    work = tmp_path_factory.mktemp(request.param)
    if request.param == "s3":
        (work / "objects").mkdir()
        store = S3(work / "objects")
    else:
        store = Azure(work)
    root = store.bucket("lake")
    opts = store.writer_options()
    # delta-rs commits to S3 directly; its deletes fail on Azurite's blobs ("Invalid table
    # version"), so Azure gets the same tables written locally and uploaded file for file.
    local = work / "written"
    for name, write in [("sales", write_sales), ("many", write_many)]:
        if request.param == "s3":
            write(f"{root}/{name}", opts)
        else:
            write(str(local / name), None)
            store.copy_in(local / name, f"{root}/{name}")
    sales = f"{root}/sales"
    for name in SPARK:
        store.copy_in(SPARK_TABLES / name, f"{root}/{name}")

    data = work / "portal"
    data.mkdir()
    portal = Portal(data, free_port(), extra_env=store.env)
    portal.cli("share", "create", "lake")
    portal.cli("table", "add", "lake.s.sales", "--location", sales, "--history")
    portal.cli("table", "add", "lake.s.scoped", "--location", sales, "--scope", "partner_id=partner_id")
    portal.cli("table", "add", "lake.s.many", "--location", f"{root}/many")
    portal.cli("table", "add", "lake.s.dv", "--location", f"{root}/table-with-dv-small")
    portal.cli("table", "add", "lake.s.cdfdv", "--location", f"{root}/cdf-table-with-cdc-and-dvs", "--history")
    portal.cli("table", "add", "lake.s.colmap", "--location", f"{root}/table_with_column_mapping")
    portal.cli("table", "add", "lake.s.v2cp", "--location", f"{root}/checkpoint-v2-table")
    portal.cli("recipient", "create", "partner", "--property", "partner_id=P 2=%ü")
    portal.cli("grant", "lake", "partner")
    portal.start()
    profile, _ = portal.profile("partner", work / "partner.share")
    lake = type("Lake", (), {})()
    lake.store, lake.root, lake.opts, lake.portal, lake.profile = store, root, opts, portal, profile
    lake.headers = {"Authorization": f"Bearer {portal.token_of(profile)}"}
    yield lake
    portal.stop()
    store.stop()


def truth(lake, name, version=None):
    return DeltaTable(f"{lake.root}/{name}", storage_options=lake.opts, version=version).to_pandas()


def rows_of(df, *cols):
    """Sorted row tuples; timestamps as naive UTC (the parquet path of the client drops the zone)."""
    cols = cols or tuple(df.columns)
    df = df.copy()
    for c in cols:
        if isinstance(df[c].dtype, pd.DatetimeTZDtype):
            df[c] = df[c].dt.tz_convert("UTC").dt.tz_localize(None)
    return sorted(tuple(r) for r in df[list(cols)].itertuples(index=False))


def query(lake, table, body=None, capabilities=None):
    headers = dict(lake.headers)
    if capabilities:
        headers["delta-sharing-capabilities"] = capabilities
    resp = requests.post(f"{lake.portal.endpoint}/shares/lake/schemas/s/tables/{table}/query", json=body or {}, headers=headers)
    assert resp.status_code == 200, resp.text
    return resp, [json.loads(line) for line in resp.text.splitlines()]


@pytest.mark.parametrize("delta_format", [False, True])
def test_official_client_reads_exactly_in_both_formats(lake, delta_format):
    got = delta_sharing.load_as_pandas(f"{lake.profile}#lake.s.sales", use_delta_format=delta_format)
    want = truth(lake, "sales")
    assert len(got) == len(want) > 40
    assert rows_of(got, "partner_id", "order_id", "units") == rows_of(want, "partner_id", "order_id", "units")
    assert set(got.partner_id) == set(PARTNERS), "keys with a space, `=`, `%` and `ü` round-trip"


def test_limit_version_and_timestamp(lake):
    url = f"{lake.profile}#lake.s.sales"
    assert len(delta_sharing.load_as_pandas(url, limit=5)) == 5
    v0 = delta_sharing.load_as_pandas(url, version=0)
    assert rows_of(v0, "order_id") == rows_of(truth(lake, "sales", version=0), "order_id")
    v1 = delta_sharing.load_as_pandas(url, version=1)
    assert len(v1) == 60
    # A time before the first commit or after the last (as Delta's time travel: no snapshot "as
    # of" the future) is refused; the refusal names the latest time to use, which reads the
    # latest snapshot. (The commit's time is its file's in the store, to the second on S3.)
    with pytest.raises(requests.HTTPError):
        delta_sharing.load_as_pandas(url, timestamp="2000-01-01T00:00:00Z")
    with pytest.raises(requests.HTTPError) as future:
        delta_sharing.load_as_pandas(url, timestamp="2999-01-01T00:00:00Z")
    at = re.search(r"equal to (\d{4}-\d\d-\d\dT[\d:.]+Z)", str(future.value)).group(1)
    assert len(delta_sharing.load_as_pandas(url, timestamp=at)) == len(truth(lake, "sales"))
    assert delta_sharing.get_table_version(url) == 2


@pytest.mark.parametrize("delta_format", [False, True])
def test_change_data_feed(lake, delta_format):
    changes = delta_sharing.load_table_changes_as_pandas(f"{lake.profile}#lake.s.sales", starting_version=0, use_delta_format=delta_format)
    # What was written: 0..29 at version 0, 30..59 at 1, and version 2 deleted the lines with no units.
    # (delta-rs' own load_cdf cannot read this table back: it double-escapes the `%` partition.)
    want = [(i, "insert", 0) for i in range(30)] + [(i, "insert", 1) for i in range(30, 60)] + [(i, "delete", 2) for i in range(60) if i % 7 == 0]
    assert rows_of(changes, "order_id", "_change_type", "_commit_version") == sorted(want)


def test_changes_since_read_the_store_like_the_change_feed(lake):
    """On S3 the portal's `_since` views read the same changes as the protocol's feed, partition
    values with a space, `=`, `%` and `ü` included; on Azure they are refused clearly."""
    base = f"{lake.portal.base}/api/v1/shares/lake/schemas/s/tables/sales"
    resp = requests.get(f"{base}/rows?_since=0&_size=1000", headers=lake.headers)
    if isinstance(lake.store, Azure):
        # deltalake's change scan finds no file in Azure Blob Storage: a clear refusal, never
        # an empty answer that would look like "nothing changed".
        assert resp.status_code == 400 and "Delta Sharing client's change feed" in resp.json()["message"], resp.text
        return
    assert resp.status_code == 200, resp.text
    body = resp.json()
    names = [c["name"] for c in body["columns"]]
    got = sorted((r[names.index("order_id")], r[names.index("_change_type")], r[names.index("_commit_version")]) for r in body["rows"])
    assert got == sorted([(i, "insert", 1) for i in range(30, 60)] + [(i, "delete", 2) for i in range(60) if i % 7 == 0])
    scoped = requests.get(f"{base}/export.csv?_since=1&partner_id=P 2=%25ü", headers=lake.headers)
    assert scoped.status_code == 200, scoped.text
    lines = pd.read_csv(io.StringIO(scoped.text))
    assert sorted(lines.order_id) == [i for i in range(60) if i % 7 == 0 and PARTNERS[i % 3] == "P 2=%ü"]
    assert set(lines["_change_type"]) == {"delete"}


def test_scoped_table_has_only_the_partners_rows(lake):
    got = delta_sharing.load_as_pandas(f"{lake.profile}#lake.s.scoped")
    want = truth(lake, "sales")
    want = want[want.partner_id == "P 2=%ü"]
    assert rows_of(got, "order_id") == rows_of(want, "order_id") and len(got) > 5


def test_many_files_and_paging(lake):
    got = delta_sharing.load_as_pandas(f"{lake.profile}#lake.s.many")
    assert rows_of(got, "order_id", "bucket") == rows_of(truth(lake, "many"), "order_id", "bucket")
    _, lines = query(lake, "many", {"maxFiles": 15})
    files = [line for line in lines if "file" in line]
    assert len(files) == 15 and lines[-1]["endStreamAction"]["nextPageToken"]


def test_urls_point_at_the_store_and_carry_its_signature(lake):
    resp, lines = query(lake, "sales")
    urls = [line["file"]["url"] for line in lines if "file" in line]
    assert urls
    store_host = urlparse(lake.store.endpoint).netloc
    for url in urls:
        parts = urlparse(url)
        assert parts.netloc == store_host and "/files/" not in parts.path
        q = parse_qs(parts.query)
        assert ("X-Amz-Signature" in q) if lake.store.scheme == "s3" else ("sig" in q and q["sp"] == ["r"])
        assert requests.get(url).status_code == 200
    for secret in lake.store.secrets:
        assert secret not in resp.text


def url_expiry(url):
    """When a pre-signed URL expires, as it states: Azure's `se`, or S3's `X-Amz-Date` plus `X-Amz-Expires`."""
    q = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
    if "se" in q:
        return datetime.fromisoformat(q["se"].replace("Z", "+00:00")).timestamp()
    signed = datetime.strptime(q["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    return signed.timestamp() + int(q["X-Amz-Expires"])


def test_tampered_and_expired_urls_are_refused_by_the_store(lake, tmp_path):
    _, lines = query(lake, "sales")
    url = next(line["file"]["url"] for line in lines if "file" in line)
    parts = urlparse(url)
    other = parts.path.rsplit("/", 1)[0] + "/not-this-file.parquet"
    assert requests.get(parts._replace(path=other).geturl()).status_code == 403
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    key = "X-Amz-Signature" if lake.store.scheme == "s3" else "sig"
    q[key] = ("0" if q[key][0] != "0" else "1") + q[key][1:]
    forged = parts._replace(query=urlencode(q)).geturl()
    assert forged != url and requests.get(forged).status_code == 403
    # A portal whose URLs live a few seconds: long enough to be used once on a busy machine.
    short = Portal(tmp_path, free_port(), extra_env={**lake.store.env, "PORTAL_URL_TTL_SECS": "5"})
    short.cli("share", "create", "lake")
    short.cli("table", "add", "lake.s.sales", "--location", f"{lake.root}/sales")
    short.cli("recipient", "create", "p")
    short.cli("grant", "lake", "p")
    short.start()
    try:
        profile, _ = short.profile("p", tmp_path / "p.share")
        resp = requests.post(f"{short.endpoint}/shares/lake/schemas/s/tables/sales/query", json={}, headers={"Authorization": f"Bearer {short.token_of(profile)}"})
        url = next(json.loads(line)["file"]["url"] for line in resp.text.splitlines() if '"file"' in line)
        assert requests.get(url).status_code == 200
        # Past the expiry the URL itself states (and the stores' clock tolerance), refused.
        time.sleep(max(0.0, url_expiry(url) - time.time()) + 1.5)
        assert requests.get(url).status_code == 403
    finally:
        short.stop()


def spark_truth(name):
    """delta-rs' DataFusion reader applies deletion vectors and column mapping: the ground truth."""
    return pa.table(QueryBuilder().register("t", DeltaTable(str(SPARK_TABLES / name))).execute("select * from t").read_all()).to_pandas()


@pytest.mark.parametrize("delta_format", [False, True])
def test_spark_tables_with_deletion_vectors_column_mapping_and_v2_checkpoints(lake, delta_format):
    v2 = delta_sharing.load_as_pandas(f"{lake.profile}#lake.s.v2cp", use_delta_format=delta_format)
    want = spark_truth("checkpoint-v2-table")
    assert rows_of(v2) == rows_of(want[v2.columns.tolist()]) and len(v2) == 44
    for name, table in [("table-with-dv-small", "dv"), ("table_with_column_mapping", "colmap")]:
        want = spark_truth(name)
        if not delta_format:
            # Parquet-only readers cannot apply deletion vectors or column mapping: a clear 400.
            resp = requests.post(
                f"{lake.portal.endpoint}/shares/lake/schemas/s/tables/{table}/query",
                json={},
                headers={**lake.headers, "delta-sharing-capabilities": "responseformat=parquet"},
            )
            assert resp.status_code == 400 and "delta" in resp.json()["message"].lower(), resp.text
            continue
        got = delta_sharing.load_as_pandas(f"{lake.profile}#lake.s.{table}", use_delta_format=True)
        assert rows_of(got) == rows_of(want[got.columns.tolist()]) and len(got) == len(want)
    assert len(want) == 5


def test_deletion_vector_files_are_signed_and_rewritten(lake):
    _, lines = query(lake, "dv", capabilities="responseformat=delta;readerfeatures=deletionvectors")
    add = next(line["file"]["deltaSingleAction"]["add"] for line in lines if "file" in line)
    dv = add["deletionVector"]
    assert dv["storageType"] == "p" and dv["cardinality"] == 2 and dv["offset"] == 1
    assert urlparse(dv["pathOrInlineDv"]).netloc == urlparse(lake.store.endpoint).netloc
    assert "deletion_vector_61d16c75-6994-46b7-a15b-8b538852e50e.bin" in dv["pathOrInlineDv"]
    assert requests.get(dv["pathOrInlineDv"]).content == (SPARK_TABLES / "table-with-dv-small/deletion_vector_61d16c75-6994-46b7-a15b-8b538852e50e.bin").read_bytes()


def test_change_feed_with_deletion_vectors_in_delta_format(lake):
    got = delta_sharing.load_table_changes_as_pandas(f"{lake.profile}#lake.s.cdfdv", starting_version=0, use_delta_format=True)
    want = pa.table(DeltaTable(str(SPARK_TABLES / "cdf-table-with-cdc-and-dvs")).load_cdf(starting_version=0).read_all()).to_pandas()
    key = ("id", "comment", "_change_type", "_commit_version")
    assert rows_of(got, *key) == rows_of(want, *key) and len(got) == 43


def test_predicate_hints_prune_partitions(lake):
    hint = json.dumps({"op": "equal", "children": [{"op": "column", "name": "bucket", "valueType": "int"}, {"op": "literal", "value": "7", "valueType": "int"}]})
    _, lines = query(lake, "many", {"jsonPredicateHints": hint})
    files = [line["file"] for line in lines if "file" in line]
    assert [f["partitionValues"] for f in files] == [{"bucket": "7"}]


def test_audit_counts_files_and_bytes(lake):
    query(lake, "many")
    entries = [e for e in lake.portal.audit() if e.get("action") == "queryTable" and "many" in json.dumps(e)]
    assert entries and entries[0]["files"] == 40 and entries[0]["bytes"] > 0, entries[:1]


def test_rows_api_csv_and_excel_read_the_store(lake):
    base = f"{lake.portal.base}/api/v1/shares/lake/schemas/s/tables/sales"
    want = truth(lake, "sales")
    want = want[want.partner_id == "P 2=%ü"]
    resp = requests.get(f"{base}/rows?partner_id=P 2=%25ü&_size=500&_sort=order_id", headers=lake.headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    names = [c["name"] for c in body["columns"]]
    assert [r[names.index("order_id")] for r in body["rows"]] == sorted(want.order_id.tolist())
    csv = requests.get(f"{base}/export.csv?partner_id=P 2=%25ü", headers=lake.headers)
    assert csv.status_code == 200, csv.text
    got = pd.read_csv(io.StringIO(csv.text))
    assert rows_of(got, "order_id", "units") == rows_of(want, "order_id", "units")
    xlsx = requests.get(f"{base}/export.xlsx?units=3", headers=lake.headers)
    assert xlsx.status_code == 200, xlsx.text
    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    header = [c.value for c in sheet[1]]
    cells = sorted(row[header.index("order_id")] for row in sheet.iter_rows(min_row=2, values_only=True))
    all_rows = truth(lake, "sales")
    assert cells == sorted(all_rows[all_rows.units == 3].order_id.tolist())


def test_storage_errors_name_the_location_never_the_secret(lake):
    p = lake.portal
    for location, expected in [
        (f"{lake.root}/no-such-table", "is not a Delta table"),
        (f"{lake.store.scheme}://no-such-bucket/t", "does not exist"),
    ]:
        done = p.cli("table", "add", "lake.s.broken", "--location", location, check=False)
        assert done.returncode != 0
        last = done.stderr.strip().splitlines()[-1]
        assert expected in last and location.split("://")[1].split("/")[0] in last, done.stderr
    wrong = {**p.env, **{k: "d3Jvbmc=" for k in ("AWS_SECRET_ACCESS_KEY", "AZURE_STORAGE_ACCOUNT_KEY")}}
    done = subprocess.run([PORTAL_BIN, "table", "add", "lake.s.broken", "--location", f"{lake.root}/sales"], env=wrong, capture_output=True, text=True)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert "refused the portal's credentials" in last and f"{lake.root}/sales" in last, done.stderr
    for secret in lake.store.secrets + ["d3Jvbmc="]:
        assert secret not in done.stderr and secret not in done.stdout


def test_admin_api_names_the_credentials_a_table_uses(lake):
    detail = requests.get(f"{lake.portal.base}/api/v1/admin/shares/lake", headers=bearer(create_api_token(lake.portal)))
    assert detail.status_code == 200, detail.text
    tables = {t["name"]: t for t in detail.json()["tables"]}
    env = "the AWS_* environment variables" if lake.store.scheme == "s3" else "the AZURE_* environment variables"
    assert tables["sales"]["storage"] == env
    assert tables["sales"]["columns"], tables["sales"]
    for secret in lake.store.secrets:
        assert secret not in detail.text


def test_spark_tables_on_local_disk_read_the_same(portal, tmp_path):
    """The same Spark tables from the portal's disk: deletion vectors served by the portal's own
    signed URLs, and the change feed with deletion vectors in the delta format."""
    for name in SPARK:
        shutil.copytree(SPARK_TABLES / name, tmp_path / name)
    headers = portal.share_new_table("spark_local.s.dv", tmp_path / "table-with-dv-small", "spark_reader", tmp_path)
    del headers
    for name, table in [("table_with_column_mapping", "colmap"), ("checkpoint-v2-table", "v2cp")]:
        portal.cli("table", "add", f"spark_local.s.{table}", "--location", str(tmp_path / name))
    portal.cli("table", "add", "spark_local.s.cdfdv", "--location", str(tmp_path / "cdf-table-with-cdc-and-dvs"), "--history")
    profile, _ = portal.profile("spark_reader", tmp_path / "spark.share")
    for name, table in [("table-with-dv-small", "dv"), ("table_with_column_mapping", "colmap"), ("checkpoint-v2-table", "v2cp")]:
        got = delta_sharing.load_as_pandas(f"{profile}#spark_local.s.{table}", use_delta_format=True)
        want = spark_truth(name)
        assert rows_of(got) == rows_of(want[got.columns.tolist()]) and len(got) == len(want), name
    got = delta_sharing.load_table_changes_as_pandas(f"{profile}#spark_local.s.cdfdv", starting_version=0, use_delta_format=True)
    want = pa.table(DeltaTable(str(SPARK_TABLES / "cdf-table-with-cdc-and-dvs")).load_cdf(starting_version=0).read_all()).to_pandas()
    key = ("id", "comment", "_change_type", "_commit_version")
    assert rows_of(got, *key) == rows_of(want, *key) and len(got) == 43
