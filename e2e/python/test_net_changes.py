"""Net changes (`_net=1` with `_since`): each changed key once, in its latest state, when the
table's admin has declared its key columns (console, admin API, CLI). Compared with the net of
delta-rs's own change data feed reading (`load_cdf`): per key, the latest commit's row, the
pre-images left out, per recipient scope."""
import csv
import io
import re
import uuid

import pyarrow as pa
import pytest
import requests
from deltalake import DeltaTable, write_deltalake

from admin import AdminApi, error_of, partner_session
from test_changes_since import partner, rows
from test_export_jobs import wait_for


@pytest.fixture(scope="module")
def table(portal, tmp_path_factory):
    """`share.s.orders` keyed by `id`; versions: 0 create, 1 append, 2 and 3 update P001 id 2
    twice, 4 delete P001 id 3, 5 append P001 id 6, 6 delete P001 id 6, 7 update P002 id 2."""
    where = tmp_path_factory.mktemp("net") / "orders"
    write_deltalake(str(where), pa.concat_tables([rows("P001", [1, 2, 3, 4]), rows("P002", [1, 2, 3])]),
                    partition_by=["partner_id"], configuration={"delta.enableChangeDataFeed": "true"})
    write_deltalake(str(where), pa.concat_tables([rows("P001", [5]), rows("P002", [4])]), mode="append")
    dt = lambda: DeltaTable(str(where))  # noqa: E731
    dt().update(predicate="partner_id = 'P001' AND id = 2", updates={"qty": "qty + 100"})
    dt().update(predicate="partner_id = 'P001' AND id = 2", updates={"qty": "qty + 1000"})
    dt().delete("partner_id = 'P001' AND id = 3")
    write_deltalake(str(where), rows("P001", [6], qty=7), mode="append")
    dt().delete("partner_id = 'P001' AND id = 6")
    dt().update(predicate="partner_id = 'P002' AND id = 2", updates={"qty": "qty + 5"})
    assert dt().version() == 7
    share = f"net_{uuid.uuid4().hex[:8]}"
    portal.cli("share", "create", share)
    portal.cli("table", "add", f"{share}.s.orders", "--location", str(where), "--history", "--scope", "partner_id=partner_id")
    return share, where


def net_of_load_cdf(where, partner_id, starting_version):
    """The net changes, computed from delta-rs's change feed: per id, its latest change."""
    changes = pa.table(DeltaTable(str(where)).load_cdf(starting_version=starting_version).read_all()).to_pylist()
    latest = {}
    for r in changes:
        if r["partner_id"] != partner_id or r["_change_type"] == "update_preimage":
            continue
        rank = (r["_commit_version"], r["_change_type"] != "delete")
        if r["id"] not in latest or rank > latest[r["id"]][0]:
            latest[r["id"]] = (rank, r)
    return sorted((r["id"], r["qty"], r["_change_type"], r["_commit_version"]) for _, r in latest.values())


def net_rows(portal, share, headers, view):
    resp = requests.get(f"{portal.base}/api/v1/shares/{share}/schemas/s/tables/orders/rows?{view}&_size=1000", headers=headers)
    assert resp.status_code == 200, resp.text
    names = [c["name"] for c in resp.json()["columns"]]
    got = [dict(zip(names, r)) for r in resp.json()["rows"]]
    return resp.json(), sorted((r["id"], r["qty"], r["_change_type"], r["_commit_version"]) for r in got)


def declare(portal, share, *keys):
    out = portal.cli("table", "keys", f"{share}.s.orders", *[a for k in keys for a in ("--key", k)]).stdout.strip()
    assert out == f"{share}.s.orders key columns: {', '.join(keys) if keys else 'none'}"


def test_net_changes_need_declared_keys_and_a_since(portal, table):
    share, _ = table
    declare(portal, share)
    _, headers = partner(portal, share, "P001")
    base = f"{portal.base}/api/v1/shares/{share}/schemas/s/tables/orders"
    body = error_of(requests.get(f"{base}/rows?_since=0&_net=1", headers=headers), 400)
    assert "has not declared them" in body["message"], body
    body = error_of(requests.get(f"{base}/rows?_net=1", headers=headers), 400)
    assert "add `_since`" in body["message"], body
    error_of(requests.get(f"{base}/rows?_since=0&_net=perhaps", headers=headers), 400)
    assert error_of(requests.get(f"{base}/export.csv?_since=0&_net=1", headers=headers), 400)
    # Every change is still there without `_net`.
    assert requests.get(f"{base}/rows?_since=0", headers=headers).status_code == 200


def test_net_changes_are_the_latest_change_of_each_key_per_recipient(portal, table):
    share, where = table
    declare(portal, share, "id")
    _, p001 = partner(portal, share, "P001")
    body, got = net_rows(portal, share, p001, "_since=0&_net=1")
    assert got == net_of_load_cdf(where, "P001", 1)
    assert got == [(2, 1101, "update_postimage", 3), (3, 1, "delete", 4), (5, 1, "insert", 1), (6, 7, "delete", 6)]
    assert body["count"] == 4 and body["changes"] == {"first_version": 1, "last_version": 7}
    # Every change, for comparison: the net view leaves out pre-images and earlier changes of a key.
    _, every = net_rows(portal, share, p001, "_since=0")
    assert len(every) == 8
    # A later start; the view's filters first, then the net.
    assert net_rows(portal, share, p001, "_since=2&_net=1")[1] == net_of_load_cdf(where, "P001", 3)
    assert net_rows(portal, share, p001, "_since=0&_net=1&_change_type__exact=delete")[1] == [(3, 1, "delete", 4), (6, 7, "delete", 6)]
    # Filters apply to each key's latest state: id 2 is now 1101, so an older state of it that
    # matched (101, after the first update) is not shown as if it were current.
    assert net_rows(portal, share, p001, "_since=0&_net=1&qty__lt=1000")[1] == [(3, 1, "delete", 4), (5, 1, "insert", 1), (6, 7, "delete", 6)]

    _, p002 = partner(portal, share, "P002")
    assert net_rows(portal, share, p002, "_since=0&_net=1")[1] == net_of_load_cdf(where, "P002", 1) == [
        (2, 6, "update_postimage", 7), (4, 1, "insert", 1)]


def test_net_changes_download_as_files_and_export_jobs(portal, table):
    share, where = table
    declare(portal, share, "id")
    _, headers = partner(portal, share, "P001")
    base = f"{portal.base}/api/v1/shares/{share}/schemas/s/tables/orders"
    resp = requests.get(f"{base}/export.csv?_since=0&_net=1", headers=headers)
    assert resp.status_code == 200, resp.text
    assert re.search(r'filename="orders_\d{4}-\d\d-\d\d_net_changes_v1-v7\.csv"', resp.headers["content-disposition"])
    lines = list(csv.DictReader(io.StringIO(resp.text)))
    assert "_net_rank" not in lines[0], "the window's own column is never shown"
    got = sorted((int(l["id"]), int(l["qty"]), l["_change_type"], int(l["_commit_version"])) for l in lines)
    assert got == net_of_load_cdf(where, "P001", 1)

    job = requests.post(f"{base}/exports?_since=0&_net=1&_format=csv", headers=headers)
    assert job.status_code == 202, job.text
    done = wait_for(portal, headers, job.json()["id"])
    assert done["status"] == "done" and done["rows_written"] == 4, done


def test_admins_declare_key_columns_through_the_api_with_clear_errors(portal, table):
    share, _ = table
    api = AdminApi.platform(portal)
    path = f"/shares/{share}/tables/s.orders"
    assert api.ok("PATCH", path, {"keyColumns": ["ID", "partner_id", "id"]})["keyColumns"] == ["id", "partner_id"]
    assert "there is no column `sku`" in error_of(api.patch(path, {"keyColumns": ["sku"]}), 400, field="keyColumns")["message"]
    assert api.ok("GET", f"/shares/{share}")["tables"][0]["keyColumns"] == ["id", "partner_id"]
    assert api.ok("PATCH", path, {"keyColumns": []})["keyColumns"] == []
    audit = [e for e in portal.audit(300) if e["action"] == "admin.updateTable" and e["object"] == f"{share}.s.orders"]
    assert any('"keyColumns":["id","partner_id"]' in (e.get("detail") or "") for e in audit), audit[:3]
    bad = portal.cli("table", "keys", f"{share}.s.orders", "--key", "nope", check=False)
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1 and "nope" in bad.stderr


def test_the_table_page_offers_net_changes_once_keys_are_declared(portal, table):
    share, _ = table
    declare(portal, share)
    name, _ = partner(portal, share, "P001")
    web = partner_session(portal, name)
    page = web.get(f"{portal.base}/shares/{share}/s/orders?_since=0").text
    assert "Show net changes" not in page
    declare(portal, share, "id")
    page = web.get(f"{portal.base}/shares/{share}/s/orders?_since=0").text
    link = re.search(r'href="([^"]+)"[^>]*>Show net changes: each id once', page).group(1).replace("&amp;", "&")
    assert "_net=1" in link and "_since=0" in link
    net = web.get(portal.base + link).text
    assert "Net changes: each id once, in its latest state" in net
    assert re.search(r'data-testid="row-count">4 rows<', net)
    assert "Show every change" in net
