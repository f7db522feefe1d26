"""The wire contract of the Delta Sharing endpoints, checked with plain HTTP (§8 of the notes)."""
import json

import pytest
import requests


@pytest.fixture(scope="module")
def wide(portal, tmp_path_factory):
    """A recipient with an unscoped, history-shared copy of sales across two shares, for paging and hints."""
    portal.cli("share", "create", "Zeta_Share", "--comment", "paging test")
    portal.cli("share", "create", "alpha_share")
    sales = str(portal.data_dir / "demo" / "sales")
    for name in ["t1", "t2", "t3"]:
        portal.cli("table", "add", f"alpha_share.s.{name}", "--location", sales, "--history")
    portal.cli("table", "add", "Zeta_Share.Other.t9", "--location", sales)
    portal.cli("recipient", "create", "wide_reader")
    portal.cli("grant", "alpha_share", "wide_reader")
    portal.cli("grant", "Zeta_Share", "wide_reader")
    profile, _ = portal.profile("wide_reader", tmp_path_factory.mktemp("wide") / "w.share")
    token = portal.token_of(profile)
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token}"
    s.headers["User-Agent"] = "protocol-tests/1.0"
    return s


def url(portal, path):
    return portal.endpoint + path


def query(wide, portal, body, table="alpha_share/schemas/s/tables/t1", headers=None):
    return wide.post(url(portal, f"/shares/{table}/query"), data=json.dumps(body) if not isinstance(body, str) else body, headers=headers or {})


def ndjson(resp):
    assert resp.text.endswith("\n")
    return [json.loads(line) for line in resp.text.split("\n")[:-1]]


def assert_error(resp, status, code=None):
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"errorCode", "message"}
    if code:
        assert body["errorCode"] == code


def test_list_shares_pages_and_omits_last_token(wide, portal):
    first = wide.get(url(portal, "/shares"), params={"maxResults": 1})
    assert first.headers["content-type"] == "application/json; charset=utf-8"
    assert "\n" not in first.text.strip()
    body = first.json()
    assert [i["name"] for i in body["items"]] == ["alpha_share"]
    second = wide.get(url(portal, "/shares"), params={"maxResults": 1, "pageToken": body["nextPageToken"]}).json()
    assert [i["name"] for i in second["items"]] == ["Zeta_Share"]
    assert "nextPageToken" not in second
    everything = wide.get(url(portal, "/shares")).json()
    assert [i["name"] for i in everything["items"]] == ["alpha_share", "Zeta_Share"] and "nextPageToken" not in everything


def test_tables_page_across_schemas(wide, portal):
    got, token = [], None
    while True:
        params = {"maxResults": 2, **({"pageToken": token} if token else {})}
        body = wide.get(url(portal, "/shares/alpha_share/all-tables"), params=params).json()
        got += [(t["schema"], t["name"], t["share"]) for t in body["items"]]
        token = body.get("nextPageToken")
        if not token:
            break
    assert got == [("s", "t1", "alpha_share"), ("s", "t2", "alpha_share"), ("s", "t3", "alpha_share")]
    one = wide.get(url(portal, "/shares/alpha_share/schemas/s/tables"), params={"maxResults": 1}).json()
    assert [t["name"] for t in one["items"]] == ["t1"] and one["nextPageToken"]
    assert wide.get(url(portal, "/shares/zeta_share/schemas")).json() == {"items": [{"name": "Other", "share": "Zeta_Share"}]}


@pytest.mark.parametrize("params", [{"maxResults": "-1"}, {"maxResults": "501"}, {"maxResults": "ten"}, {"pageToken": "garbage!"}])
def test_bad_paging_is_400(wide, portal, params):
    assert_error(wide.get(url(portal, "/shares"), params=params), 400, "INVALID_PARAMETER_VALUE")


def test_token_from_another_listing_is_refused(wide, portal):
    token = wide.get(url(portal, "/shares"), params={"maxResults": 1}).json()["nextPageToken"]
    assert_error(wide.get(url(portal, "/shares/alpha_share/all-tables"), params={"pageToken": token}), 400)


def test_names_are_case_insensitive_and_get_share(wide, portal):
    assert wide.get(url(portal, "/shares/ALPHA_SHARE")).json()["share"]["name"] == "alpha_share"
    r = wide.get(url(portal, "/shares/Alpha_Share/schemas/S/tables/T2/version"))
    assert r.status_code == 200 and r.headers["delta-table-version"] == "2" and r.text == ""
    head = wide.head(url(portal, "/shares/alpha_share/schemas/s/tables/t2"))
    assert head.status_code == 200 and head.headers["delta-table-version"] == "2"


def test_auth_errors(portal):
    assert_error(requests.get(url(portal, "/shares")), 401)
    assert_error(requests.get(url(portal, "/shares"), headers={"Authorization": "Bearer dss_wrong"}), 401)


def test_not_granted_looks_like_missing(wide, portal):
    hidden = wide.get(url(portal, "/shares/partner_program"))
    missing = wide.get(url(portal, "/shares/no_such_share"))
    assert_error(hidden, 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(missing, 404, "RESOURCE_DOES_NOT_EXIST")
    assert hidden.json()["message"].replace("partner_program", "X") == missing.json()["message"].replace("no_such_share", "X")
    assert_error(wide.get(url(portal, "/shares/alpha_share/schemas/nope/tables")), 404)
    assert_error(query(wide, portal, {}, table="partner_program/schemas/analytics/tables/returns"), 404)


def test_metadata_is_two_lines_with_headers(wide, portal):
    r = wide.get(url(portal, "/shares/alpha_share/schemas/s/tables/t1/metadata"))
    assert r.headers["content-type"] == "application/x-ndjson; charset=utf-8"
    assert r.headers["delta-table-version"] == "2"
    assert r.headers["delta-sharing-capabilities"] == "responseformat=parquet"
    lines = ndjson(r)
    assert len(lines) == 2
    assert lines[0] == {"protocol": {"minReaderVersion": 1}}
    meta = lines[1]["metaData"]
    assert meta["format"] == {"provider": "parquet"} and meta["partitionColumns"] == ["partner_id"]
    assert {f["name"] for f in json.loads(meta["schemaString"])["fields"]} >= {"order_id", "units", "updated_at"}


def test_query_files_and_signed_downloads(wide, portal):
    r = query(wide, portal, {"unknownField": {"nested": True}, "predicateHints": []})
    assert r.status_code == 200 and r.headers["delta-table-version"] == "2"
    lines = ndjson(r)
    files = [l["file"] for l in lines[2:]]
    assert files and all(set(f) >= {"url", "id", "partitionValues", "size", "expirationTimestamp", "stats"} for f in files)
    f = files[0]
    head = requests.head(f["url"])
    assert head.status_code == 200 and int(head.headers["content-length"]) == f["size"]
    part = requests.get(f["url"], headers={"Range": "bytes=0-3"})
    assert part.status_code == 206 and part.content == b"PAR1" and part.headers["content-range"] == f"bytes 0-3/{f['size']}"
    full = requests.get(f["url"])
    assert len(full.content) == f["size"] and full.content.endswith(b"PAR1")
    tampered = f["url"].replace("sig=", "sig=x")
    assert requests.get(tampered).status_code == 403
    other_path = f["url"].replace(".parquet", ".parquet.crc")
    assert requests.get(other_path).status_code == 403
    # File ids are stable across queries (clients cache on them).
    assert [l["file"]["id"] for l in ndjson(query(wide, portal, {}))[2:]] == [x["id"] for x in files]


def test_json_predicates_prune_partitions_and_bad_ones_filter_nothing(wide, portal):
    everything = ndjson(query(wide, portal, {}))[2:]
    hint = {"op": "equal", "children": [{"op": "column", "name": "partner_id", "valueType": "string"}, {"op": "literal", "value": "P002", "valueType": "string"}]}
    pruned = ndjson(query(wide, portal, {"jsonPredicateHints": json.dumps(hint)}))[2:]
    assert 0 < len(pruned) < len(everything)
    assert {l["file"]["partitionValues"]["partner_id"] for l in pruned} == {"P002"}
    assert len(ndjson(query(wide, portal, {"jsonPredicateHints": "bad-predicates"}))[2:]) == len(everything)
    sql = ndjson(query(wide, portal, {"predicateHints": ["partner_id = 'P003'"]}))[2:]
    assert {l["file"]["partitionValues"]["partner_id"] for l in sql} == {"P003"}
    # Stats: no order line has more than 23 units, so every file is skipped.
    none = {"op": "greaterThan", "children": [{"op": "column", "name": "units", "valueType": "long"}, {"op": "literal", "value": "100", "valueType": "long"}]}
    assert ndjson(query(wide, portal, {"jsonPredicateHints": json.dumps(none)}))[2:] == []


def test_limit_hint_returns_fewer_files(wide, portal):
    everything = ndjson(query(wide, portal, {}))[2:]
    limited = ndjson(query(wide, portal, {"limitHint": 1}))[2:]
    assert len(limited) == 1 < len(everything)
    assert len(ndjson(query(wide, portal, {"limitHint": 0}))[2:]) == 0


def test_time_travel_rules(wide, portal):
    assert query(wide, portal, {"version": 0}).headers["delta-table-version"] == "0"
    r = query(wide, portal, {"version": 0, "timestamp": "2022-01-01T00:00:00Z"})
    assert_error(r, 400)
    assert "Please only provide one of" in r.json()["message"]
    early = query(wide, portal, {"timestamp": "2000-01-01T00:00:00Z"})
    assert_error(early, 400)
    assert "before the earliest available version" in early.json()["message"]
    assert_error(query(wide, portal, {"timestamp": "yesterday"}), 400)
    unshared = query(wide, portal, {"version": 0}, table="Zeta_Share/schemas/Other/tables/t9")
    assert_error(unshared, 400)
    assert "not supported" in unshared.json()["message"]


def test_starting_version_streams_data_changes(wide, portal):
    lines = ndjson(query(wide, portal, {"startingVersion": 1}))
    assert lines[0] == {"protocol": {"minReaderVersion": 1}}
    kinds = {next(iter(l)) for l in lines[2:]}
    assert kinds == {"add", "remove"}
    assert all(l[next(iter(l))]["version"] >= 1 for l in lines[2:])
    assert_error(query(wide, portal, {"startingVersion": 99}), 400)


def test_changes_endpoint(wide, portal):
    r = wide.get(url(portal, "/shares/alpha_share/schemas/s/tables/t1/changes"), params={"startingVersion": 1, "endingVersion": 2})
    assert r.status_code == 200 and r.headers["delta-table-version"] == "1"
    lines = ndjson(r)
    kinds = [next(iter(l)) for l in lines[2:]]
    assert "add" in kinds and "cdf" in kinds
    assert all("timestamp" in l[k] and "version" in l[k] for l, k in zip(lines[2:], kinds))
    bad = wide.get(url(portal, "/shares/alpha_share/schemas/s/tables/t1/changes"), params={"startingVersion": 2, "endingVersion": 1})
    assert_error(bad, 400)
    assert "greater than or equal to" in bad.json()["message"]
    assert_error(wide.get(url(portal, "/shares/alpha_share/schemas/s/tables/t1/changes")), 400)
    late = wide.get(url(portal, "/shares/alpha_share/schemas/s/tables/t1/changes"), params={"startingTimestamp": "2999-01-01T00:00:00Z"})
    assert_error(late, 400)
    assert "is after the latest available version" in late.json()["message"]


def test_malformed_requests_are_400(wide, portal):
    assert_error(query(wide, portal, "{not json"), 400, "MALFORMED_REQUEST")
    assert_error(query(wide, portal, {"limitHint": -1}), 400)
    assert_error(query(wide, portal, {"maxFiles": 0}), 400)
    assert_error(query(wide, portal, {}, headers={"fileidhash": "sha1"}), 400)
    r = query(wide, portal, {}, headers={"fileidhash": "DELTA"})
    assert r.headers["fileidhash"] == "delta" and len(ndjson(r)[2]["file"]["id"]) == 64


def test_end_stream_action_and_file_paging(wide, portal):
    everything = ndjson(query(wide, portal, {}))[2:]
    first = ndjson(query(wide, portal, {"maxFiles": 2}))
    assert len(first) == 2 + 2 + 1 and "endStreamAction" in first[-1]
    token = first[-1]["endStreamAction"]["nextPageToken"]
    seen = [l["file"]["id"] for l in first[2:-1]]
    while token:
        page = ndjson(query(wide, portal, {"maxFiles": 2, "pageToken": token}))
        seen += [l["file"]["id"] for l in page[2:-1]]
        token = page[-1]["endStreamAction"].get("nextPageToken")
    assert seen == [l["file"]["id"] for l in everything]
    asked = query(wide, portal, {}, headers={"delta-sharing-capabilities": "includeendstreamaction=true"})
    assert "includeendstreamaction=true" in asked.headers["delta-sharing-capabilities"]
    assert "endStreamAction" in ndjson(asked)[-1]


def test_delta_response_format(wide, portal):
    r = query(wide, portal, {}, headers={"delta-sharing-capabilities": "responseformat=delta"})
    assert r.headers["delta-sharing-capabilities"] == "responseformat=delta"
    lines = ndjson(r)
    proto = lines[0]["protocol"]["deltaProtocol"]
    assert proto["minReaderVersion"] >= 1 and "minWriterVersion" in proto
    assert lines[1]["metaData"]["deltaMetadata"]["partitionColumns"] == ["partner_id"]
    add = lines[2]["file"]["deltaSingleAction"]["add"]
    assert add["path"].startswith(portal.base + "/files/") and requests.head(add["path"]).status_code == 200


def test_every_call_is_audited(wide, portal):
    query(wide, portal, {"limitHint": 1})
    requests.get(url(portal, "/shares"), headers={"Authorization": "Bearer dss_nope", "User-Agent": "intruder/1"})
    events = portal.audit()
    reads = [e for e in events if e["actor"] == "recipient:wide_reader" and e["action"] == "queryTable"]
    assert reads and reads[0]["object"] == "alpha_share.s.t1" and reads[0]["status"] == 200
    assert reads[0]["files"] == 1 and reads[0]["bytes"] > 0 and reads[0]["user_agent"] == "protocol-tests/1.0"
    denied = [e for e in events if e["actor"] == "anonymous" and e["user_agent"] == "intruder/1"]
    assert denied and denied[0]["status"] == 401
    assert any(e["actor"] == "admin:cli" and e["action"] == "admin.grant" for e in events)


def test_missing_table_files_do_not_reveal_where_data_lives(wide, portal, tmp_path):
    import shutil
    copy = tmp_path / "vanishing_table"
    shutil.copytree(portal.data_dir / "demo" / "stock", copy)
    portal.cli("table", "add", "alpha_share.s.vanishing", "--location", str(copy))
    assert query(wide, portal, {}, table="alpha_share/schemas/s/tables/vanishing").status_code == 200
    shutil.rmtree(copy)
    for r in [query(wide, portal, {}, table="alpha_share/schemas/s/tables/vanishing"),
              wide.get(url(portal, "/shares/alpha_share/schemas/s/tables/vanishing/metadata"))]:
        assert_error(r, 400, "RESOURCE_DOES_NOT_EXIST")
        assert "contact your data provider" in r.json()["message"]
        assert str(tmp_path) not in r.text and "vanishing_table" not in r.text


def test_page_tokens_cannot_be_forged_or_moved(wide, portal):
    import base64
    # A hand-made cursor asking for version 0 of a table shared without history.
    forged = base64.urlsafe_b64encode(json.dumps({"table": "x", "version": 0, "offset": 0}).encode()).decode().rstrip("=")
    assert_error(query(wide, portal, {"maxFiles": 1, "pageToken": forged}, table="Zeta_Share/schemas/Other/tables/t9"), 400)
    token = ndjson(query(wide, portal, {"maxFiles": 1}))[-1]["endStreamAction"]["nextPageToken"]
    assert_error(query(wide, portal, {"maxFiles": 1, "pageToken": token}, table="alpha_share/schemas/s/tables/t2"), 400)
    assert_error(query(wide, portal, {"maxFiles": 1, "pageToken": token[:-2] + "xx"}), 400)


def test_versions_outside_the_log_are_400(wide, portal):
    for r in [query(wide, portal, {"version": 999}), wide.get(url(portal, "/shares/alpha_share/schemas/s/tables/t1/metadata"), params={"version": 999})]:
        assert_error(r, 400, "INVALID_PARAMETER_VALUE")
        assert "after the latest available version 2" in r.json()["message"]


def test_sql_hints_with_or_filter_nothing(wide, portal):
    everything = ndjson(query(wide, portal, {}))[2:]
    hinted = ndjson(query(wide, portal, {"predicateHints": ["partner_id = 'P001' OR partner_id = 'P002'"]}))[2:]
    assert len(hinted) == len(everything)


def test_framework_errors_are_protocol_json(wide, portal):
    assert_error(wide.get(url(portal, "/shares/alpha_share/schemas/s/tables/t1/query")), 405, "UNSUPPORTED_OPERATION")
    assert_error(wide.get(url(portal, "/shares/alpha_share/schemas/s/tables/t1/changes"), params={"startingVersion": "x"}), 400)
    bad = wide.get(portal.endpoint + "/shares/%FF%FE")
    assert bad.status_code in (400, 404) and set(bad.json()) == {"errorCode", "message"}
    assert_error(wide.get(url(portal, "/no/such/endpoint")), 404)

