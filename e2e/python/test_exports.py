"""Downloads of a table view (`export.csv`): the preview's grammar and scope, every row, and the
three CSV dialects, checked against delta-rs' reading of the same table."""
import base64
import csv
import io
import re
import subprocess
from datetime import date, datetime, timezone
from decimal import Decimal

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


# Text a spreadsheet would run: formula signs (also fullwidth, as Excel with an East Asian input
# method takes them), after leading whitespace or a line break too.
FORMULAS = [
    "=1+2", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\tx",
    " =1+2", "\n=1+2", "\u3000=1+2", "\uff1d1+2", "\uff0b1+2", "\uff0d2+3", "\uff20SUM(A1:A2)",
]
HARMLESS = ["plain", "a=b", " a=b"]


def test_formula_text_is_neutralised_only_for_excel(portal, tmp_path):
    location = tmp_path / "tricky"
    values = FORMULAS + HARMLESS
    write_deltalake(str(location), pa.table({"note": values, "amount": list(range(-3, len(values) - 3))}))
    headers = portal.share_new_table("tricky.s.notes", location, "tricky_reader", tmp_path)
    table = ("tricky", "s", "notes")
    plain = list(csv.reader(io.StringIO(export(portal, headers, table=table).text, newline="")))
    assert [r[0] for r in plain[1:]] == values, "plain CSV stays byte-faithful"
    excel_bytes = export(portal, headers, "_dialect=excel", table=table).content
    excel = list(csv.reader(io.StringIO(excel_bytes.decode("utf-8-sig"), newline="")))
    notes = [r[0] for r in excel[1:]]
    assert notes == ["'" + v for v in FORMULAS] + HARMLESS
    assert [r[1] for r in excel[1:]] == [str(n) for n in range(-3, len(values) - 3)], "negative numbers stay numbers"
    # LibreOffice, told to trim spaces and evaluate formulas on import, computes none of them.
    (tmp_path / "excel.csv").write_bytes(excel_bytes)
    opened = libreoffice_csv([tmp_path / "excel.csv"], tmp_path, infilter=LIBREOFFICE_EVALUATING_IMPORT)[0]
    squeeze = lambda text: re.sub(r"[\s']", "", text)
    assert [squeeze(r[0]) for r in opened[1:]] == [squeeze(v) for v in values], "every cell is still its text"


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


def xlsx(portal, headers, params="", table=("wholesale", "commerce", "sales")):
    return requests.get(portal.base + EXPORT.format(*table).replace("export.csv", "export.xlsx") + ("?" + params if params else ""), headers=headers)


def workbook(resp):
    import openpyxl

    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return openpyxl.load_workbook(io.BytesIO(resp.content))


def test_xlsx_cells_are_typed_and_the_header_frozen(portal, acme, sales_p001):
    resp = xlsx(portal, acme, "country=DE&_sort_desc=revenue")
    assert "_filtered.xlsx" in resp.headers["content-disposition"]
    wb = workbook(resp)
    assert wb.sheetnames == ["Data", "About"]
    data = wb["Data"]
    header = [c.value for c in data[1]]
    assert header[:3] == ["partner_id", "order_id", "order_date"] and header[-1] == "updated_at (UTC)"
    assert all(c.font.b for c in data[1]) and data.freeze_panes == "A2"
    assert data.auto_filter.ref == f"A1:J{data.max_row}"
    want = sales_p001[sales_p001.country == "DE"].sort_values("revenue", ascending=False)
    assert data.max_row - 1 == len(want)
    row = [c.value for c in data[2]]
    first = want.iloc[0]
    assert row[1] == first.order_id and isinstance(row[1], str)
    assert row[6] == first.units and isinstance(row[6], int)  # a number, not text
    assert abs(row[8] - first.revenue) < 1e-9
    assert row[2].date() == pd.Timestamp(first.order_date).date() and data.cell(2, 3).number_format == "yyyy-mm-dd"
    assert row[9].replace(tzinfo=None) == pd.Timestamp(first.updated_at).tz_convert("UTC").tz_localize(None).to_pydatetime()
    assert data.cell(2, 4).data_type == "s" and data.cell(2, 4).value.startswith("000"), "IDs keep their leading zeros"
    # Nulls are empty cells.
    assert sum(1 for r in data.iter_rows(min_row=2, min_col=5, max_col=5) if r[0].value is None) == want["product"].isna().sum()


def test_xlsx_about_sheet(portal, acme):
    about = workbook(xlsx(portal, acme, "country=DE"))["About"]
    facts = {r[0].value: r[1].value for r in about.iter_rows(max_col=2) if r[0].value}
    assert facts["Table"] == "wholesale.commerce.sales" and facts["Filters"] == 'where country = "DE"'
    assert int(facts["Rows"]) > 1000 and facts["Table version"] == "2"
    assert "Units sold; 0 for a cancelled line" in [r[2].value for r in about.iter_rows()]


def test_xlsx_text_never_becomes_a_formula(portal, tmp_path):
    location = tmp_path / "formulas"
    values = ["=1+2", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "plain", "x" * 40_000, "ünïcödé ✓ 中文"]
    write_deltalake(str(location), pa.table({"note": values}))
    portal.cli("share", "create", "formulas")
    portal.cli("table", "add", "formulas.s.notes", "--location", str(location))
    portal.cli("recipient", "create", "formula_reader")
    portal.cli("grant", "formulas", "formula_reader")
    path, _ = portal.profile("formula_reader", tmp_path / "f.share")
    wb = workbook(xlsx(portal, {"Authorization": f"Bearer {portal.token_of(path)}"}, table=("formulas", "s", "notes")))
    cells = [r[0] for r in wb["Data"].iter_rows(min_row=2)]
    assert all(c.data_type == "s" for c in cells), [c.data_type for c in cells]
    assert [c.value for c in cells][:5] == values[:5] and cells[6].value == values[6]
    assert len(cells[5].value) == 32_767
    facts = {r[0].value: r[1].value for r in wb["About"].iter_rows(max_col=2) if r[0].value}
    assert "1 cells held more than" in facts["Truncated cells"]


def test_xlsx_refuses_views_larger_than_the_limit(tmp_path):
    from conftest import Portal, free_port

    small = Portal(tmp_path / "data", free_port(), extra_env={"PORTAL_XLSX_MAX_ROWS": "10"})
    small.cli("demo")
    small.start()
    try:
        path, _ = small.profile("acme_foods", tmp_path / "a.share")
        headers = {"Authorization": f"Bearer {small.token_of(path)}"}
        big = xlsx(small, headers)
        assert big.status_code == 400 and "at most 10" in big.json()["message"] and "CSV" in big.json()["message"]
        assert xlsx(small, headers, "order_id=SO-00-0000000").status_code == 200
    finally:
        small.stop()


def test_xlsx_continues_on_more_sheets_past_excels_row_limit(portal, tmp_path):
    import openpyxl

    rows = 1_100_000
    location = tmp_path / "long"
    write_deltalake(str(location), pa.table({"n": pa.array(range(rows), pa.int64())}))
    portal.cli("share", "create", "long")
    portal.cli("table", "add", "long.s.numbers", "--location", str(location))
    portal.cli("recipient", "create", "long_reader")
    portal.cli("grant", "long", "long_reader")
    path, _ = portal.profile("long_reader", tmp_path / "l.share")
    resp = xlsx(portal, {"Authorization": f"Bearer {portal.token_of(path)}"}, table=("long", "s", "numbers"))
    assert resp.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(resp.content), read_only=True)
    assert wb.sheetnames == ["Data", "Data (2)", "About"]
    assert wb["Data"].max_row == 1_048_576 and wb["Data (2)"].max_row == rows - 1_048_575 + 1
    assert [next(wb[s].iter_rows(max_row=1, values_only=True)) for s in ("Data", "Data (2)")] == [("n",), ("n",)], "each sheet has the header"
    # An unsorted download is read in parallel, in no particular order; every row is there once.
    seen = sorted(r[0] for s in ("Data", "Data (2)") for r in wb[s].iter_rows(min_row=2, values_only=True))
    assert seen == list(range(rows)), "the rows continue on the second sheet, none lost or repeated"
    facts = {r[0]: r[1] for r in wb["About"].iter_rows(max_col=2, values_only=True) if r[0]}
    assert facts["Rows"] == str(rows) and "2 sheets" in facts["Sheets"]


# LibreOffice's CSV export: comma, double quotes, UTF-8 (76), from line 1, cells "as shown" (the
# last flag), so numbers and dates come out in the format the workbook gave them.
LIBREOFFICE_CSV = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true"


# LibreOffice's CSV import: comma, double quotes, UTF-8, from line 1, quoted fields not forced to
# text, remove spaces (token 11) and evaluate formulas (token 13): the most eager reading.
LIBREOFFICE_EVALUATING_IMPORT = "CSV:44,34,76,1,,0,false,false,false,false,true,false,true"


def libreoffice_csv(workbooks, tmp_path, infilter=None):
    """Opens each workbook in LibreOffice Calc (headless, a profile of its own) and saves its
    first sheet as CSV, as a partner without Excel would open the download."""
    out = tmp_path / "libreoffice"
    reading = [f"--infilter={infilter}"] if infilter else []
    done = subprocess.run(
        ["soffice", f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}", "--headless", *reading, "--convert-to", LIBREOFFICE_CSV, "--outdir", str(out), *map(str, workbooks)],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    converted = []
    for workbook in workbooks:
        target = out / (workbook.stem + ".csv")
        assert target.exists(), f"LibreOffice did not convert {workbook.name}: {done.stdout} {done.stderr}"
        converted.append(list(csv.reader(io.StringIO(target.read_text(encoding="utf-8")))))
    return converted


def test_xlsx_opens_in_libreoffice_with_its_types(portal, acme, sales_p001, tmp_path):
    location = tmp_path / "roundtrip"
    rows = [
        # note, units, price, day, at, amount
        ("=1+2", 3, 2.29, date(2026, 1, 31), datetime(2026, 1, 31, 10, 20, 30, tzinfo=timezone.utc), Decimal("12.50")),
        ("@SUM(A1:A2)", -2, 1234567.891, date(2026, 12, 1), datetime(2026, 12, 1, 0, 0, 1, tzinfo=timezone.utc), Decimal("0.10")),
        ("+cmd|' /C calc'!A0", 0, -14.49, date(1999, 2, 28), datetime(1999, 2, 28, 23, 59, 59, tzinfo=timezone.utc), Decimal("-3.00")),
        ("ünïcödé ✓ 中文", 10**12, 0.5, date(2026, 9, 1), datetime(2026, 9, 1, 12, 0, 0, tzinfo=timezone.utc), Decimal("99999999.99")),
        ('a, "quoted" note', 7, 0.001, date(2026, 2, 28), datetime(2026, 2, 28, 6, 30, 0, tzinfo=timezone.utc), Decimal("1.05")),
        ("0042", 1, 100.0, date(2026, 3, 1), datetime(2026, 3, 1, 0, 0, 0, tzinfo=timezone.utc), Decimal("0.00")),
        ("left out by the filter", 5, 1.0, date(2026, 3, 2), datetime(2026, 3, 2, 0, 0, 0, tzinfo=timezone.utc), Decimal("1.00")),
    ]
    columns = list(zip(*rows))
    write_deltalake(str(location), pa.table({
        "note": pa.array(columns[0]),
        "units": pa.array(columns[1], pa.int64()),
        "price": pa.array(columns[2], pa.float64()),
        "day": pa.array(columns[3], pa.date32()),
        "at": pa.array(columns[4], pa.timestamp("us", tz="UTC")),
        "amount": pa.array(columns[5], pa.decimal128(10, 2)),
    }))
    headers = portal.share_new_table("roundtrip.s.notes", location, "roundtrip_reader", tmp_path)
    mine = xlsx(portal, headers, "note__notcontains=filter&_sort=units", table=("roundtrip", "s", "notes"))
    sales = xlsx(portal, acme, "country=DE&_sort=order_id")
    for resp in (mine, sales):
        assert resp.status_code == 200 and "_filtered.xlsx" in resp.headers["content-disposition"], resp.text[:300]
    (tmp_path / "mine.xlsx").write_bytes(mine.content)
    (tmp_path / "sales.xlsx").write_bytes(sales.content)
    got, got_sales = libreoffice_csv([tmp_path / "mine.xlsx", tmp_path / "sales.xlsx"], tmp_path)

    # The small table: every kind of cell as a spreadsheet user sees it.
    assert got[0] == ["note", "units", "price", "day", "at (UTC)", "amount"]
    want = sorted((r for r in rows if "filter" not in r[0]), key=lambda r: r[1])
    assert len(got) - 1 == len(want)
    for cells, row in zip(got[1:], want):
        note, units, price, day, at, amount = cells
        assert note == row[0], "text stays text: a formula-looking value is not computed, leading zeros stay"
        assert units == str(row[1])
        assert float(price) == pytest.approx(row[2], rel=1e-12)
        assert day == row[3].isoformat(), "a date cell shows as a date"
        assert at == row[4].strftime("%Y-%m-%d %H:%M:%S")
        assert amount == f"{row[5]:.2f}", "decimals keep their scale"

    # A real view: the demo sales of acme_foods in Germany.
    want = sales_p001[sales_p001.country == "DE"].sort_values("order_id")
    header = got_sales[0]
    assert header == ["partner_id", "order_id", "order_date", "sku", "product", "country", "units", "unit_price", "revenue", "updated_at (UTC)"]
    assert len(got_sales) - 1 == len(want)
    col = {name: i for i, name in enumerate(header)}
    assert [r[col["order_id"]] for r in got_sales[1:]] == list(want.order_id)
    for cells, (_, truth) in zip(got_sales[1:], want.iterrows()):
        assert cells[col["order_date"]] == str(truth.order_date)[:10]
        assert cells[col["updated_at (UTC)"]] == pd.Timestamp(truth.updated_at).tz_convert("UTC").strftime("%Y-%m-%d %H:%M:%S")
        assert cells[col["units"]] == str(truth.units) and cells[col["sku"]] == truth.sku
        assert float(cells[col["revenue"]]) == pytest.approx(truth.revenue, rel=1e-12)
        assert cells[col["product"]] == ("" if pd.isna(truth["product"]) else truth["product"])
    assert "Müsli mit Früchten 750 g" in {r[col["product"]] for r in got_sales[1:]}
