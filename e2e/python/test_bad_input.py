"""Bad input on every route gets a clear 4xx and changes nothing.

One table of cases over the protocol, signed files, the rows/export/jobs APIs, pages, forms,
the admin API and the CLI. Each case names what it sends and what must come back:

- ``json``: a 4xx whose body is ``{"errorCode": str, "message": str, ...}``;
- ``html``: a 4xx readable page (text/html, words a person can read, no JSON);
- ``form``: a browser form's answer, either a 4xx readable page or a redirect back to a page
  of the portal carrying the error (the pages' post/redirect/get), which then shows a readable page;
- ``bare``: refused by the HTTP layer before the portal sees it (a 4xx with no body to shape);
- ``cli``: a non-zero exit, exactly one line on stderr, nothing on stdout.

And for every case: never a 5xx, a hang (30 s timeout) or a dropped connection; no stack trace,
data directory or credential in the answer; the server still answers afterwards; and what an
admin and a partner can see (catalog, tokens, grants, export jobs) is exactly as before.

The cases run against a portal of their own (seeded with `portal demo`), so a case that crashes
it cannot break other test files: the crash fails that case, and the portal is started again
for the next one.
"""
import json
import os
import re
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from admin import AdminApi, admin_session, bearer, catalog_state, create_api_token, partner_session
from conftest import Portal, free_port

TIMEOUT = 30
MiB = 1024 * 1024

DS = "/delta-sharing"
SALES = DS + "/shares/wholesale/schemas/commerce/tables/sales"
STOCK = DS + "/shares/wholesale/schemas/commerce/tables/stock"
QUERY = SALES + "/query"
API = "/api/v1/shares/wholesale/schemas/commerce/tables/sales"
ROWS = API + "/rows"
JOBS = "/api/v1/exports"
ADMIN = "/api/v1/admin"
PAGE = "/shares/wholesale/commerce/sales"

BEFORE = "2000-01-01T00:00:00Z"  # before the demo tables' first commit
AFTER = "2999-01-01T00:00:00Z"  # after their last

# --- Cases ---------------------------------------------------------------------------------------

MISSING = object()


@dataclass(frozen=True)
class Case:
    id: str
    method: str  # an HTTP method, RAW (bytes on a socket) or CLI
    path: object = ""  # str (may hold {file}, {table_id}) or a callable building it
    status: object = 400  # int or a tuple of acceptable statuses
    shape: str = "json"
    code: object = None  # the errorCode a json answer must carry
    auth: str = "partner"  # partner | admin | none | bad | partner_session | admin_session | browser
    json: object = MISSING  # sent as a JSON body
    data: object = None  # sent as is (str, bytes, a generator); a callable builds it
    headers: tuple = ()
    args: tuple = ()  # CLI arguments
    raw: bytes = b""  # RAW: the whole request


def api(id, method, path, status=400, code=None, **kw):
    return Case(id, method, path, status, "json", code, **kw)


def page(id, path, status=404, auth="partner_session", method="GET", **kw):
    return Case(id, method, path, status, "html", None, auth, **kw)


def form(id, path, data, auth="browser", csrf=None, status=303, **kw):
    """A browser form; `csrf` = "partner" / "admin" adds that session's real form token."""
    return Case(id, "POST", path, status, "form", None, auth, data=(csrf, data), **kw)


def cli(id, *args):
    return Case(id, "CLI", shape="cli", status=None, auth="cli", args=args)


def raw(id, request, status=400, shape="bare"):
    return Case(id, "RAW", shape=shape, status=status, auth="raw", raw=request)


def query(id, body, status=400, code=None, **kw):
    if isinstance(body, (dict, list)):
        return api(id, "POST", QUERY, status, code, json=body, **kw)
    return api(id, "POST", QUERY, status, code, data=body, headers=(("Content-Type", "application/json"),), **kw)


def rows(id, params, status=400, code="INVALID_PARAMETER_VALUE", **kw):
    return api(id, "GET", ROWS + "?" + params if isinstance(params, str) else lambda: ROWS + "?" + params(), status, code, **kw)


def nested_hint(levels):
    """A jsonPredicateHints text nested `levels` deep (built flat: no recursion here)."""
    leaf = '{"op":"column","name":"units","valueType":"long"}'
    return '{"op":"and","children":[' * levels + leaf + "]}" * levels


def filters(n, each="sku="):
    return "&".join([each] * n)


INVALID = "INVALID_PARAMETER_VALUE"
MALFORMED = "MALFORMED_REQUEST"
MISSING_RES = "RESOURCE_DOES_NOT_EXIST"
TOO_LARGE = "REQUEST_TOO_LARGE"
JSON_CT = (("Content-Type", "application/json"),)
ASYNC = (("delta-sharing-capabilities", "asyncquery=true"),)

PROTOCOL = [
    # Paging of the list endpoints.
    api("shares-maxResults-negative", "GET", DS + "/shares?maxResults=-1", code=INVALID),
    api("shares-maxResults-over-500", "GET", DS + "/shares?maxResults=501", code=INVALID),
    api("shares-maxResults-huge", "GET", DS + "/shares?maxResults=99999999999999999999", code=INVALID),
    api("shares-maxResults-word", "GET", DS + "/shares?maxResults=ten", code=INVALID),
    api("shares-maxResults-fraction", "GET", DS + "/shares?maxResults=1.5", code=INVALID),
    api("shares-maxResults-empty", "GET", DS + "/shares?maxResults=", code=INVALID),
    api("shares-pageToken-garbage", "GET", DS + "/shares?pageToken=garbage!", code=INVALID),
    api("shares-pageToken-long", "GET", DS + "/shares?pageToken=" + "A" * 5000, code=INVALID),
    api("schemas-maxResults-negative", "GET", DS + "/shares/wholesale/schemas?maxResults=-5", code=INVALID),
    api("tables-pageToken-invalid-utf8", "GET", DS + "/shares/wholesale/schemas/commerce/tables?pageToken=%FF%FE", code=INVALID),
    api("all-tables-maxResults-word", "GET", DS + "/shares/wholesale/all-tables?maxResults=abc", code=INVALID),
    # Names.
    api("share-unknown", "GET", DS + "/shares/no_such_share", 404, MISSING_RES),
    api("share-dotdot", "GET", DS + "/shares/..%2F..%2Fetc", 404, MISSING_RES),
    api("share-nul", "GET", DS + "/shares/a%00b", 400, INVALID),
    api("share-invalid-utf8", "GET", DS + "/shares/%FF%FE", (400, 404)),
    api("table-invalid-utf8-metadata", "GET", DS + "/shares/%FF/schemas/x/tables/y/metadata", (400, 404)),
    api("table-unknown-query", "POST", DS + "/shares/wholesale/schemas/commerce/tables/nope/query", 404, MISSING_RES, json={}),
    api("endpoint-unknown", "GET", DS + "/no/such/endpoint", 404),
    api("shares-wrong-method", "DELETE", DS + "/shares", 405, "UNSUPPORTED_OPERATION"),
    api("query-wrong-method", "GET", QUERY, 405, "UNSUPPORTED_OPERATION"),
    # Metadata and version.
    api("metadata-version-negative", "GET", SALES + "/metadata?version=-1", code=INVALID),
    api("metadata-version-word", "GET", SALES + "/metadata?version=abc", code=INVALID),
    api("metadata-version-after-last", "GET", SALES + "/metadata?version=999", code=INVALID),
    api("metadata-version-and-timestamp", "GET", SALES + f"/metadata?version=1&timestamp={BEFORE}", code=INVALID),
    api("metadata-timestamp-before-first", "GET", SALES + f"/metadata?timestamp={BEFORE}", code=INVALID),
    api("metadata-timestamp-after-last", "GET", SALES + f"/metadata?timestamp={AFTER}", code=INVALID),
    api("metadata-unknown-responseformat", "GET", SALES + "/metadata", code=INVALID, headers=(("delta-sharing-capabilities", "responseformat=avro"),)),
    api("version-startingTimestamp-garbage", "GET", SALES + "/version?startingTimestamp=garbage", code=INVALID),
    api("version-startingTimestamp-after-last", "GET", SALES + f"/version?startingTimestamp={AFTER}", code=INVALID),
    # The query body.
    query("query-malformed-json", "{not json", code=MALFORMED),
    query("query-body-array", "[]", code=MALFORMED),
    query("query-body-null", "null", code=MALFORMED),
    query("query-body-string", '"query"', code=MALFORMED),
    query("query-body-number", "42", code=MALFORMED),
    query("query-body-not-utf8", b"\xff\xfe{}", code=MALFORMED),
    query("query-timestamp-invalid-utf8", b'{"timestamp": "\xff\xfe"}', code=MALFORMED),
    query("query-limitHint-negative", {"limitHint": -1}, code=INVALID),
    query("query-limitHint-huge", '{"limitHint": 99999999999999999999999}', code=MALFORMED),
    query("query-limitHint-string", {"limitHint": "1"}, code=MALFORMED),
    query("query-maxFiles-zero", {"maxFiles": 0}, code=INVALID),
    query("query-maxFiles-negative", {"maxFiles": -5}, code=INVALID),
    query("query-version-negative", {"version": -1}, code=INVALID),
    query("query-version-string", {"version": "1"}, code=MALFORMED),
    query("query-version-over-i64", '{"version": 9223372036854775808}', code=MALFORMED),
    query("query-version-after-last", {"version": 999}, code=INVALID),
    query("query-version-and-timestamp", {"version": 0, "timestamp": BEFORE}, code=INVALID),
    query("query-version-and-startingVersion", {"version": 0, "startingVersion": 0}, code=INVALID),
    query("query-startingVersion-after-endingVersion", {"startingVersion": 2, "endingVersion": 1}, code=INVALID),
    query("query-startingVersion-after-last", {"startingVersion": 99}, code=INVALID),
    query("query-startingVersion-negative", {"startingVersion": -1}, code=INVALID),
    query("query-timestamp-before-first", {"timestamp": BEFORE}, code=INVALID),
    query("query-timestamp-after-last", {"timestamp": AFTER}, code=INVALID),
    query("query-timestamp-garbage", {"timestamp": "yesterday"}, code=INVALID),
    query("query-timestamp-impossible-date", {"timestamp": "2022-13-45T99:00:00Z"}, code=INVALID),
    api("query-history-not-shared", "POST", STOCK + "/query", code=INVALID, json={"version": 0}),
    query("query-predicateHints-not-a-list", {"predicateHints": "x"}, code=MALFORMED),
    query("query-predicateHints-numbers", {"predicateHints": [1, 2]}, code=MALFORMED),
    query("query-jsonPredicateHints-deep-json-value", '{"jsonPredicateHints": ' + "[" * 5000 + "]" * 5000 + "}", code=MALFORMED),
    query("query-unknown-responseformat", {}, code=INVALID, headers=(("delta-sharing-capabilities", "responseformat=avro"),)),
    query("query-unknown-fileidhash", {}, code=INVALID, headers=(("fileidhash", "sha1"),)),
    query("query-pageToken-garbage", {"maxFiles": 1, "pageToken": "garbage"}, code=INVALID),
    query("query-pageToken-forged", {"maxFiles": 1, "pageToken": "eyJ0YWJsZSI6IngiLCJ2ZXJzaW9uIjowLCJvZmZzZXQiOjB9"}, code=INVALID),
    # Async queries: what can be checked is checked at submission, before anything is queued.
    query("async-no-idempotency-key", {}, code=INVALID, headers=ASYNC),
    query("async-idempotency-key-blank", {"idempotencyKey": "  "}, code=INVALID, headers=ASYNC),
    query("async-idempotency-key-over-256", {"idempotencyKey": "k" * 257}, code=INVALID, headers=ASYNC),
    query("async-idempotency-key-number", {"idempotencyKey": 7}, code=MALFORMED, headers=ASYNC),
    query("async-version-negative", {"idempotencyKey": "bad-v", "version": -1}, code=INVALID, headers=ASYNC),
    query("async-timestamp-garbage", {"idempotencyKey": "bad-ts", "timestamp": "yesterday"}, code=INVALID, headers=ASYNC),
    api("async-poll-unknown-query", "POST", SALES + "/queries/no-such-query", 404, MISSING_RES, json={}),
    api("async-poll-unknown-table", "POST", DS + "/shares/wholesale/schemas/commerce/tables/nope/queries/q", 404, MISSING_RES, json={}),
    api("async-poll-malformed-json", "POST", SALES + "/queries/q", 400, MALFORMED, data="{not json", headers=JSON_CT),
    api("async-poll-wrong-method", "GET", SALES + "/queries/q", 405, "UNSUPPORTED_OPERATION"),
    # Size limits (1 MiB bodies, 8 KiB addresses).
    query("query-body-over-1MiB", lambda: json.dumps({"predicateHints": ["a" * (3 * MiB // 2)]}), 413, TOO_LARGE),
    query("query-hint-nested-100000-levels", lambda: json.dumps({"jsonPredicateHints": nested_hint(100_000)}), 413, TOO_LARGE),
    api("query-chunked-body-over-1MiB", "POST", QUERY, 413, TOO_LARGE, headers=JSON_CT,
        data=lambda: (part for part in [b'{"predicateHints": ["', b"a" * (2 * MiB), b'"]}'])),
    api("share-name-over-8KiB", "GET", DS + "/shares/" + "a" * 10_000, 414, TOO_LARGE),
    api("pageToken-over-8KiB", "GET", DS + "/shares?pageToken=" + "A" * 20_000, 414, TOO_LARGE),
    # The change data feed.
    api("changes-no-start", "GET", SALES + "/changes", code=INVALID),
    api("changes-start-after-end", "GET", SALES + "/changes?startingVersion=2&endingVersion=1", code=INVALID),
    api("changes-version-and-timestamp", "GET", SALES + f"/changes?startingVersion=0&startingTimestamp={BEFORE}", code=INVALID),
    api("changes-startingVersion-negative", "GET", SALES + "/changes?startingVersion=-1", code=INVALID),
    api("changes-startingVersion-word", "GET", SALES + "/changes?startingVersion=x"),
    api("changes-startingVersion-after-last", "GET", SALES + "/changes?startingVersion=99", code=INVALID),
    api("changes-startingTimestamp-after-last", "GET", SALES + f"/changes?startingTimestamp={AFTER}", code=INVALID),
    api("changes-endingTimestamp-before-first", "GET", SALES + f"/changes?startingVersion=0&endingTimestamp={BEFORE}", code=INVALID),
    api("changes-endingVersion-word", "GET", SALES + "/changes?startingVersion=1&endingVersion=abc", code=INVALID),
    api("changes-history-not-shared", "GET", STOCK + "/changes?startingVersion=0", code=INVALID),
    # Credentials.
    api("protocol-no-token", "GET", DS + "/shares", 401, "UNAUTHENTICATED", auth="none"),
    api("protocol-unknown-token", "GET", DS + "/shares", 401, "UNAUTHENTICATED", auth="bad"),
    api("protocol-basic-auth", "GET", DS + "/shares", 401, "UNAUTHENTICATED", auth="none", headers=(("Authorization", "Basic Zm9vOmJhcg=="),)),
]

FILES = [
    api("file-tampered-signature", "GET", "{file_path}?{file_query_bad_sig}", 403, "PERMISSION_DENIED", auth="none"),
    api("file-no-signature", "GET", "{file_path}", 403, "PERMISSION_DENIED", auth="none"),
    api("file-expired", "GET", "{file_path}?{file_query_expired}", 403, "PERMISSION_DENIED", auth="none"),
    api("file-exp-not-a-number", "GET", "{file_path}?{file_query_exp_word}", 403, "PERMISSION_DENIED", auth="none"),
    api("file-write-permission", "GET", "{file_path}?{file_query_write}", 403, "PERMISSION_DENIED", auth="none"),
    api("file-dotdot-encoded", "GET", "/files/{table_id}/..%2F..%2F..%2Fcatalog.db?{file_query}", 403, "PERMISSION_DENIED", auth="none"),
    api("file-nul", "GET", "/files/{table_id}/a%00b.parquet?{file_query}", 400, INVALID, auth="none"),
    api("file-path-invalid-utf8", "GET", "/files/{table_id}/%FF%FE.parquet?{file_query}", (400, 403), auth="none"),
    api("file-table-id-invalid-utf8", "GET", "/files/%FF/x.parquet?{file_query}", (400, 403, 404), auth="none"),
    api("file-unknown-table", "GET", "/files/00000000-0000-0000-0000-000000000000/x.parquet?{file_query}", (403, 404), auth="none"),
    api("file-wrong-method", "POST", "{file_path}?{file_query}", 405, auth="none"),
    api("file-path-over-8KiB", "GET", "/files/{table_id}/" + "a" * 10_000 + "?{file_query}", 414, TOO_LARGE, auth="none"),
    raw("file-dotdot-raw", b"GET /files/{table_id}/../../../catalog.db?{file_query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", (400, 403, 404), "json"),
]

PARTNER_API = [
    rows("rows-long-column-not-a-number", "units__gt=ten"),
    rows("rows-unknown-column", "nope=1"),
    rows("rows-unknown-operator", "country__bogusop=1"),
    rows("rows-empty-column", "=1"),
    rows("rows-column-invalid-utf8", "%FF=1"),
    rows("rows-number-overflow", "units__gt=1e999"),
    rows("rows-impossible-date", "order_date__gt=9999-99-99"),
    rows("rows-timestamp-out-of-range", "updated_at__gt=%2B262142-12-31T23:59:59Z"),
    rows("rows-double-nan", "revenue__lt=NaN"),
    rows("rows-in-broken-json", "country__in=[oops"),
    rows("rows-in-nested-1200-levels", "country__in=" + "[" * 1200 + "]" * 1200),
    rows("rows-100-filters", lambda: filters(100, "sku=c")),
    rows("rows-1500-filters-under-8KiB", lambda: filters(1500)),
    rows("rows-2000-filters", lambda: filters(2000, "country__not=c"), (400, 414), None),
    rows("rows-filter-value-6000-chars", "country=" + "x" * 6000, (400, 414), None),
    rows("rows-size-zero", "_size=0"),
    rows("rows-size-negative", "_size=-1"),
    rows("rows-size-over-1000", "_size=1001"),
    rows("rows-size-word", "_size=abc"),
    rows("rows-size-huge", "_size=99999999999999999999"),
    rows("rows-next-forged", "_next=forged.token"),
    rows("rows-next-invalid-utf8", "_next=%FF%FE"),
    rows("rows-next-long", "_next=" + "A" * 6000),
    rows("rows-sort-unknown-column", "_sort=nope"),
    rows("rows-sort-and-sort-desc", "_sort=units&_sort_desc=units"),
    rows("rows-col-unknown", "_col=nope"),
    rows("rows-facet-unknown", "_facet=nope"),
    rows("rows-version-negative", "_version=-1"),
    rows("rows-version-word", "_version=abc"),
    rows("rows-version-and-timestamp", f"_version=1&_timestamp={BEFORE}"),
    rows("rows-timestamp-before-first", f"_timestamp={BEFORE}"),
    rows("rows-timestamp-after-last", f"_timestamp={AFTER}"),
    rows("rows-timestamp-garbage", "_timestamp=yesterday"),
    api("rows-unknown-table", "GET", "/api/v1/shares/wholesale/schemas/commerce/tables/nope/rows", 404, MISSING_RES),
    api("rows-share-invalid-utf8", "GET", "/api/v1/shares/%FF/schemas/x/tables/y/rows", (400, 404)),
    api("rows-wrong-method", "PUT", ROWS, 405),
    api("rows-no-token", "GET", ROWS, 401, "UNAUTHENTICATED", auth="none"),
    api("rows-unknown-token", "GET", ROWS, 401, "UNAUTHENTICATED", auth="bad"),
    rows("rows-url-over-8KiB", "country=" + "x" * 20_000, 414, TOO_LARGE),
    api("api-unknown-endpoint", "GET", "/api/v1/nope", 404, MISSING_RES),
    # Direct downloads.
    api("export-csv-unknown-dialect", "GET", API + "/export.csv?_dialect=tsv", code=INVALID),
    api("export-csv-dialect-invalid-utf8", "GET", API + "/export.csv?_dialect=%FF", code=INVALID),
    api("export-csv-bad-filter", "GET", API + "/export.csv?units__gt=ten", code=INVALID),
    api("export-csv-version-after-last", "GET", API + "/export.csv?_version=99", code=INVALID),
    api("export-csv-history-not-shared", "GET", "/api/v1/shares/wholesale/schemas/commerce/tables/stock/export.csv?_version=0", code=INVALID),
    api("export-csv-1500-filters", "GET", lambda: API + "/export.csv?" + filters(1500), code=INVALID),
    api("export-xlsx-unknown-column", "GET", API + "/export.xlsx?nope=1", code=INVALID),
    api("export-xlsx-sort-unknown", "GET", API + "/export.xlsx?_sort=nope", code=INVALID),
    # Export jobs.
    api("job-unknown-format", "POST", API + "/exports?_format=parquet", code=INVALID),
    api("job-no-format", "POST", API + "/exports", code=INVALID),
    api("job-unknown-dialect", "POST", API + "/exports?_format=csv&_dialect=tsv", code=INVALID),
    api("job-bad-filter", "POST", API + "/exports?_format=xlsx&units__gt=ten", code=INVALID),
    api("job-malformed-json-body", "POST", API + "/exports", code=INVALID, data="{not json", headers=JSON_CT),
    api("job-body-over-1MiB", "POST", API + "/exports?_format=csv", 413, TOO_LARGE, headers=JSON_CT, data=lambda: json.dumps({"pad": "a" * (3 * MiB // 2)})),
    api("job-unknown-table", "POST", "/api/v1/shares/wholesale/schemas/commerce/tables/nope/exports?_format=csv", 404, MISSING_RES),
    api("job-get-not-an-id", "GET", JOBS + "/not-an-id", 404, MISSING_RES),
    api("job-get-dotdot", "GET", JOBS + "/..%2F..%2Fetc", 404, MISSING_RES),
    api("job-delete-unknown", "DELETE", JOBS + "/not-an-id", 404, MISSING_RES),
    api("job-file-unknown", "GET", JOBS + "/not-an-id/file", 404, MISSING_RES),
    api("job-file-nul", "GET", JOBS + "/a%00b/file", 400, INVALID),
    api("job-get-invalid-utf8", "GET", JOBS + "/%FF%FE", (400, 404)),
    api("job-delete-invalid-utf8", "DELETE", JOBS + "/%FF%FE", (400, 404)),
    api("jobs-wrong-method", "PUT", JOBS, 405),
]

ADMIN_API = [
    api("admin-share-malformed-json", "POST", ADMIN + "/shares", code=MALFORMED, auth="admin", data="{bad", headers=JSON_CT),
    api("admin-share-body-array", "POST", ADMIN + "/shares", code=MALFORMED, auth="admin", json=[]),
    api("admin-share-missing-name", "POST", ADMIN + "/shares", code=MALFORMED, auth="admin", json={}),
    api("admin-share-name-dotdot", "POST", ADMIN + "/shares", code=INVALID, auth="admin", json={"name": "../x"}),
    api("admin-share-name-nul", "POST", ADMIN + "/shares", code=INVALID, auth="admin", json={"name": "a\u0000b"}),
    api("admin-recipient-comment-nul", "POST", ADMIN + "/recipients", code=INVALID, auth="admin", json={"name": "bad_input_never", "comment": "a\u0000b"}),
    api("rows-filter-nul", "GET", ROWS + "?country=a%00b", 400, INVALID),
    api("admin-share-name-10000-chars", "POST", ADMIN + "/shares", code=INVALID, auth="admin", json={"name": "a" * 10_000}),
    api("admin-share-unknown-property", "POST", ADMIN + "/shares", code=MALFORMED, auth="admin", json={"name": "bad_input_never", "bogus": 1}),
    api("admin-share-name-wrong-type", "POST", ADMIN + "/shares", code=MALFORMED, auth="admin", json={"name": 5}),
    api("admin-share-form-encoded", "POST", ADMIN + "/shares", code=MALFORMED, auth="admin", data="name=x", headers=(("Content-Type", "application/x-www-form-urlencoded"),)),
    api("admin-share-invalid-utf8", "POST", ADMIN + "/shares", code=MALFORMED, auth="admin", data=b'{"name": "ok_\xff"}', headers=JSON_CT),
    api("admin-share-deep-nesting", "POST", ADMIN + "/shares", code=MALFORMED, auth="admin", data='{"name": "x", "comment": ' + "[" * 5000 + "]" * 5000 + "}", headers=JSON_CT),
    api("admin-share-body-over-1MiB", "POST", ADMIN + "/shares", 413, TOO_LARGE, auth="admin", json={"name": "../never", "comment": "a" * (3 * MiB // 2)}),
    api("admin-recipient-properties-not-map", "POST", ADMIN + "/recipients", code=MALFORMED, auth="admin", json={"name": "bad_input_r", "properties": "nope"}),
    api("admin-recipient-property-number", "POST", ADMIN + "/recipients", code=MALFORMED, auth="admin", json={"name": "bad_input_r", "properties": {"a": 1}}),
    api("admin-recipient-bad-cidr", "POST", ADMIN + "/recipients", code=INVALID, auth="admin", json={"name": "bad_input_r", "ipAllowList": ["999.0.0.0/8"]}),
    api("admin-recipient-empty-name", "POST", ADMIN + "/recipients", code=INVALID, auth="admin", json={"name": ""}),
    api("admin-team-name-dotdot", "POST", ADMIN + "/teams", code=INVALID, auth="admin", json={"name": "../t"}),
    api("admin-location-unknown-scheme", "POST", ADMIN + "/locations", code=INVALID, auth="admin", json={"name": "bad_input_l", "url": "nope://bucket"}),
    api("admin-location-name-dotdot", "POST", ADMIN + "/locations", code=INVALID, auth="admin", json={"name": "../l", "url": "s3://bucket/x"}),
    api("admin-api-token-empty-name", "POST", ADMIN + "/api-tokens", code=INVALID, auth="admin", json={"name": ""}),
    api("admin-api-token-long-name", "POST", ADMIN + "/api-tokens", code=INVALID, auth="admin", json={"name": "x" * 101}),
    api("admin-audit-limit-word", "GET", ADMIN + "/audit?limit=abc", code=INVALID, auth="admin"),
    api("admin-audit-limit-negative", "GET", ADMIN + "/audit?limit=-5", code=INVALID, auth="admin"),
    api("admin-audit-from-garbage", "GET", ADMIN + "/audit?from=yesterday", code=INVALID, auth="admin"),
    api("admin-share-get-dotdot", "GET", ADMIN + "/shares/..%2F..", 404, MISSING_RES, auth="admin"),
    api("admin-share-get-invalid-utf8", "GET", ADMIN + "/shares/%FF", (400, 404), auth="admin"),
    api("admin-recipient-patch-invalid-utf8", "PATCH", ADMIN + "/recipients/%FF", (400, 404), auth="admin", json={}),
    api("admin-share-delete-unknown", "DELETE", ADMIN + "/shares/no_such_share", 404, MISSING_RES, auth="admin"),
    api("admin-api-token-revoke-unknown", "DELETE", ADMIN + "/api-tokens/not-an-id", 404, MISSING_RES, auth="admin"),
    api("admin-share-patch-wrong-type", "PATCH", ADMIN + "/shares/wholesale", code=MALFORMED, auth="admin", json={"comment": 5}),
    api("admin-share-patch-unknown-property", "PATCH", ADMIN + "/shares/wholesale", code=MALFORMED, auth="admin", json={"nope": "x"}),
    api("admin-recipient-patch-bad-cidr", "PATCH", ADMIN + "/recipients/acme_foods", code=INVALID, auth="admin", json={"ipAllowList": ["not-a-cidr"]}),
    api("admin-rotate-negative-overlap", "POST", ADMIN + "/recipients/acme_foods/rotate", code=MALFORMED, auth="admin", json={"overlapHours": -1}),
    api("admin-rotate-missing-overlap", "POST", ADMIN + "/recipients/acme_foods/rotate", code=MALFORMED, auth="admin", json={}),
    api("admin-link-ttl-word", "POST", ADMIN + "/recipients/acme_foods/activation-links", code=MALFORMED, auth="admin", json={"ttlHours": "x"}),
    api("admin-link-ttl-zero", "POST", ADMIN + "/recipients/acme_foods/activation-links", code=INVALID, auth="admin", json={"ttlHours": 0}),
    api("admin-link-ttl-huge", "POST", ADMIN + "/recipients/acme_foods/activation-links", code=INVALID, auth="admin", json={"ttlHours": 99_999_999}),
    api("admin-grant-unknown-recipient", "PUT", ADMIN + "/shares/wholesale/grants/nobody", 404, MISSING_RES, auth="admin"),
    api("admin-table-missing-location", "POST", ADMIN + "/shares/wholesale/tables", code=INVALID, auth="admin", json={"schema": "s", "name": "t", "location": "/nonexistent/bad-input"}),
    api("admin-table-unknown-scheme", "POST", ADMIN + "/shares/wholesale/tables", code=INVALID, auth="admin", json={"schema": "s", "name": "t", "location": "nope://x"}),
    api("admin-table-schema-dotdot", "POST", ADMIN + "/shares/wholesale/tables", code=INVALID, auth="admin", json={"schema": "s/..", "name": "t", "location": "/nonexistent/bad-input"}),
    api("admin-table-no-location", "POST", ADMIN + "/shares/wholesale/tables", code=MALFORMED, auth="admin", json={"schema": "s", "name": "t"}),
    api("admin-preview-unknown-recipient", "GET", ADMIN + "/shares/wholesale/tables/commerce.sales/preview?as=nobody", 404, MISSING_RES, auth="admin"),
    api("admin-preview-bad-filter", "GET", ADMIN + "/shares/wholesale/tables/commerce.sales/preview?as=acme_foods&units__gt=ten", code=INVALID, auth="admin"),
    api("admin-preview-1500-filters", "GET", lambda: ADMIN + "/shares/wholesale/tables/commerce.sales/preview?as=acme_foods&" + filters(1500), code=INVALID, auth="admin"),
    api("admin-unknown-endpoint", "GET", ADMIN + "/nope", 404, MISSING_RES, auth="admin"),
    api("admin-no-token", "GET", ADMIN + "/recipients", 401, "UNAUTHENTICATED", auth="none"),
    api("admin-unknown-token", "GET", ADMIN + "/recipients", 401, "UNAUTHENTICATED", auth="none", headers=(("Authorization", "Bearer dsa_not_a_real_token"),)),
    api("admin-partner-token", "GET", ADMIN + "/recipients", (401, 403), auth="partner"),
]

PAGES = [
    page("page-unknown", "/no/such/page"),
    page("page-unknown-table", "/shares/nope/x/y"),
    page("page-unknown-table-in-share", "/shares/wholesale/commerce/nope"),
    page("page-share-invalid-utf8", "/shares/%ff%fe/x/y"),
    page("page-share-nul", "/shares/a%00b/x/y", status=400),
    page("page-root-invalid-utf8", "/%ff%fe"),
    page("page-dotdot-encoded", "/..%2f..%2fetc/passwd"),
    page("page-bad-filter", PAGE + "?units__gt=ten", 400),
    page("page-unknown-column", PAGE + "?nope=1", 400),
    page("page-column-invalid-utf8", PAGE + "?%ff%fe=1", 400),
    page("page-size-zero", PAGE + "?_size=0", 400),
    page("page-1500-filters", lambda: PAGE + "?" + filters(1500), 400),
    page("page-url-over-8KiB", PAGE + "?x=" + "a" * 10_000, 414),
    Case("page-url-100KB", "GET", PAGE + "?x=" + "a" * 100_000, 414, "bare", auth="partner_session"),
    page("activate-garbage", "/activate/garbage", auth="browser"),
    page("activate-nul", "/activate/%00", status=400, auth="browser"),
    page("activate-5000-chars", "/activate/" + "a" * 5000, auth="browser"),
    page("admin-login-garbage", "/admin/login/garbage", auth="browser"),
    page("admin-page-unknown-recipient", "/admin/recipients/nope", auth="admin_session"),
    page("admin-page-share-invalid-utf8", "/admin/shares/%ff%fe", auth="admin_session"),
    page("admin-page-audit-bad-from", "/admin/audit?from=yesterday", 400, auth="admin_session"),
]

FORMS = [
    form("login-garbage", "/login", {"csrf": "x", "token": "dss_garbage"}),
    form("login-not-utf8", "/login", b"%zz%ff=\x00", headers=(("Content-Type", "application/x-www-form-urlencoded"),)),
    form("login-json-body", "/login", "{}", headers=JSON_CT),
    form("login-body-over-1MiB", "/login", lambda: {"csrf": "x", "token": "a" * (2 * MiB)}, status=413),
    form("activate-garbage-post", "/activate/garbage", {"csrf": "x"}, status=404),
    form("activate-invalid-utf8-post", "/activate/%ff%fe", {"csrf": "x"}, status=(400, 404)),
    form("admin-login-garbage-post", "/admin/login/garbage", {"csrf": "x"}),
    form("logout-bad-csrf", "/logout", {"csrf": "x"}, auth="partner_session"),
    form("export-form-no-csrf", "/exports", {"share": "wholesale", "schema": "commerce", "table": "sales", "format": "csv"}, auth="partner_session"),
    form("export-form-unknown-format", "/exports", {"share": "wholesale", "schema": "commerce", "table": "sales", "format": "parquet", "view": ""}, auth="partner_session", csrf="partner"),
    form("export-form-bad-view", "/exports", {"share": "wholesale", "schema": "commerce", "table": "sales", "format": "csv", "view": "units__gt=ten"}, auth="partner_session", csrf="partner"),
    form("export-cancel-invalid-utf8", "/exports/%ff/cancel", {}, auth="partner_session", csrf="partner", status=(303, 400, 404)),
    form("connect-revoke-unknown-token", "/connect/tokens/nope/revoke", {}, auth="partner_session", csrf="partner", status=(303, 404)),
    form("connect-rotate-unknown-token", "/connect/tokens/nope/rotate", {"overlap_hours": "1"}, auth="partner_session", csrf="partner", status=(303, 404)),
    form("connect-token-name-5000-chars", "/connect/tokens", {"name": "x" * 5000}, auth="partner_session", csrf="partner"),
    form("admin-form-bad-csrf", "/admin/shares", {"csrf": "bad", "name": "bad_input_never"}, auth="admin_session"),
    form("admin-form-share-name-dotdot", "/admin/shares", {"name": "../x"}, auth="admin_session", csrf="admin"),
    form("admin-form-recipient-bad-cidr", "/admin/recipients", {"name": "bad_input_r", "ip_allow": "999.0.0.0/8"}, auth="admin_session", csrf="admin"),
    form("admin-form-delete-invalid-utf8", "/admin/shares/%ff/delete", {"confirm": "x"}, auth="admin_session", csrf="admin", status=(303, 400, 404)),
]

RAW = [
    raw("raw-invalid-utf8-in-path", b"GET /delta-sharing/shares/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {partner_token}\r\n\r\n"),
    raw("raw-nul-in-path", b"GET /delta-sharing/shares/a\x00b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    raw("raw-invalid-utf8-in-page-path", b"GET /shares/\xff/x/y HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    raw("raw-garbage-request-line", b"GARBAGE\r\n\r\n"),
]

CLI = [
    cli("cli-token-unknown-recipient", "token", "create", "nobody_zz"),
    cli("cli-token-ttl-zero", "token", "create", "acme_foods", "--ttl-days", "0"),
    cli("cli-token-ttl-negative", "token", "create", "acme_foods", "--ttl-days", "-1"),
    cli("cli-token-ttl-word", "token", "create", "acme_foods", "--ttl-days", "abc"),
    cli("cli-token-ttl-huge", "token", "create", "acme_foods", "--ttl-days", "99999999999"),
    cli("cli-token-profile-unwritable", "token", "create", "acme_foods", "--profile", "/nonexistent/dir/p.share"),
    cli("cli-link-unknown-recipient", "activation-link", "nobody_zz"),
    cli("cli-link-ttl-zero", "activation-link", "acme_foods", "--ttl-hours", "0"),
    cli("cli-link-ttl-word", "activation-link", "acme_foods", "--ttl-hours", "abc"),
    cli("cli-link-ttl-too-long", "activation-link", "acme_foods", "--ttl-hours", "100000"),
    cli("cli-login-link-ttl-zero", "admin", "login-link", "--ttl-minutes", "0"),
    cli("cli-login-link-unknown-team", "admin", "login-link", "--team", "nope_team"),
    cli("cli-admin-token-empty-name", "admin", "token", "create", "--name", ""),
    cli("cli-recipient-cidr-bad-octet", "recipient", "create", "bad_cidr_zz", "--ip", "999.0.0.0/8"),
    cli("cli-recipient-cidr-bad-prefix", "recipient", "create", "bad_cidr_zz", "--ip", "10.0.0.0/33"),
    cli("cli-recipient-cidr-garbage", "recipient", "create", "bad_cidr_zz", "--ip", "garbage"),
    cli("cli-recipient-name-dotdot", "recipient", "create", "../evil"),
    cli("cli-recipient-name-control-char", "recipient", "create", "a\x01b"),
    cli("cli-recipient-property-no-key", "recipient", "create", "bad_prop_zz", "--property", "=x"),
    cli("cli-share-empty-name", "share", "create", ""),
    cli("cli-share-name-10000-chars", "share", "create", "a" * 10_000),
    cli("cli-share-name-invalid-utf8", "share", "create", os.fsdecode(b"caf\xe9")),
    cli("cli-table-nonexistent-location", "table", "add", "wholesale.commerce.zz", "--location", "/nonexistent/location"),
    cli("cli-table-unknown-scheme", "table", "add", "wholesale.commerce.zz", "--location", "nope://x"),
    cli("cli-table-bucketless-url", "table", "add", "wholesale.commerce.zz", "--location", "s3://"),
    cli("cli-table-name-slash", "table", "add", "wholesale.commerce.a/b", "--location", "/nonexistent/location"),
    cli("cli-grant-unknown-share", "grant", "nope_share", "acme_foods"),
    cli("cli-revoke-unknown-recipient", "revoke", "wholesale", "nobody_zz"),
    cli("cli-token-revoke-unknown-id", "token", "revoke", "acme_foods", "not-an-id"),
    cli("cli-location-unknown-scheme", "location", "create", "l_zz", "nope://bucket"),
    cli("cli-team-name-space", "team", "create", "a b"),
    cli("cli-audit-limit-word", "audit", "--limit", "abc"),
    cli("cli-keys-overlap-word", "keys", "rotate", "--overlap-hours", "abc"),
    cli("cli-unknown-subcommand", "frobnicate"),
    cli("cli-no-subcommand"),
]

CASES = PROTOCOL + FILES + PARTNER_API + ADMIN_API + PAGES + FORMS + RAW + CLI
assert len({c.id for c in CASES}) == len(CASES), "case ids are unique"


# --- The portal under test ----------------------------------------------------------------------


class Env:
    """A portal of this module's own, the credentials the cases use, and what it looked like."""

    def __init__(self, portal):
        self.portal = portal
        self.deaths = []

    def setup(self):
        p = self.portal
        self.admin_token = create_api_token(p, name="bad_input_suite")
        self.admin = bearer(self.admin_token)
        profile, _ = p.profile("acme_foods", p.data_dir / "acme.share")
        self.partner_token = p.token_of(profile)
        self.partner = bearer(self.partner_token)
        self.partner_web = partner_session(p, "acme_foods")
        self.admin_web = admin_session(p)
        self.partner_csrf = hidden_csrf(self.partner_web.get(p.base + "/", timeout=TIMEOUT).text)
        self.admin_csrf = hidden_csrf(self.admin_web.get(p.base + "/admin", timeout=TIMEOUT).text)
        assert self.partner_csrf and self.admin_csrf
        # A real signed file link, to tamper with.
        answer = requests.post(p.base + QUERY, json={"limitHint": 1}, headers=self.partner, timeout=TIMEOUT)
        assert answer.status_code == 200, answer.text
        url = urlsplit([json.loads(l) for l in answer.text.splitlines()][2]["file"]["url"])
        params = dict(kv.split("=", 1) for kv in url.query.split("&"))
        assert set(params) == {"sp", "exp", "sig"}, url.query
        assert requests.head(p.base + url.path + "?" + url.query, timeout=TIMEOUT).status_code == 200

        def q(**changed):
            return "&".join(f"{k}={v}" for k, v in {**params, **changed}.items())

        self.fill = {
            "{file_path}": url.path,
            "{table_id}": url.path.split("/")[2],
            "{file_query}": url.query,
            "{file_query_bad_sig}": q(sig="A" + params["sig"][1:] if params["sig"][0] != "A" else "B" + params["sig"][1:]),
            "{file_query_expired}": q(exp="1000"),
            "{file_query_exp_word}": q(exp="soon"),
            "{file_query_write}": q(sp="w"),
            "{partner_token}": self.partner_token,
        }
        self.secrets = [self.partner_token, self.admin_token, str(p.data_dir)]

    # What an admin and a partner can see; reads move only counters, which are left out.
    def state(self):
        p = self.portal
        platform = AdminApi(p, self.admin, name="platform")
        state = catalog_state(platform)
        shares = requests.get(p.endpoint + "/shares", headers=self.partner, timeout=TIMEOUT)
        assert shares.status_code == 200, shares.text
        state["partnerShares"] = shares.json()
        jobs = requests.get(p.base + JOBS, headers=self.partner, timeout=TIMEOUT)
        assert jobs.status_code == 200, jobs.text
        state["partnerJobs"] = sorted((j["id"], j["status"]) for j in jobs.json()["items"])
        return state

    def alive(self):
        if self.portal.proc.poll() is not None:
            return False
        try:
            return requests.get(self.portal.base + "/healthz", timeout=10).status_code == 200
        except requests.RequestException:
            return False

    def log_tail(self, lines=5):
        try:
            return "\n".join((self.portal.data_dir / "server.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def revive(self, case_id):
        """Starts the portal again after a case killed it (the kill fails that case)."""
        tail = self.log_tail()
        self.deaths.append(f"{case_id}: {tail}")
        self.portal.stop()
        self.portal.start()
        return tail

    def resolve(self, text):
        for key, value in self.fill.items():
            text = text.replace(key, value)
        return text


def hidden_csrf(html):
    m = re.search(r'name="csrf"[^>]*value="([^"]+)"', html) or re.search(r'value="([^"]+)"[^>]*name="csrf"', html)
    return m.group(1) if m else None


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    data = tmp_path_factory.mktemp("bad-input")
    portal = Portal(data, free_port(), extra_env={"PORTAL_AUTH_FAILURES_PER_MINUTE": "1000"})
    portal.cli("demo")
    portal.start()
    e = Env(portal)
    try:
        e.setup()
        e.before = e.state()
        yield e
    finally:
        portal.stop()


# --- Sending a case -----------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes
    location: str = ""
    followed: object = None  # a form's redirect, followed: (status, content type, text)

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")


def send_http(env, case):
    p = env.portal
    path = case.path() if callable(case.path) else case.path
    url = p.base + env.resolve(path)
    headers = dict(case.headers)
    client = requests.Session()
    if case.auth == "partner":
        headers.setdefault("Authorization", env.partner["Authorization"])
    elif case.auth == "admin":
        headers.setdefault("Authorization", env.admin["Authorization"])
    elif case.auth == "bad":
        headers["Authorization"] = "Bearer dss_not_a_real_token"
    elif case.auth == "partner_session":
        client = env.partner_web
    elif case.auth == "admin_session":
        client = env.admin_web
    elif case.auth == "browser":
        client.headers["Accept"] = "text/html"
    kw = {"headers": headers, "timeout": TIMEOUT, "allow_redirects": False}
    data = case.data
    if case.shape == "form":
        csrf, data = data
        data = data() if callable(data) else data
        if csrf and isinstance(data, dict):
            data = {"csrf": env.partner_csrf if csrf == "partner" else env.admin_csrf, **data}
    elif callable(data):
        data = data()
    if case.json is not MISSING:
        kw["json"] = case.json
    elif data is not None:
        kw["data"] = data
    resp = client.request(case.method, url, **kw)
    answer = Answer(resp.status_code, resp.headers.get("content-type", ""), resp.content, resp.headers.get("location", ""))
    if case.shape == "form" and resp.status_code in (302, 303) and answer.location:
        target = urljoin(url, answer.location)
        assert urlsplit(target).netloc == urlsplit(p.base).netloc, f"the form sends the browser off-site: {answer.location}"
        page = client.get(target, headers={"Accept": "text/html"}, timeout=TIMEOUT, allow_redirects=False)
        answer.followed = (page.status_code, page.headers.get("content-type", ""), page.text)
    return answer


def send_raw(env, case):
    request = env.resolve(case.raw.decode("latin-1")).encode("latin-1")
    with socket.create_connection(("127.0.0.1", env.portal.port), timeout=TIMEOUT) as s:
        s.sendall(request)
        received = b""
        while chunk := s.recv(65536):
            received += chunk
    assert received, "the connection closed without an answer"
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    fields = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
    if "chunked" in fields.get("transfer-encoding", ""):
        decoded, rest = b"", body
        while rest:
            size, _, rest = rest.partition(b"\r\n")
            n = int(size.split(b";")[0] or b"0", 16)
            if n == 0:
                break
            decoded, rest = decoded + rest[:n], rest[n + 2:]
        body = decoded
    return Answer(status, fields.get("content-type", ""), body, fields.get("location", ""))


# --- What every answer must be --------------------------------------------------------------------

LEAKS = ["panicked", "RUST_BACKTRACE", "stack backtrace", "at src/", "thread 'tokio"]


def assert_no_leak(env, text, where):
    for needle in LEAKS + env.secrets:
        assert needle not in text, f"{where} shows {needle!r}: {text[:500]}"
    assert not re.search(r"\b[\w/]+\.rs:\d+", text), f"{where} shows a source location: {text[:500]}"


def readable_words(html):
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", html)
    text = re.sub(r"(?s)<!--.*?-->", " ", text)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.findall(r"[A-Za-z]{2,}", text)


def assert_html(status, content_type, text, what):
    assert content_type.startswith("text/html"), f"{what}: {status} {content_type!r} is not a page: {text[:300]}"
    assert re.search(r"(?i)<(!doctype html|html|body|main)\b", text), f"{what}: no HTML document: {text[:300]}"
    assert len(readable_words(text)) >= 3, f"{what}: the page has no readable text: {text[:300]}"
    assert not text.lstrip().startswith(("{", "[")) and '"errorCode"' not in text, f"{what}: JSON in a page: {text[:300]}"


def assert_json_error(answer, code):
    assert answer.content_type.startswith("application/json"), f"{answer.status} {answer.content_type!r}, not JSON: {answer.text[:300]}"
    try:
        body = json.loads(answer.text)
    except ValueError:
        raise AssertionError(f"{answer.status}: the body is not JSON: {answer.text[:300]}")
    assert isinstance(body, dict), body
    assert isinstance(body.get("errorCode"), str) and body["errorCode"], body
    assert isinstance(body.get("message"), str), body
    if code:
        assert body["errorCode"] == code, f"errorCode {body['errorCode']!r}, expected {code!r}: {body}"


def check_answer(env, case, answer):
    statuses = case.status if isinstance(case.status, tuple) else (case.status,)
    assert answer.status < 500, f"server error {answer.status}: {answer.text[:500]}"
    assert_no_leak(env, answer.text, "the answer")
    if case.shape == "form" and answer.status in (302, 303):
        assert 303 in statuses or 302 in statuses, f"a redirect ({answer.location}), expected {statuses}"
        assert "error" in answer.location, f"the form redirects without saying what was wrong: {answer.location}"
        status, content_type, text = answer.followed
        assert status < 500, f"the page the form sends the browser to fails: {status}"
        assert_no_leak(env, text, "the page after the form")
        assert_html(status, content_type, text, f"the page after the form ({answer.location})")
        return
    assert 400 <= answer.status < 500, f"status {answer.status}, expected {statuses}: {answer.text[:300]}"
    assert answer.status in statuses, f"status {answer.status}, expected {statuses}: {answer.content_type} {answer.text[:300]}"
    if case.shape == "json":
        assert_json_error(answer, case.code)
    elif case.shape in ("html", "form"):
        assert_html(answer.status, answer.content_type, answer.text, "the answer")


def run_cli(env, case):
    done = env.portal.cli(*case.args, check=False)
    assert done.returncode != 0, f"exit 0: {done.stdout[:300]}"
    lines = [l for l in done.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, f"stderr is not one line: {done.stderr[:1000]}"
    assert done.stdout.strip() == "", f"a failed command printed: {done.stdout[:300]}"
    assert_no_leak(env, done.stderr, "stderr")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(env, case):
    if not env.alive():
        env.revive("(before) " + case.id)
    before = env.state()
    started = time.monotonic()
    if case.method == "CLI":
        run_cli(env, case)
    else:
        try:
            answer = send_raw(env, case) if case.method == "RAW" else send_http(env, case)
        except (requests.ConnectionError, ConnectionError, AssertionError) as e:
            if not env.alive():
                tail = env.revive(case.id)
                pytest.fail(f"the server died on this request ({e}); its log ends:\n{tail}")
            raise
        except (requests.Timeout, socket.timeout):
            pytest.fail(f"no answer within {TIMEOUT} s")
        if not env.alive():
            tail = env.revive(case.id)
            pytest.fail(f"answered {answer.status}, then the server died; its log ends:\n{tail}")
        check_answer(env, case, answer)
    assert time.monotonic() - started < TIMEOUT + 5
    assert env.state() == before, "the case changed what an admin or partner sees"


HARMLESS_HINTS = [
    ("json-hint-nested-25000-levels", lambda: {"jsonPredicateHints": nested_hint(25_000)}),
    ("json-hint-and-of-5000", lambda: {"jsonPredicateHints": json.dumps({"op": "and", "children": [json.loads(nested_hint(0))] * 5000})}),
    ("sql-hint-and-chain-20000", lambda: {"predicateHints": [" AND ".join(["partner_id = 'P001'"] * 20_000)]}),
    ("sql-hint-not-chain-100000", lambda: {"predicateHints": ["NOT " * 100_000 + "partner_id = 'P001'"]}),
    ("sql-hint-parentheses-100000", lambda: {"predicateHints": ["(" * 100_000 + "units > 1" + ")" * 100_000]}),
    ("sql-hints-5000", lambda: {"predicateHints": ["partner_id = 'P001'"] * 5000}),
]


@pytest.mark.parametrize("name,body", HARMLESS_HINTS, ids=[h[0] for h in HARMLESS_HINTS])
def test_hints_deep_or_long_within_body_limit_are_harmless(env, name, body):
    """Hints that fit in 1 MiB but nest deep or run long must not crash the server. Hints are
    best-effort: one the server cannot use filters nothing (200, every file); a server may also
    refuse it, then with a JSON 400."""
    text = json.dumps(body())
    assert len(text) < MiB
    everything = requests.post(env.portal.base + QUERY, json={}, headers=env.partner, timeout=TIMEOUT)
    assert everything.status_code == 200, everything.text[:300]
    try:
        resp = requests.post(env.portal.base + QUERY, data=text, headers={**env.partner, "Content-Type": "application/json"}, timeout=TIMEOUT)
    except requests.ConnectionError as e:
        tail = env.revive(name) if not env.alive() else ""
        pytest.fail(f"no answer ({e}); the server log ends:\n{tail}")
    if not env.alive():
        pytest.fail(f"answered {resp.status_code}, then the server died:\n{env.revive(name)}")
    assert resp.status_code in (200, 400), resp.text[:300]
    assert_no_leak(env, resp.text, "the answer")
    if resp.status_code == 200:
        assert len(resp.text.splitlines()) <= len(everything.text.splitlines())
    else:
        assert_json_error(Answer(resp.status_code, resp.headers.get("content-type", ""), resp.content), None)


def test_after_every_case_the_server_serves_and_nothing_changed(env):
    assert env.deaths == [], "the server died during:\n" + "\n".join(env.deaths)
    assert requests.get(env.portal.base + "/healthz", timeout=TIMEOUT).status_code == 200
    assert env.state() == env.before
    listed = requests.get(env.portal.endpoint + "/shares", headers=env.partner, timeout=TIMEOUT)
    assert listed.status_code == 200 and [s["name"] for s in listed.json()["items"]] == ["partner_program", "wholesale"]
