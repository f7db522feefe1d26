"""Downloads of a table view (`export.csv`): the preview's grammar and scope, every row, and the
three CSV dialects, checked against delta-rs' reading of the same table."""
import base64
import csv
import io

import pandas as pd
import pytest
import requests
from deltalake import write_deltalake
import pyarrow as pa

EXPORT = "/api/v1/shares/{}/schemas/{}/tables/{}/export.csv"


def export(portal, headers, params="", table=("wholesale", "commerce", "sales")):
    return requests.get(portal.base + EXPORT.format(*table) + ("?" + params if params else ""), headers=headers)


def test_plain_csv_is_every_row_of_the_view(portal, acme, sales_p001):
    resp = export(portal, acme, "country=DE&_sort_desc=revenue&_nocol=sku")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    assert resp.headers["content-disposition"].startswith('attachment; filename="sales_') and "_filtered.csv" in resp.headers["content-disposition"]
    assert not resp.content.startswith(b"\xef\xbb\xbf"), "plain CSV has no BOM"
    got = pd.read_csv(io.StringIO(resp.text), keep_default_na=False, dtype=str)
    want = sales_p001[sales_p001.country == "DE"]
    assert "sku" not in got.columns and len(got) == len(want) > 1000
    assert set(got.order_id) == set(want.order_id) and set(got.partner_id) == {"P001"}
    revenues = got.revenue.astype(float).tolist()
    assert revenues == sorted(revenues, reverse=True)
    assert got.updated_at.iloc[0].endswith("Z") and len(got.order_date.iloc[0]) == 10
    # Null stays empty, distinct from no row.
    assert (got["product"] == "").sum() == want["product"].isna().sum()


def test_unfiltered_name_has_no_suffix(portal, acme):
    resp = export(portal, acme, "_col=sku&_sort=sku", table=("wholesale", "commerce", "stock"))
    assert resp.status_code == 200
    assert resp.headers["content-disposition"].startswith('attachment; filename="stock_')
    assert "_filtered" not in resp.headers["content-disposition"]


def test_excel_dialects(portal, acme):
    excel = export(portal, acme, "country=DE&_col=order_id&_col=revenue&_col=updated_at&_dialect=excel")
    assert excel.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(excel.content.decode("utf-8-sig"))))
    assert rows[0] == ["order_id", "revenue", "updated_at"] and "." in "".join(r[1] for r in rows[1:])
    assert "T" not in rows[1][2] and not rows[1][2].endswith("Z")
    eu = export(portal, acme, "country=DE&_col=order_id&_col=revenue&_dialect=excel-eu")
    rows = list(csv.reader(io.StringIO(eu.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["order_id", "revenue"]
    assert any("," in r[1] for r in rows[1:]) and not any("." in r[1] for r in rows[1:])
    assert export(portal, acme, "_dialect=tsv").status_code == 400


def test_formula_text_is_neutralised_only_for_excel(portal, tmp_path):
    location = tmp_path / "tricky"
    values = ["=1+2", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\tx", "plain", "a=b"]
    write_deltalake(str(location), pa.table({"note": values, "amount": list(range(-3, 4))}))
    portal.cli("share", "create", "tricky")
    portal.cli("table", "add", "tricky.s.notes", "--location", str(location))
    portal.cli("recipient", "create", "tricky_reader")
    portal.cli("grant", "tricky", "tricky_reader")
    path, _ = portal.profile("tricky_reader", tmp_path / "t.share")
    headers = {"Authorization": f"Bearer {portal.token_of(path)}"}
    table = ("tricky", "s", "notes")
    plain = list(csv.reader(io.StringIO(export(portal, headers, table=table).text)))
    assert [r[0] for r in plain[1:]] == values, "plain CSV stays byte-faithful"
    excel = list(csv.reader(io.StringIO(export(portal, headers, "_dialect=excel", table=table).content.decode("utf-8-sig"))))
    notes = [r[0] for r in excel[1:]]
    assert notes[:5] == ["'" + v for v in values[:5]] and notes[5:] == ["plain", "a=b"]
    assert [r[1] for r in excel[1:]] == [str(n) for n in range(-3, 4)], "negative numbers stay numbers"


def test_basic_auth_scope_and_errors(portal, acme_profile, sales_p001):
    token = portal.token_of(acme_profile)
    basic = {"Authorization": "Basic " + base64.b64encode(f"excel:{token}".encode()).decode()}
    resp = export(portal, basic, "_col=partner_id")
    assert resp.status_code == 200
    assert set(resp.text.split("\r\n")[1:-1]) == {"P001"} and len(resp.text.split("\r\n")) - 2 == len(sales_p001)
    wrong = {"Authorization": "Basic " + base64.b64encode(b"excel:dss_nope").decode()}
    assert export(portal, wrong).status_code == 401
    assert export(portal, {}).status_code == 401
    assert export(portal, basic, table=("connected_retail", "retail", "sales_feed")).status_code == 404
    bad = export(portal, basic, "units__gt=ten")
    assert bad.status_code == 400 and bad.json()["column"] == "units"
    events = [e for e in portal.audit(20) if e["action"] == "export.csv"]
    newest = events[0]
    assert (newest["actor"], newest["object"], newest["status"]) == ("recipient:acme_foods", "wholesale.commerce.sales", 400)
    assert any(e["object"] == "connected_retail.retail.sales_feed" and e["status"] == 404 for e in events)
