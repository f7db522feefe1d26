"""Charts of a table view (`_chart=bar|line`, `_chart_x`, `_chart_agg=count|sum|avg`,
`_chart_y`): computed by the portal on the recipient's scoped, filtered rows and drawn as SVG on
the server — on the table page without JavaScript (with the figures as a table too) and as an
SVG download. Compared with pandas on delta-rs's reading of the same table."""
import html
import re
import struct
import zlib

import pytest
import requests

from admin import AdminApi, error_of, partner_session

TABLE = "/shares/wholesale/commerce/sales"
SVG = "/api/v1/shares/wholesale/schemas/commerce/tables/sales/chart.svg"
PNG = SVG.removesuffix(".svg") + ".png"


def figures(svg):
    """(label, value) of every bar or point, as the SVG carries them."""
    return [(html.unescape(label), float(value)) for label, value in re.findall(r'data-label="([^"]*)" data-value="([^"]*)"', svg)]


def chart(portal, headers, view):
    resp = requests.get(f"{portal.base}{SVG}?{view}", headers=headers)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("image/svg+xml")
    assert 'filename="sales_chart.svg"' in resp.headers["content-disposition"]
    assert resp.text.startswith("<svg") and 'role="img"' in resp.text
    return figures(resp.text)


def test_bars_count_and_sum_the_recipients_rows(portal, acme, sales_p001):
    counts = sales_p001.groupby("country").size().sort_values(ascending=False)
    got = chart(portal, acme, "_chart=bar&_chart_x=country")
    assert sorted(got) == sorted((c, float(n)) for c, n in counts.items())
    assert [v for _, v in got] == sorted((v for _, v in got), reverse=True), "largest first"

    sums = sales_p001.groupby("country")["revenue"].sum()
    got = dict(chart(portal, acme, "_chart=bar&_chart_x=country&_chart_agg=sum&_chart_y=revenue"))
    assert set(got) == set(sums.index)
    for country, total in sums.items():
        assert got[country] == pytest.approx(float(total), rel=1e-9)


def test_filters_narrow_a_chart_and_another_recipient_sees_its_own(portal, acme, nordic, sales_p001):
    german = sales_p001[sales_p001.country == "DE"].groupby("sku").size()
    got = dict(chart(portal, acme, "country=DE&_chart=bar&_chart_x=sku"))
    assert got == {sku: float(n) for sku, n in german.items()}
    theirs = dict(chart(portal, nordic, "_chart=bar&_chart_x=partner_id"))
    assert list(theirs) == ["P002"], "the scope holds for charts"


def test_a_line_over_dates_is_in_date_order(portal, acme, sales_p001):
    mean = sales_p001.groupby("order_date")["units"].mean()
    got = chart(portal, acme, "_chart=line&_chart_x=order_date&_chart_agg=avg&_chart_y=units")
    assert [d for d, _ in got] == sorted(d for d, _ in got)
    assert len(got) == len(mean)
    expected = {str(d)[:10]: float(v) for d, v in mean.items()}
    for day, value in got:
        assert value == pytest.approx(expected[day], rel=1e-9)


@pytest.mark.parametrize(
    "view,column,words",
    [
        ("_chart=line&_chart_x=product", "product", "a line needs a date, a time or a number"),
        ("_chart=bar&_chart_x=nope", "nope", "there is no column `nope`"),
        ("_chart=bar&_chart_x=country&_chart_agg=sum&_chart_y=product", "product", "is not a number"),
    ],
)
def test_charts_that_cannot_be_drawn_are_clear_400s(portal, acme, view, column, words):
    body = error_of(requests.get(f"{portal.base}{SVG}?{view}", headers=acme), 400)
    assert words in body["message"] and body.get("column") == column, body


def test_bad_chart_parameters_are_400s(portal, acme):
    for view in ["_chart=pie&_chart_x=country", "_chart=bar", "_chart=bar&_chart_x=country&_chart_agg=sum", "country=DE"]:
        error_of(requests.get(f"{portal.base}{SVG}?{view}", headers=acme), 400)


def test_the_table_page_draws_the_chart_without_javascript(portal):
    name = "charts_partner"
    portal.cli("recipient", "create", name, "--property", "partner_id=P001", check=False)
    portal.cli("grant", "wholesale", name, check=False)
    web = partner_session(portal, name)
    page = web.get(f"{portal.base}{TABLE}?country=DE&_chart=bar&_chart_x=sku&_chart_agg=sum&_chart_y=units").text
    figure = re.search(r'data-testid="chart".*?</figure>', page, re.S).group(0)
    assert "<svg" in figure and "Sum of units by sku" in figure
    table = re.search(r'data-testid="chart-table".*?</table>', page, re.S).group(0)
    svg_rows = figures(figure)
    assert len(re.findall(r"<tr>", table)) == len(svg_rows) + 1, "one row per bar, and the header"
    assert f"{SVG}?country__exact=DE&amp;_chart=bar" in page, "the download keeps the view and the chart"
    assert f"{PNG}?country__exact=DE&amp;_chart=bar" in page, "and so does the PNG's"
    assert re.search(r'<select id="chart-x" name="_chart_x"', page), "the form to draw another chart is there"

    # A bad chart is said on the page; the rows still show.
    bad = web.get(f"{portal.base}{TABLE}?_chart=line&_chart_x=product").text
    assert "This chart cannot be drawn: a line needs a date" in bad and 'data-testid="row-count"' in bad

    # The picture is a download: off with downloads, while the page still draws it.
    AdminApi.platform(portal).ok("PUT", f"/recipients/{name}/limits", {"downloadsAllowed": False})
    try:
        from admin import bearer, partner_token
        headers = bearer(partner_token(portal, name)[0])
        assert requests.get(f"{portal.base}{SVG}?_chart=bar&_chart_x=country", headers=headers).status_code == 403
        assert requests.get(f"{portal.base}{PNG}?_chart=bar&_chart_x=country", headers=headers).status_code == 403
        assert 'data-testid="chart"' in web.get(f"{portal.base}{TABLE}?_chart=bar&_chart_x=country").text
    finally:
        AdminApi.platform(portal).ok("PUT", f"/recipients/{name}/limits", {"downloadsAllowed": True})


def png_pixels(data):
    """Width, height and the RGBA rows of a PNG (8-bit RGBA, as the portal writes it), read with
    the standard library: the chunks, inflated, each row's filter undone."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        chunks.setdefault(kind, []).append(data[pos + 8:pos + 8 + length])
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][0][:10])
    assert (depth, colour) == (8, 6), "8-bit RGBA"
    raw, stride, rows, prev = zlib.decompress(b"".join(chunks[b"IDAT"])), width * 4, [], bytearray(width * 4)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 4] if i >= 4 else 0
            b, c = prev[i], prev[i - 4] if i >= 4 else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def test_the_chart_downloads_as_a_png_of_the_same_bars(portal, acme, sales_p001):
    view = "_chart=bar&_chart_x=country"
    resp = requests.get(f"{portal.base}{PNG}?{view}", headers=acme)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "image/png"
    assert 'filename="sales_chart.png"' in resp.headers["content-disposition"]
    width, height, rows = png_pixels(resp.content)
    assert (width, height) == (1440, 808), "twice the SVG's 720×404"
    # The bars are the indigo of the SVG (#4f46e5); count the columns that hold any.
    indigo = lambda px: abs(px[0] - 0x4F) < 12 and abs(px[1] - 0x46) < 12 and abs(px[2] - 0xE5) < 12
    columns = {x for row in rows for x in range(width) if indigo(row[x * 4:x * 4 + 4])}
    runs = sum(1 for x in sorted(columns) if x - 1 not in columns)
    assert runs == sales_p001["country"].nunique(), "one bar per country, as in the SVG"
    dark = sum(1 for row in rows for x in range(0, width, 2) if max(row[x * 4:x * 4 + 3]) < 100)
    assert dark > 400, "the title and the labels are drawn (the server has a font)"
    error_of(requests.get(f"{portal.base}{PNG}?_chart=pie&_chart_x=country", headers=acme), 400)
