"""Changes since a version (`_since`, `_since_timestamp`): the rows API, CSV and Excel downloads
and export jobs give only the rows changed in the commits after that version, with
`_change_type`, `_commit_version` and `_commit_timestamp`, cut to the recipient's scope and the
view's filters. Compared with delta-rs's own change data feed reading (`load_cdf`) and with the
official client's `load_table_changes_as_pandas` on a table with inserts, updates and deletes.
A saved view remembers the version of its last download and offers the changes since."""
import csv
import io
import os
import re
import uuid
from datetime import datetime, timezone

import delta_sharing
import openpyxl
import pyarrow as pa
import pytest
import requests
from deltalake import DeltaTable, write_deltalake

from admin import bearer, partner_session, partner_token

CHANGE = ("_change_type", "_commit_version")


def rows(partner, ids, qty=1):
    return pa.table({
        "partner_id": pa.array([partner] * len(ids), pa.string()),
        "id": pa.array(ids, pa.int64()),
        "qty": pa.array([qty] * len(ids), pa.int64()),
    })


@pytest.fixture(scope="module")
def table(portal, tmp_path_factory):
    """`share.s.orders`, history shared, scoped by partner_id; versions: 0 create, 1 append,
    2 update (P001 id 2), 3 delete (P001 id 3), 4 delete (P002 id 1)."""
    where = tmp_path_factory.mktemp("cdf") / "orders"
    write_deltalake(str(where), pa.concat_tables([rows("P001", [1, 2, 3, 4]), rows("P002", [1, 2, 3])]),
                    partition_by=["partner_id"], configuration={"delta.enableChangeDataFeed": "true"})
    write_deltalake(str(where), pa.concat_tables([rows("P001", [5]), rows("P002", [4])]), mode="append")
    DeltaTable(str(where)).update(predicate="partner_id = 'P001' AND id = 2", updates={"qty": "qty + 100"})
    DeltaTable(str(where)).delete("partner_id = 'P001' AND id = 3")
    DeltaTable(str(where)).delete("partner_id = 'P002' AND id = 1")
    assert DeltaTable(str(where)).version() == 4
    share = f"cdf_{uuid.uuid4().hex[:8]}"
    portal.cli("share", "create", share)
    portal.cli("table", "add", f"{share}.s.orders", "--location", str(where), "--history", "--scope", "partner_id=partner_id")
    return share, where


def partner(portal, share, partner_id):
    name = f"since_{uuid.uuid4().hex[:8]}"
    portal.cli("recipient", "create", name, "--property", f"partner_id={partner_id}")
    portal.cli("grant", share, name)
    return name, bearer(partner_token(portal, name)[0])


def api_rows(portal, share, headers, view):
    url = f"{portal.base}/api/v1/shares/{share}/schemas/s/tables/orders/rows?{view}&_size=1000"
    resp = requests.get(url, headers=headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    names = [c["name"] for c in body["columns"]]
    return body, [dict(zip(names, r)) for r in body["rows"]]


def key(r):
    return (r["id"], r["qty"], r["_change_type"], r["_commit_version"])


def load_cdf(where, partner_id, starting_version):
    changes = pa.table(DeltaTable(str(where)).load_cdf(starting_version=starting_version).read_all()).to_pylist()
    return sorted(key(r) for r in changes if r["partner_id"] == partner_id)


def test_changes_since_a_version_are_delta_rs_changes_of_the_recipients_rows(portal, table, tmp_path):
    share, where = table
    name, headers = partner(portal, share, "P001")
    body, got = api_rows(portal, share, headers, "_since=0")
    assert body["changes"] == {"first_version": 1, "last_version": 4} and body["count"] == len(got)
    assert {r["partner_id"] for r in got} == {"P001"}, "the scope holds for changes too"
    assert sorted(map(key, got)) == load_cdf(where, "P001", 1)
    assert sorted(map(key, got)) == [
        (2, 1, "update_preimage", 2), (2, 101, "update_postimage", 2), (3, 1, "delete", 3), (5, 1, "insert", 1),
    ]
    assert [r["_commit_version"] for r in got] == sorted(r["_commit_version"] for r in got), "in commit order"
    # Commit times are UTC, written without a zone as the change feed's column has none.
    assert all(datetime.fromisoformat(r["_commit_timestamp"]).year >= 2026 for r in got)

    # The official client reads the same changes over the protocol.
    profile, _ = portal.profile(name, tmp_path / f"{name}.share")
    official = delta_sharing.load_table_changes_as_pandas(f"{profile}#{share}.s.orders", starting_version=1)
    official_rows = [(int(r["id"]), int(r["qty"]), r["_change_type"], int(r["_commit_version"])) for r in official.to_dict("records")]
    assert sorted(official_rows) == sorted(map(key, got))

    # Later versions only, and the view's filters on top.
    _, later = api_rows(portal, share, headers, "_since=2")
    assert sorted(map(key, later)) == load_cdf(where, "P001", 3) == [(3, 1, "delete", 3)]
    _, inserts = api_rows(portal, share, headers, "_since=0&_change_type__exact=insert")
    assert [key(r) for r in inserts] == [(5, 1, "insert", 1)]
    _, none = api_rows(portal, share, headers, "_since=4")
    assert none == []

    other, other_headers = partner(portal, share, "P002")
    _, theirs = api_rows(portal, share, other_headers, "_since=0")
    assert sorted(map(key, theirs)) == load_cdf(where, "P002", 1) == [(1, 1, "delete", 4), (4, 1, "insert", 1)]


def test_changes_since_a_time(portal, table):
    share, where = table
    _, headers = partner(portal, share, "P001")
    # Versions are found by their commit file's time, as for time travel and the protocol.
    written = os.path.getmtime(where / "_delta_log" / f"{3:020}.json")
    at = datetime.fromtimestamp(written, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    body, got = api_rows(portal, share, headers, "_since_timestamp=" + requests.utils.quote(at))
    assert body["changes"] == {"first_version": 3, "last_version": 4}
    assert [key(r) for r in got] == [(3, 1, "delete", 3)]


def test_downloads_of_changes_carry_the_change_columns(portal, table):
    share, _ = table
    _, headers = partner(portal, share, "P001")
    base = f"{portal.base}/api/v1/shares/{share}/schemas/s/tables/orders"
    resp = requests.get(f"{base}/export.csv?_since=1", headers=headers)
    assert resp.status_code == 200, resp.text
    assert re.search(r'filename="orders_\d{4}-\d\d-\d\d_changes_v2-v4\.csv"', resp.headers["content-disposition"])
    lines = list(csv.DictReader(io.StringIO(resp.text)))
    assert list(lines[0])[-3:] == ["_change_type", "_commit_version", "_commit_timestamp"]
    assert sorted((l["id"], l["qty"], l["_change_type"]) for l in lines) == [("2", "1", "update_preimage"), ("2", "101", "update_postimage"), ("3", "1", "delete")]

    book = requests.get(f"{base}/export.xlsx?_since=1", headers=headers)
    assert book.status_code == 200, book.text
    wb = openpyxl.load_workbook(io.BytesIO(book.content), read_only=True)
    data = [list(r) for r in wb["Data"].iter_rows(values_only=True)]
    column = data[0].index("_change_type")
    assert sorted(r[column] for r in data[1:]) == ["Changed (after)", "Changed (before)", "Removed"]
    about = {r[0]: r[1] for r in wb["About"].iter_rows(values_only=True) if r and r[0]}
    assert about["Changes in"] == "versions 2 to 4"


@pytest.mark.parametrize(
    "view,status,words",
    [
        ("_since=99", 400, "after the latest version"),
        ("_since=minus", 400, "`_since` must be a table version number"),
        ("_since=1&_since_timestamp=2026-01-01T00:00:00Z", 400, "give one of `_since` or `_since_timestamp`"),
        ("_since_timestamp=yesterday", 400, "not an ISO-8601 timestamp"),
    ],
)
def test_changes_that_cannot_be_given_are_a_clear_400(portal, table, view, status, words):
    share, _ = table
    _, headers = partner(portal, share, "P001")
    resp = requests.get(f"{portal.base}/api/v1/shares/{share}/schemas/s/tables/orders/rows?{view}", headers=headers)
    assert resp.status_code == status, resp.text
    assert resp.json()["errorCode"] == "INVALID_PARAMETER_VALUE" and words in resp.json()["message"], resp.text


def test_tables_without_history_or_change_feed_say_why(portal, acme, tmp_path):
    no_history = requests.get(f"{portal.base}/api/v1/shares/wholesale/schemas/commerce/tables/stock/rows?_since=0", headers=acme)
    assert no_history.status_code == 400 and "without its history" in no_history.json()["message"]
    where = tmp_path / "plain"
    write_deltalake(str(where), rows("P001", [1]))
    write_deltalake(str(where), rows("P001", [2]), mode="append")
    share = f"nocdf_{uuid.uuid4().hex[:8]}"
    portal.cli("share", "create", share)
    portal.cli("table", "add", f"{share}.s.orders", "--location", str(where), "--history")
    _, headers = partner(portal, share, "P001")
    resp = requests.get(f"{portal.base}/api/v1/shares/{share}/schemas/s/tables/orders/rows?_since=0", headers=headers)
    assert resp.status_code == 400 and "change data feed is not turned on" in resp.json()["message"], resp.text


def test_a_saved_view_offers_the_changes_since_its_last_download(portal, tmp_path):
    where = tmp_path / "orders"
    write_deltalake(str(where), pa.concat_tables([rows("P001", [1, 2]), rows("P002", [1])]),
                    partition_by=["partner_id"], configuration={"delta.enableChangeDataFeed": "true"})
    share = f"since_{uuid.uuid4().hex[:8]}"
    portal.cli("share", "create", share)
    portal.cli("table", "add", f"{share}.s.orders", "--location", str(where), "--history", "--scope", "partner_id=partner_id")
    name, headers = partner(portal, share, "P001")
    table_url = f"/shares/{share}/s/orders"
    saved = requests.post(f"{portal.base}/api/v1/views", headers=headers, json={"share": share, "schema": "s", "table": "orders", "view": "qty__gte=1", "name": "mine"})
    assert saved.status_code == 201, saved.text
    assert saved.json()["last_download"] is None

    # A complete download of the view is remembered at the version it held.
    csv_url = f"{portal.base}/api/v1/shares/{share}/schemas/s/tables/orders/export.csv?qty__gte=1"
    assert requests.get(csv_url, headers=headers).text.count("\n") == 3
    [view] = requests.get(f"{portal.base}/api/v1/views", headers=headers).json()["items"]
    assert view["last_download"]["version"] == 0

    web = partner_session(portal, name)
    page = web.get(portal.base + f"{table_url}?qty__gte=1").text
    assert "You downloaded this view at the latest version (0)" in page

    write_deltalake(str(where), pa.concat_tables([rows("P001", [3]), rows("P002", [2])]), mode="append")
    page = web.get(portal.base + f"{table_url}?qty__gte=1").text
    assert "New since your last download (version 0" in page
    link = re.search(r'href="([^"]*_since=0[^"]*)"[^>]*>Show the changes since version 0<', page).group(1).replace("&amp;", "&")
    changes = web.get(portal.base + link).text
    assert "You are looking at the rows changed after version 0" in changes
    assert re.search(r'data-testid="row-count">1 row<', changes), "exactly the one new row of this partner"
    _, got = api_rows(portal, share, headers, link.split("?", 1)[1])
    assert [key(r) for r in got] == [(3, 1, "insert", 1)]
    # Downloading the changes moves the mark to the version they end at.
    assert requests.get(f"{portal.base}/api/v1/shares/{share}/schemas/s/tables/orders/export.csv?{link.split('?', 1)[1]}", headers=headers).ok
    [view] = requests.get(f"{portal.base}/api/v1/views", headers=headers).json()["items"]
    assert view["last_download"]["version"] == 1
