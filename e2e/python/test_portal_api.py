"""The portal's rows API (`/api/v1/.../rows`) against ground truth read straight from the Delta
table with delta-rs: every operator, paging, scope, time travel, errors, sessions and audit."""
import re

import pandas as pd
import pytest
import requests
from deltalake import DeltaTable

API = "/api/v1/shares/{}/schemas/{}/tables/{}/rows"


def rows(portal, headers, params="", table=("wholesale", "commerce", "sales")):
    return requests.get(portal.base + API.format(*table) + ("?" + params if params else ""), headers=headers)


def ok(resp):
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_unfiltered_count_comes_from_stats_and_is_scoped(portal, acme, sales_p001):
    body = ok(rows(portal, acme, "_size=5"))
    assert body["count"] == len(sales_p001) and body["count_exact"] is True
    assert [c["name"] for c in body["columns"]][:3] == ["partner_id", "order_id", "order_date"]
    assert {c["type"] for c in body["columns"]} >= {"string", "long", "double", "date", "timestamp"}
    units = next(c for c in body["columns"] if c["name"] == "units")
    assert units["comment"] == "Units sold; 0 for a cancelled line" and units["nullable"] is False
    assert len(body["rows"]) == 5 and body["next"] and body["filters_description"] == ""
    first = body["rows"][0]
    assert isinstance(first[6], int) and isinstance(first[8], float)  # units, revenue stay numbers
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", first[2]) and first[9].endswith("Z")


# Each operator, with what pandas says it should select.
def _lower(s):
    return s.fillna("").str.lower()


OPERATOR_CASES = [
    ("country__exact=DE", lambda d: d.country == "DE"),
    ("country=DE", lambda d: d.country == "DE"),
    ("country__not=DE", lambda d: d.country.notna() & (d.country != "DE")),
    ("product__contains=OAT", lambda d: d["product"].notna() & _lower(d["product"]).str.contains("oat", regex=False)),
    ("product__notcontains=oat", lambda d: d["product"].notna() & ~_lower(d["product"]).str.contains("oat", regex=False)),
    ("product__startswith=dark", lambda d: _lower(d["product"]).str.startswith("dark")),
    ("product__endswith=%20G", lambda d: _lower(d["product"]).str.endswith(" g")),
    ("units__gt=3", lambda d: d.units > 3),
    ("units__gte=3", lambda d: d.units >= 3),
    ("units__lt=3", lambda d: d.units < 3),
    ("units__lte=3", lambda d: d.units <= 3),
    ("revenue__gt=100.5", lambda d: d.revenue > 100.5),
    ("country__in=DE,SE", lambda d: d.country.isin(["DE", "SE"])),
    ('country__in=["DE","SE"]', lambda d: d.country.isin(["DE", "SE"])),
    ("country__notin=DE,SE", lambda d: d.country.notna() & ~d.country.isin(["DE", "SE"])),
    ("product__isnull=1", lambda d: d["product"].isna()),
    ("product__notnull=1", lambda d: d["product"].notna()),
    ("product__isblank=1", lambda d: d["product"].isna() | (d["product"] == "")),
    ("product__notblank=1", lambda d: d["product"].notna() & (d["product"] != "")),
    ("order_date__gte=2026-12-01", lambda d: pd.to_datetime(d.order_date) >= "2026-12-01"),
]


@pytest.mark.parametrize("params,expected", OPERATOR_CASES, ids=[c[0] for c in OPERATOR_CASES])
def test_every_operator_matches_ground_truth(portal, acme, sales_p001, params, expected):
    body = ok(rows(portal, acme, params + "&_count=all&_size=1"))
    assert body["count"] == int(expected(sales_p001).sum()), params
    assert body["count_exact"] is True


def test_date_operator_on_dates_and_timestamps(portal, acme, sales_p001):
    day = str(sales_p001.order_date.iloc[0])[:10]
    body = ok(rows(portal, acme, f"order_date__date={day}&_count=all&_size=1"))
    assert body["count"] == int((pd.to_datetime(sales_p001.order_date) == day).sum())
    stamped = pd.to_datetime(sales_p001.updated_at, utc=True).dt.strftime("%Y-%m-%d")
    body = ok(rows(portal, acme, f"updated_at__date={day}&_count=all&_size=1"))
    assert body["count"] == int((stamped == day).sum())


def test_sorted_pages_cover_the_view_exactly_once(portal, acme, sales_p001):
    want = sales_p001[sales_p001.country == "DE"]
    body = ok(rows(portal, acme, "country=DE&_sort_desc=revenue&_size=700"))
    seen = []
    pages = 0
    while True:
        seen += body["rows"]
        pages += 1
        if not body["next_url"]:
            break
        body = ok(requests.get(body["next_url"], headers=acme))
    assert pages > 1
    ids = [r[1] for r in seen]
    assert len(ids) == len(set(ids)) == len(want)
    assert set(ids) == set(want.order_id)
    revenues = [r[8] for r in seen]
    assert revenues == sorted(revenues, reverse=True)


def test_facets_count_the_filtered_view(portal, acme, sales_p001):
    body = ok(rows(portal, acme, "units__gt=3&_facet=country&_size=1"))
    [facet] = body["facets"]
    want = sales_p001[sales_p001.units > 3].country.value_counts(dropna=False)
    got = {v["value"]: v["count"] for v in facet["values"]}
    assert got == {(None if pd.isna(k) else k): int(n) for k, n in want.items()}
    counts = [v["count"] for v in facet["values"]]
    assert counts == sorted(counts, reverse=True)


def test_columns_chosen_and_hidden(portal, acme):
    body = ok(rows(portal, acme, "_col=units&_col=order_id&_size=2"))
    assert [c["name"] for c in body["columns"]] == ["units", "order_id"]
    body = ok(rows(portal, acme, "_nocol=sku&_nocol=product&_size=2"))
    names = [c["name"] for c in body["columns"]]
    assert "sku" not in names and "product" not in names and len(body["rows"][0]) == len(names)


def test_count_is_capped_unless_asked(portal, acme, sales_p001):
    body = ok(rows(portal, acme, "units__gte=1&_size=1"))
    assert len(sales_p001) > 10_000
    assert body["count"] == 10_000 and body["count_exact"] is False
    body = ok(rows(portal, acme, "units__gte=1&_size=1&_count=all"))
    assert body["count"] == len(sales_p001) and body["count_exact"] is True


def test_a_sorted_view_counts_exactly_past_the_cap(portal, acme, sales_p001):
    # Sorting reads every row the filters keep: the count comes from that scan, exact, without
    # "Count all" (the same view unsorted stops at the cap, above).
    expected = int((sales_p001["units"] >= 1).sum())
    assert expected > 10_000
    body = ok(rows(portal, acme, "units__gte=1&_sort_desc=revenue&_size=3"))
    assert body["count"] == expected and body["count_exact"] is True
    revenue = [r[[c["name"] for c in body["columns"]].index("revenue")] for r in body["rows"]]
    assert revenue == pytest.approx(sorted(sales_p001[sales_p001["units"] >= 1]["revenue"], reverse=True)[:3])


def test_scope_and_grants(portal, acme, nordic):
    body = ok(rows(portal, nordic, "_size=1000&_col=partner_id"))
    assert {r[0] for r in body["rows"]} == {"P002"}
    # Asking for another partner's rows finds none, rather than finding them.
    assert ok(rows(portal, nordic, "partner_id=P001&_size=1"))["count"] == 0
    hidden = rows(portal, acme, table=("connected_retail", "retail", "sales_feed"))
    missing = rows(portal, acme, table=("connected_retail", "retail", "no_such_table"))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["errorCode"] == missing.json()["errorCode"] == "RESOURCE_DOES_NOT_EXIST"
    assert ok(rows(portal, nordic, "_size=1", table=("connected_retail", "retail", "sales_feed")))["count"] > 0


def test_time_travel_only_with_history(portal, acme, demo_dir):
    v1 = DeltaTable(str(demo_dir / "sales"), version=1).to_pandas()
    body = ok(rows(portal, acme, "_version=1&_size=1"))
    assert body["version"] == 1 and body["count"] == int((v1.partner_id == "P001").sum())
    stock = rows(portal, acme, "_version=0", table=("wholesale", "commerce", "stock"))
    assert stock.status_code == 400 and "history sharing is not enabled" in stock.json()["message"]
    future = rows(portal, acme, "_version=99")
    assert future.status_code == 400 and "99" in future.json()["message"]


BAD_REQUESTS = [
    ("units__gt=ten", "units", "whole number"),
    ("order_date__lt=31.12.2026", "order_date", "date like"),
    ("updated_at__date=noon", "updated_at", "date like"),
    ("units__contains=3", "units", "does not apply"),
    ("nope=1", "nope", "no column"),
    ("_sort=nope", "nope", "no column"),
    ("_facet=nope", "nope", "no column"),
    ("country__in=[oops", "country", "JSON array"),
    ("_size=5000", None, "_size"),
    ("_version=abc", None, "_version"),
    ("_next=forged.token", None, "_next"),
    ("updated_at__date=%2B262142-12-31", "updated_at", "out of range"),
]


@pytest.mark.parametrize("params,column,words", BAD_REQUESTS, ids=[c[0] for c in BAD_REQUESTS])
def test_bad_views_are_clear_400s(portal, acme, params, column, words):
    resp = rows(portal, acme, params)
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["errorCode"] == "INVALID_PARAMETER_VALUE" and words in body["message"]
    assert body.get("column") == column


def test_page_tokens_belong_to_their_view_table_and_recipient(portal, acme, nordic):
    token = ok(rows(portal, acme, "_size=10"))["next"]
    assert ok(rows(portal, acme, f"_size=10&_next={token}"))["rows"]
    assert rows(portal, acme, f"country=SE&_size=10&_next={token}").status_code == 400
    # A token pins a version; on another table (stock is shared without history) or for another
    # recipient it would read what they may not, so it is refused.
    assert rows(portal, acme, f"_size=10&_next={token}", table=("wholesale", "commerce", "stock")).status_code == 400
    assert rows(portal, nordic, f"_size=10&_next={token}").status_code == 400


def test_repeats_and_unknown_special_arguments_are_harmless(portal, acme):
    body = ok(rows(portal, acme, "_col=units&_col=units&_nocol=sku&_nocol=sku&_search=x&_shape=array&_size=1"))
    assert [c["name"] for c in body["columns"]] == ["units"]


def test_anonymous_and_bad_tokens_get_401(portal):
    assert rows(portal, {}).status_code == 401
    assert rows(portal, {"Authorization": "Bearer dss_nope"}).status_code == 401


def test_browser_session_signs_in_reads_and_signs_out(portal, acme_profile):
    web = requests.Session()
    login = web.get(portal.base + "/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', login.text).group(1)
    token = portal.token_of(acme_profile)
    # A sign-in form without the page's token is refused and signs nobody in.
    forged = requests.post(portal.base + "/login", data={"token": token}, allow_redirects=False)
    assert forged.status_code == 303 and "error=form" in forged.headers["location"]
    assert "portal_session" not in forged.headers.get("set-cookie", "")
    signed = web.post(portal.base + "/login", files={"csrf": (None, csrf), "token": (None, token), "next": (None, "https://evil.example/")}, allow_redirects=False)
    assert signed.status_code == 303 and signed.headers["location"] == "/"
    cookie = signed.headers["set-cookie"]
    assert "portal_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert token not in signed.headers["location"]
    assert ok(web.get(portal.base + API.format("wholesale", "commerce", "sales") + "?_size=1"))["rows"]
    page = web.get(portal.base + "/shares/wholesale/commerce/sales?country=DE", headers={"Accept": "text/html"})
    assert page.status_code == 200 and re.search(r'where country = (&quot;|")DE(&quot;|")', page.text)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    out = web.post(portal.base + "/logout", data={"csrf": csrf}, allow_redirects=False)
    assert out.status_code == 303 and "Max-Age=0" in out.headers["set-cookie"]
    assert web.get(portal.base + API.format("wholesale", "commerce", "sales")).status_code == 401
    anonymous = requests.get(portal.base + "/shares/wholesale/commerce/sales", headers={"Accept": "text/html"}, allow_redirects=False)
    assert anonymous.status_code == 302 and anonymous.headers["location"].startswith("/login?next=")


def test_portal_reads_are_audited(portal, acme):
    ok(rows(portal, acme, "country=SE&_size=3"))
    events = [e for e in portal.audit(50) if e["action"] == "api.rows"]
    assert events and events[0]["actor"] == "recipient:acme_foods"
    assert events[0]["object"] == "wholesale.commerce.sales" and events[0]["status"] == 200
