"""The 2025–26 protocol additions, over plain HTTP (the official Python client uses none of them):
share metadata on Get Share and List Shares, `includeHistoricalProtocol`, `fileidhash` on
`/changes`, the temporary-credentials endpoint; and that cached table snapshots never hide a
change to the table or the catalog."""
import json
import re
import shutil
import time

import pyarrow as pa
import pytest
import requests
from deltalake import DeltaTable, write_deltalake
from deltalake.table import TableFeatures

from admin import AdminApi, admin_session, error_of, forms_of, uniq
from conftest import Portal, free_port


@pytest.fixture(scope="module")
def api(portal):
    return AdminApi.platform(portal)


def reader(portal, tmp_path, share):
    """A recipient granted `share`, as a requests session with its bearer token."""
    return reader_and_profile(portal, tmp_path, share)[0]


def reader_and_profile(portal, tmp_path, share):
    """As `reader`, with the recipient's profile file for the official client."""
    name = uniq("r2026")
    portal.cli("recipient", "create", name)
    portal.cli("grant", share, name)
    profile, _ = portal.profile(name, tmp_path / f"{name}.share")
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {portal.token_of(profile)}"
    return s, profile


def share_of(portal, prefix, location, table="t", history=False):
    """A new share holding the table at `location` as `s.<table>`; returns the share's name."""
    share = uniq(prefix)
    portal.cli("share", "create", share)
    portal.cli("table", "add", f"{share}.s.{table}", "--location", str(location), *(["--history"] if history else []))
    return share


def ndjson(resp):
    assert resp.status_code == 200, resp.text
    assert resp.text.endswith("\n")
    return [json.loads(line) for line in resp.text.split("\n")[:-1]]


def test_get_share_carries_display_name_comment_and_properties(portal, api, tmp_path):
    share = uniq("meta")
    made = api.ok("POST", "/shares", {"name": share, "comment": "Weekly sell-out", "displayName": "Sell-out (weekly)", "properties": {"owner": "sales-team", "region": "eu-central-1"}})
    assert made["displayName"] == "Sell-out (weekly)" and made["properties"] == {"owner": "sales-team", "region": "eu-central-1"}
    r = reader(portal, tmp_path, share)
    got = r.get(f"{portal.endpoint}/shares/{share}").json()["share"]
    assert got["name"] == share and len(got["id"]) >= 32
    assert got["displayName"] == "Sell-out (weekly)" and got["comment"] == "Weekly sell-out"
    assert got["properties"] == {"owner": "sales-team", "region": "eu-central-1"}
    [listed] = [s for s in r.get(f"{portal.endpoint}/shares").json()["items"] if s["name"] == share]
    assert listed == got

    # A patch changes what it names; "" clears the display name, {} the properties.
    api.ok("PATCH", f"/shares/{share}", {"properties": {"owner": "partner-data"}})
    got = r.get(f"{portal.endpoint}/shares/{share}").json()["share"]
    assert got["properties"] == {"owner": "partner-data"} and got["displayName"] == "Sell-out (weekly)"
    api.ok("PATCH", f"/shares/{share}", {"displayName": "", "properties": {}})
    got = r.get(f"{portal.endpoint}/shares/{share}").json()["share"]
    assert set(got) == {"name", "id", "comment"}, got


@pytest.mark.parametrize(
    "body, field, words",
    [
        ({"displayName": "x" * 256}, "displayName", "at most 255"),
        ({"comment": "x" * 65537}, "comment", "at most 65536"),
        ({"properties": {f"k{i}": "v" for i in range(51)}}, "properties", "at most 50"),
        ({"properties": {"k" * 256: "v"}}, "properties", "at most 255"),
        ({"properties": {"owner": "v" * 1001}}, "properties", "at most 1000"),
        ({"properties": {" ": "v"}}, "properties", "needs a name"),
    ],
)
def test_share_metadata_beyond_the_protocol_limits_is_refused(portal, api, body, field, words):
    share = uniq("lim")
    api.ok("POST", "/shares", {"name": share, "displayName": "Kept"})
    err = error_of(api.patch(f"/shares/{share}", body), 400, field=field)
    assert words in err["message"], err
    assert api.ok("GET", f"/shares/{share}")["displayName"] == "Kept", "nothing changed"


def test_console_form_sets_display_name_and_properties(portal, api):
    share = uniq("form")
    api.ok("POST", "/shares", {"name": share})
    web = admin_session(portal)
    page = web.get(f"{portal.base}/admin/shares/{share}")
    [form] = [f for f in forms_of(page.text) if f["action"].endswith(f"/admin/shares/{share}/edit")]
    fields = dict(form["fields"], display_name="Assortment", comment="Listed articles", prop_key_0="owner", prop_value_0="buying")
    done = web.post(portal.base + form["action"], data=fields, allow_redirects=False)
    assert done.status_code == 303, done.text[:300]
    detail = api.ok("GET", f"/shares/{share}")
    assert (detail["displayName"], detail["comment"], detail["properties"]) == ("Assortment", "Listed articles", {"owner": "buying"})
    shown = web.get(f"{portal.base}/admin/shares/{share}").text
    assert 'value="Assortment"' in shown and 'value="buying"' in shown


def test_temporary_table_credentials_are_refused_clearly(portal, tmp_path):
    share = share_of(portal, "creds", portal.data_dir / "demo" / "sales")
    r = reader(portal, tmp_path, share)
    path = f"{portal.endpoint}/shares/{share}/schemas/s/tables/t/temporary-table-credentials"
    refused = r.post(path, json={})
    assert refused.status_code == 400 and refused.json()["errorCode"] == "UNSUPPORTED_OPERATION"
    assert "signed file URLs" in refused.json()["message"] and "/query" in refused.json()["message"]
    missing = r.post(f"{portal.endpoint}/shares/{share}/schemas/s/tables/nope/temporary-table-credentials", json={})
    assert missing.status_code == 404 and missing.json()["errorCode"] == "RESOURCE_DOES_NOT_EXIST"


@pytest.fixture(scope="module")
def upgraded(portal, tmp_path_factory):
    """A table whose protocol changes at version 2 (append-only, a writer feature), with rows before and after."""
    where = tmp_path_factory.mktemp("upgraded") / "t"
    rows = lambda first: pa.table({"n": pa.array([first, first + 1], pa.int64())})  # noqa: E731
    write_deltalake(str(where), rows(0), configuration={"delta.enableChangeDataFeed": "true"})
    write_deltalake(str(where), rows(2), mode="append")
    DeltaTable(str(where)).alter.add_feature(TableFeatures.AppendOnly, allow_protocol_versions_increase=True)
    write_deltalake(str(where), rows(4), mode="append")
    return share_of(portal, "hist", where, history=True), where


def test_include_historical_protocol_inlines_protocol_changes(portal, upgraded, tmp_path):
    share, _ = upgraded
    r = reader(portal, tmp_path, share)
    q = f"{portal.endpoint}/shares/{share}/schemas/s/tables/t/query"
    delta = {"delta-sharing-capabilities": "responseformat=delta"}
    lines = ndjson(r.post(q, json={"startingVersion": 1, "includeHistoricalProtocol": True}, headers=delta))
    protocols = [l["protocol"] for l in lines if "protocol" in l]
    assert protocols[0]["version"] == 3 and "appendOnly" in protocols[0]["deltaProtocol"].get("writerFeatures", [])
    assert [p["version"] for p in protocols[1:]] == [2], "the upgrade at version 2, strictly after startingVersion 1"
    at = [i for i, l in enumerate(lines) if "protocol" in l][1]
    assert all(l["file"]["version"] >= 2 for l in lines[at + 1:] if "file" in l), "inlined before the files of its commit"

    plain = ndjson(r.post(q, json={"startingVersion": 1}, headers=delta))
    assert [l for l in plain if "protocol" in l] == [{"protocol": {"deltaProtocol": protocols[0]["deltaProtocol"]}}], "no version without the flag"
    # Parquet readers get the fixed protocol line and nothing historical.
    parquet = ndjson(r.post(q, json={"startingVersion": 1, "includeHistoricalProtocol": True}))
    assert [l for l in parquet if "protocol" in l] == [{"protocol": {"minReaderVersion": 1}}]
    bad = r.post(q, json={"includeHistoricalProtocol": True})
    assert bad.status_code == 400 and "startingVersion" in bad.json()["message"]

    changes = f"{portal.endpoint}/shares/{share}/schemas/s/tables/t/changes"
    lines = ndjson(r.get(changes, params={"startingVersion": 0, "includeHistoricalProtocol": "True"}, headers=delta))
    assert [l["protocol"]["version"] for l in lines if "protocol" in l] == [3, 2]


def test_fileidhash_on_changes(portal, upgraded, tmp_path):
    share, _ = upgraded
    r = reader(portal, tmp_path, share)
    changes = f"{portal.endpoint}/shares/{share}/schemas/s/tables/t/changes"
    sha = r.get(changes, params={"startingVersion": 0}, headers={"fileidhash": "Delta"})
    assert sha.headers["fileidhash"] == "delta"
    assert {len(l[k]["id"]) for l in ndjson(sha)[2:] for k in l} == {64}
    md5 = r.get(changes, params={"startingVersion": 0}, headers={"fileidhash": "parquet"})
    assert md5.headers["fileidhash"] == "parquet" and {len(l[k]["id"]) for l in ndjson(md5)[2:] for k in l} == {32}
    assert "fileidhash" not in r.get(changes, params={"startingVersion": 0}).headers
    bad = r.get(changes, params={"startingVersion": 0}, headers={"fileidhash": "sha1"})
    assert bad.status_code == 400 and bad.json()["errorCode"] == "INVALID_PARAMETER_VALUE"


def test_cached_snapshots_never_hide_a_change(tmp_path):
    """The second and later reads of a table come from memory, yet a new commit, a table written
    afresh at the same place, and an alias set in the catalog all show on the very next request."""
    (tmp_path / "data").mkdir()
    portal = Portal(tmp_path / "data", free_port(), {"PORTAL_METRICS_TOKEN": "cache-metrics"})
    portal.start()
    try:
        where = tmp_path / "live"
        write_deltalake(str(where), pa.table({"n": pa.array([1, 2], pa.int64())}))
        share = share_of(portal, "live", where)
        r = reader(portal, tmp_path, share)
        q = lambda table="t": r.post(f"{portal.endpoint}/shares/{share}/schemas/s/tables/{table}/query", json={})  # noqa: E731

        def cache(outcome):
            text = requests.get(portal.base + "/metrics", headers={"Authorization": "Bearer cache-metrics"}).text
            return int(re.search(rf'^portal_snapshot_cache_requests_total{{outcome="{outcome}"}} (\d+)$', text, re.M).group(1))

        first = q()
        assert first.headers["delta-table-version"] == "0" and len(ndjson(first)) == 3
        loads, hits = cache("load"), cache("hit")
        assert q().headers["delta-table-version"] == "0"
        assert (cache("load"), cache("hit")) == (loads, hits + 1), "the second read came from memory"

        write_deltalake(str(where), pa.table({"n": pa.array([3], pa.int64())}), mode="append")
        after = q()
        assert after.headers["delta-table-version"] == "1" and len(ndjson(after)) == 4
        assert cache("load") == loads, "brought forward, not read again"

        # Deleted and written again from version 0 (fewer commits than the cached one).
        shutil.rmtree(where)
        write_deltalake(str(where), pa.table({"n": pa.array([7], pa.int64()), "m": pa.array(["x"])}))
        again = ndjson(q())
        assert len(again) == 3 and [f["name"] for f in json.loads(again[1]["metaData"]["schemaString"])["fields"]] == ["n", "m"]

        AdminApi.platform(portal).ok("PATCH", f"/shares/{share}/tables/s.t", {"alias": "renamed"})
        assert q().status_code == 404 and q("renamed").status_code == 200
    finally:
        portal.stop()


def test_warm_queries_of_many_files_answer_what_the_first_did(tmp_path):
    """After the first query of a table of many files, its file lines are rendered once and kept
    with the cached snapshot; later answers come from them: the same lines, fresh URLs that
    serve the files, and pages cut the same way."""
    (tmp_path / "data").mkdir()
    portal = Portal(tmp_path / "data", free_port(), {"PORTAL_METRICS_TOKEN": "render-metrics"})
    portal.start()
    try:
        where = tmp_path / "many"
        n = 1500
        write_deltalake(str(where), pa.table({"store": pa.array(range(n), pa.int64()), "name": [f"s\"{i}" for i in range(n)]}), partition_by=["store"])
        share = share_of(portal, "many", where)
        r = reader(portal, tmp_path, share)
        url = f"{portal.endpoint}/shares/{share}/schemas/s/tables/t/query"

        def cache_bytes():
            text = requests.get(portal.base + "/metrics", headers={"Authorization": "Bearer render-metrics"}).text
            return int(re.search(r"^portal_snapshot_cache_bytes (\d+)$", text, re.M).group(1))

        def files(lines):
            return [{k: v for k, v in l["file"].items() if k not in ("url", "expirationTimestamp")} for l in lines if "file" in l]

        assert r.get(url.rsplit("/", 1)[0] + "/version").status_code == 200  # the snapshot, cached
        snapshot_only = cache_bytes()
        first = ndjson(r.post(url, json={}))
        deadline = time.time() + 30
        while cache_bytes() == snapshot_only:
            assert time.time() < deadline, "the file lines were never rendered"
            time.sleep(0.05)
        second = ndjson(r.post(url, json={}))
        assert len(files(second)) == n and files(second) == files(first)
        assert second[:2] == first[:2], "the same protocol and metadata"
        line = second[2]["file"]
        got = requests.get(line["url"])
        assert got.status_code == 200 and len(got.content) == line["size"]
        assert line["expirationTimestamp"] >= first[2]["file"]["expirationTimestamp"]

        page = ndjson(r.post(url, json={"maxFiles": 1200}))
        assert files(page) == files(first)[:1200] and page[-1]["endStreamAction"]["nextPageToken"]
    finally:
        portal.stop()


ASYNC = {"delta-sharing-capabilities": "asyncquery=true"}


def submit(r, url, body, headers=ASYNC):
    """Submits an async query; returns its id, after checking the reply is one `queryStatus` line."""
    resp = r.post(url, json=body, headers=headers)
    [line] = ndjson(resp)
    assert set(line) == {"queryStatus"} and line["queryStatus"]["status"] in ("pending", "succeeded"), line
    assert "asyncquery=true" in resp.headers["delta-sharing-capabilities"]
    assert resp.headers["delta-table-version"].isdigit(), "the Spark client needs the header on every reply"
    return line["queryStatus"]["queryId"]


def poll(r, url, query_id, body=None, headers=None):
    """Polls until the query is no longer pending; returns the last response."""
    deadline = time.time() + 30
    while True:
        resp = r.post(f"{url.rsplit('/', 1)[0]}/queries/{query_id}", json=body or {}, headers=headers or {})
        if resp.status_code != 200 or "queryStatus" not in resp.text.split("\n", 1)[0]:
            return resp
        [line] = ndjson(resp)
        assert line["queryStatus"] == {"queryId": query_id, "status": "pending"}, line
        assert resp.headers["delta-table-version"].isdigit()
        assert time.time() < deadline, "the query never finished"
        time.sleep(0.05)


def file_ids(lines):
    return sorted(l["file"]["id"] for l in lines if "file" in l)


@pytest.fixture(scope="module")
def orders(portal, tmp_path_factory):
    """Four files in two partitions, history shared."""
    where = tmp_path_factory.mktemp("async") / "orders"
    for i in range(4):
        write_deltalake(str(where), pa.table({"n": pa.array([i], pa.int64()), "region": ["eu" if i % 2 else "us"]}), partition_by=["region"], mode="append")
    return share_of(portal, "async", where, table="orders", history=True), where


def test_an_async_query_answers_what_the_synchronous_one_does(portal, orders, tmp_path):
    share, where = orders
    r = reader(portal, tmp_path, share)
    url = f"{portal.endpoint}/shares/{share}/schemas/s/tables/orders/query"
    sync = r.post(url, json={"predicateHints": ["region = 'eu'"]})
    assert "queryStatus" not in sync.text, "clients that did not ask never see a queryStatus line"
    body = {"predicateHints": ["region = 'eu'"], "idempotencyKey": uniq("k")}
    query_id = submit(r, url, body)
    done = poll(r, url, query_id)
    lines = ndjson(done)
    assert "queryStatus" not in done.text and done.headers["delta-table-version"] == sync.headers["delta-table-version"] == "3"
    assert [list(l)[0] for l in lines[:2]] == ["protocol", "metaData"]
    assert file_ids(lines) == file_ids(ndjson(sync)) and len(file_ids(lines)) == 2, "the hint pruned the us files"
    assert "asyncquery=true" in done.headers["delta-sharing-capabilities"]

    # The same key and parameters: the same query, in either spelling of the key.
    assert submit(r, url, body) == query_id
    assert submit(r, url, {"predicateHints": ["region = 'eu'"], "idempotency_key": body["idempotencyKey"]}) == query_id
    other = r.post(url, json={**body, "limitHint": 1}, headers=ASYNC)
    assert other.status_code == 400 and other.json()["errorCode"] == "INVALID_PARAMETER_VALUE" and "new key" in other.json()["message"]
    keyless = r.post(url, json={"limitHint": 1}, headers=ASYNC)
    assert keyless.status_code == 400 and "idempotencyKey" in keyless.json()["message"]

    # The version is pinned when the query succeeds: a later commit does not change its answer.
    write_deltalake(str(where), pa.table({"n": pa.array([9], pa.int64()), "region": ["eu"]}), partition_by=["region"], mode="append")
    again = poll(r, url, query_id)
    assert again.headers["delta-table-version"] == "3" and file_ids(ndjson(again)) == file_ids(lines)
    fresh = poll(r, url, submit(r, url, {**body, "idempotencyKey": uniq("k")}))
    assert fresh.headers["delta-table-version"] == "4" and len(file_ids(ndjson(fresh))) == 3


def test_async_answers_page_like_synchronous_ones(portal, orders, tmp_path):
    share, _ = orders
    r = reader(portal, tmp_path, share)
    url = f"{portal.endpoint}/shares/{share}/schemas/s/tables/orders/query"
    query_id = submit(r, url, {"version": 3, "maxFiles": 1, "idempotencyKey": uniq("k")})
    seen, token, pages = [], None, 0
    while True:
        lines = ndjson(poll(r, url, query_id, {"pageToken": token} if token else {}))
        seen += file_ids(lines)
        pages += 1
        token = lines[-1]["endStreamAction"].get("nextPageToken")
        if not token:
            break
    assert pages == 4 and len(set(seen)) == 4
    two = ndjson(poll(r, url, query_id, {"maxFiles": 2, "queryId": query_id}))
    assert len(file_ids(two)) == 2 and "nextPageToken" in two[-1]["endStreamAction"], "the poll's maxFiles wins"


def test_async_query_failures_are_http_errors_and_ids_stay_private(portal, orders, tmp_path):
    share, _ = orders
    r = reader(portal, tmp_path, share)
    url = f"{portal.endpoint}/shares/{share}/schemas/s/tables/orders/query"
    early = {"timestamp": "2001-01-01T00:00:00Z"}
    sync = r.post(url, json=early)
    assert sync.status_code == 400
    failed = poll(r, url, submit(r, url, {**early, "idempotencyKey": uniq("k")}))
    assert (failed.status_code, failed.json()) == (400, sync.json()), "the poll fails as the synchronous query does"

    query_id = submit(r, url, {"idempotencyKey": uniq("k")})
    assert poll(r, url, query_id).status_code == 200
    stranger = reader(portal, tmp_path, share)
    for who, qid in [(stranger, query_id), (r, "no-such-query")]:
        missing = who.post(f"{portal.endpoint}/shares/{share}/schemas/s/tables/orders/queries/{qid}", json={})
        assert missing.status_code == 404 and missing.json()["errorCode"] == "RESOURCE_DOES_NOT_EXIST"
    elsewhere = r.post(f"{portal.endpoint}/shares/{share}/schemas/s/tables/nope/queries/{query_id}", json={})
    assert elsewhere.status_code == 404
    bad = r.post(f"{portal.endpoint}/shares/{share}/schemas/s/tables/orders/queries/{query_id}", json={"maxFiles": 0})
    assert bad.status_code == 400 and "maxFiles" in bad.json()["message"]


def test_the_async_capability_changes_nothing_but_query(portal, upgraded, tmp_path):
    """Spark sends `asyncquery=true` on every call once async is on; `/changes` and `/metadata`
    answer as without it, and a paged `/query` (a token names its version) answers at once."""
    share, _ = upgraded
    r = reader(portal, tmp_path, share)
    table = f"{portal.endpoint}/shares/{share}/schemas/s/tables/t"
    shape = lambda resp: [sorted(l) for l in ndjson(resp)]  # noqa: E731
    for path, params in [("/changes", {"startingVersion": 0}), ("/metadata", {})]:
        assert shape(r.get(table + path, params=params, headers=ASYNC)) == shape(r.get(table + path, params=params))
    first = ndjson(r.post(table + "/query", json={"maxFiles": 1}))
    token = first[-1]["endStreamAction"]["nextPageToken"]
    paged = ndjson(r.post(table + "/query", json={"maxFiles": 1, "pageToken": token}, headers=ASYNC))
    assert "file" in paged[2] and file_ids(paged) != file_ids(first)


def test_async_queries_expire(tmp_path):
    (tmp_path / "data").mkdir()
    portal = Portal(tmp_path / "data", free_port(), {"PORTAL_ASYNC_QUERY_TTL_SECS": "2"})
    portal.start()
    try:
        write_deltalake(str(tmp_path / "t"), pa.table({"n": pa.array([1], pa.int64())}))
        share = share_of(portal, "ttl", tmp_path / "t")
        r = reader(portal, tmp_path, share)
        url = f"{portal.endpoint}/shares/{share}/schemas/s/tables/t/query"
        body = {"idempotencyKey": "same"}
        query_id = submit(r, url, body)
        assert poll(r, url, query_id).status_code == 200
        time.sleep(2.5)
        gone = poll(r, url, query_id)
        assert gone.status_code == 404 and "expired" in gone.json()["message"]
        assert submit(r, url, body) != query_id, "an expired key starts a new query"
    finally:
        portal.stop()


def test_a_query_of_thousands_of_files_streams_and_pages(portal, tmp_path):
    """The file lines are sent as they are written (chunked, no length known up front), and
    paging, pruning and the limit hint still hold."""
    where = tmp_path / "wide"
    n = 3000
    write_deltalake(str(where), pa.table({"store": pa.array(range(n), pa.int64()), "units": pa.array([1] * n, pa.int64())}), partition_by=["store"])
    share = share_of(portal, "wide", where)
    r = reader(portal, tmp_path, share)
    url = f"{portal.endpoint}/shares/{share}/schemas/s/tables/t/query"
    whole = r.post(url, json={}, stream=True)
    assert whole.headers.get("transfer-encoding") == "chunked" and "content-length" not in whole.headers
    lines = ndjson(whole)
    assert len(file_ids(lines)) == len(set(file_ids(lines))) == n and "endStreamAction" not in lines[-1]

    sizes, token = [], None
    while True:
        page = ndjson(r.post(url, json={"maxFiles": 1300, **({"pageToken": token} if token else {})}))
        sizes.append(len(file_ids(page)))
        token = page[-1]["endStreamAction"].get("nextPageToken")
        if not token:
            break
    assert sizes == [1300, 1300, 400]
    pruned = ndjson(r.post(url, json={"predicateHints": ["store = 1234"]}))
    assert [l["file"]["partitionValues"] for l in pruned if "file" in l] == [{"store": "1234"}]
    assert len(file_ids(ndjson(r.post(url, json={"limitHint": 10})))) == 10
    delta = ndjson(r.post(url, json={"maxFiles": 2}, headers={"delta-sharing-capabilities": "responseformat=delta"}))
    assert [l["file"]["deltaSingleAction"]["add"]["size"] > 0 for l in delta if "file" in l] == [True, True]


def test_a_table_too_large_to_keep_is_listed_as_a_stream_with_the_same_answers(portal, tmp_path):
    """A table whose checkpoint holds more files than the snapshot cache keeps is read from its
    log on each listing instead of loaded: the same files in the same order, pages, predicate
    hints and the official client's rows as from a loaded snapshot."""
    import delta_sharing

    where = tmp_path / "big"
    n = 300
    days = [f"2026-01-{i % 28 + 1:02d}" for i in range(n)]
    write_deltalake(str(where), pa.table({"day": days, "k": pa.array(range(n), pa.int64()), "v": [f"v{i}" for i in range(n)]}), partition_by=["day", "k"])
    more = pa.table({"day": ["2026-02-01"], "k": pa.array([n], pa.int64()), "v": [f"v{n}"]})
    write_deltalake(str(where), more, mode="append", partition_by=["day", "k"])
    DeltaTable(str(where)).create_checkpoint()
    (tmp_path / "data").mkdir()
    # No cache budget: any table with a checkpoint is over it.
    lean = Portal(tmp_path / "data", free_port(), {"PORTAL_SNAPSHOT_CACHE_MB": "0", "PORTAL_METRICS_TOKEN": "lean-metrics"})
    lean.start()
    try:
        answers = {}
        for name, p in (("loaded", portal), ("streamed", lean)):
            share = share_of(p, "big", where)
            r, profile = reader_and_profile(p, tmp_path, share)
            url = f"{p.endpoint}/shares/{share}/schemas/s/tables/t/query"
            hint = {"op": "equal", "children": [{"op": "column", "name": "day", "valueType": "string"}, {"op": "literal", "value": "2026-01-03", "valueType": "string"}]}
            pages, body = [], {"maxFiles": 120}
            while True:
                page = ndjson(r.post(url, json=body))
                pages.append([l["file"]["id"] for l in page if "file" in l])
                token = page[-1]["endStreamAction"].get("nextPageToken")
                if not token:
                    break
                body = {"maxFiles": 120, "pageToken": token}
            answers[name] = {
                "all": [{k: v for k, v in l["file"].items() if k not in ("url", "expirationTimestamp")} for l in ndjson(r.post(url, json={}))[2:]],
                "pages": pages,
                "hinted": [l["file"]["partitionValues"]["day"] for l in ndjson(r.post(url, json={"jsonPredicateHints": json.dumps(hint)}))[2:]],
                "limited": len(ndjson(r.post(url, json={"limitHint": 1}))[2:]),
                "metadata": ndjson(r.get(url.rsplit("/", 1)[0] + "/metadata")),
                "client": delta_sharing.load_as_pandas(f"{profile}#{share}.s.t").sort_values("k")["k"].tolist(),
            }
        loaded, streamed = answers["loaded"], answers["streamed"]
        assert len(streamed["all"]) == n + 1 and streamed["all"] == loaded["all"], "the same files, in the same order"
        assert streamed["pages"] == loaded["pages"] and [len(p) for p in streamed["pages"]] == [120, 120, 61]
        assert sum(streamed["pages"], []) == [f["id"] for f in streamed["all"]], "pages cover the listing once, in order"
        assert streamed["hinted"] == loaded["hinted"] and set(streamed["hinted"]) == {"2026-01-03"} and len(streamed["hinted"]) == 11
        assert streamed["limited"] == loaded["limited"] == 1
        assert streamed["metadata"] == loaded["metadata"]
        assert streamed["client"] == loaded["client"] == list(range(n + 1)), "the official client reads every row"
        text = requests.get(lean.base + "/metrics", headers={"Authorization": "Bearer lean-metrics"}).text
        assert int(re.search(r'^portal_snapshot_cache_requests_total\{outcome="stream"\} (\d+)$', text, re.M).group(1)) >= 5
        assert re.search(r'^portal_snapshot_cache_requests_total\{outcome="load"\} 0$', text, re.M), "never loaded"
    finally:
        lean.stop()
