"""The admin CLI: bad input is one clear line and a non-zero exit, and changes nothing."""
import json

import delta_sharing

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests


def fails(portal, *args):
    done = portal.cli(*args, check=False)
    assert done.returncode != 0, done.stdout
    lines = [l for l in done.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_table_add_validates_location_and_scope(portal, tmp_path):
    portal.cli("share", "create", "cli_share")
    not_delta = tmp_path / "plain"
    not_delta.mkdir()
    assert "is not a Delta table" in fails(portal, "table", "add", "cli_share.s.t", "--location", str(not_delta))
    assert "is not a Delta table" in fails(portal, "table", "add", "cli_share.s.t", "--location", str(tmp_path / "missing"))
    sales = str(portal.data_dir / "demo" / "sales")
    msg = fails(portal, "table", "add", "cli_share.s.t", "--location", sales, "--scope", "country=country")
    assert "not a partition column" in msg and "partner_id" in msg
    assert "COLUMN=PROPERTY" in fails(portal, "table", "add", "cli_share.s.t", "--location", sales, "--scope", "partner_id")
    assert "<share>.<schema>.<table>" in fails(portal, "table", "add", "cli_share.t", "--location", sales)
    assert "does not exist" in fails(portal, "table", "add", "nope.s.t", "--location", sales)
    portal.cli("table", "add", "cli_share.s.t", "--location", sales, "--scope", "PARTNER_ID=partner_id")
    assert "already exists" in fails(portal, "table", "add", "CLI_SHARE.S.T", "--location", sales)


def test_names_and_duplicates(portal):
    assert "invalid share name" in fails(portal, "share", "create", "has space")
    assert "invalid share name" in fails(portal, "share", "create", "a/b")
    portal.cli("share", "create", "dup_share")
    assert "already exists" in fails(portal, "share", "create", "DUP_SHARE")
    assert "KEY=VALUE" in fails(portal, "recipient", "create", "r_bad", "--property", "novalue")
    assert "does not exist" in fails(portal, "grant", "dup_share", "nobody")
    assert "does not exist" in fails(portal, "token", "create", "nobody")
    assert "portal --help" in fails(portal, "share", "frobnicate")


def test_profile_files_are_private(portal, tmp_path):
    portal.cli("recipient", "create", "cli_private")
    path = tmp_path / "p.share"
    path.write_text("old")
    path.chmod(0o644)
    portal.profile("cli_private", path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert json.loads(path.read_text())["bearerToken"].startswith("dss_")


def test_token_create_prints_profile_then_id(portal):
    portal.cli("recipient", "create", "cli_tokens")
    done = portal.cli("token", "create", "cli_tokens", "--ttl-days", "3")
    *profile_lines, token_id = done.stdout.strip().splitlines()
    profile = json.loads("\n".join(profile_lines))
    assert profile["shareCredentialsVersion"] == 1 and profile["endpoint"] == portal.endpoint
    assert profile["expirationTime"].endswith("Z") and profile["bearerToken"].startswith("dss_")
    assert token_id in portal.cli("token", "list", "cli_tokens").stdout
    # Tokens are stored only as hashes.
    assert profile["bearerToken"].encode() not in portal.catalog_bytes()
    portal.cli("token", "revoke", "cli_tokens", token_id)
    assert "already revoked" in fails(portal, "token", "revoke", "cli_tokens", token_id)
    assert "has no token" in fails(portal, "token", "revoke", "cli_tokens", "0000")
    assert "at least 1" in fails(portal, "token", "create", "cli_tokens", "--ttl-days", "0")


def column_mapped_table(root):
    """A real Delta table using column mapping (name mode): the parquet column is `col-…`."""
    (root / "_delta_log").mkdir(parents=True)
    pq.write_table(pa.table({"col-5f1a": pa.array([1, 2, 3], pa.int64())}), root / "part-0.parquet")
    schema = {"type": "struct", "fields": [{"name": "amount", "type": "long", "nullable": True, "metadata": {"delta.columnMapping.id": 1, "delta.columnMapping.physicalName": "col-5f1a"}}]}
    actions = [
        {"protocol": {"minReaderVersion": 2, "minWriterVersion": 5}},
        {"metaData": {"id": "8d3e7c1a-0000-4000-8000-000000000001", "format": {"provider": "parquet", "options": {}}, "schemaString": json.dumps(schema), "partitionColumns": [], "configuration": {"delta.columnMapping.mode": "name", "delta.columnMapping.maxColumnId": "1"}, "createdTime": 1700000000000}},
        {"add": {"path": "part-0.parquet", "partitionValues": {}, "size": (root / "part-0.parquet").stat().st_size, "modificationTime": 1700000000000, "dataChange": True, "stats": json.dumps({"numRecords": 3})}},
    ]
    (root / "_delta_log" / "00000000000000000000.json").write_text("\n".join(json.dumps(a) for a in actions) + "\n")
    return root


def test_column_mapping_needs_the_delta_format(portal, tmp_path):
    location = column_mapped_table(tmp_path / "mapped")
    portal.cli("share", "create", "mapped_share")
    portal.cli("table", "add", "mapped_share.s.mapped", "--location", str(location))
    portal.cli("recipient", "create", "mapped_reader")
    portal.cli("grant", "mapped_share", "mapped_reader")
    profile, _ = portal.profile("mapped_reader", tmp_path / "m.share")
    headers = {"Authorization": "Bearer " + portal.token_of(profile)}
    q = portal.endpoint + "/shares/mapped_share/schemas/s/tables/mapped/query"
    parquet_only = requests.post(q, json={}, headers=headers)
    assert parquet_only.status_code == 400 and "columnMapping" in parquet_only.json()["message"]
    delta = requests.post(q, json={}, headers={**headers, "delta-sharing-capabilities": "responseformat=delta,parquet"})
    assert delta.status_code == 200 and delta.headers["delta-sharing-capabilities"] == "responseformat=delta"
    lines = [json.loads(l) for l in delta.text.splitlines()]
    assert lines[1]["metaData"]["deltaMetadata"]["configuration"]["delta.columnMapping.mode"] == "name"
    assert lines[2]["file"]["deltaSingleAction"]["add"]["path"].startswith(portal.base + "/files/")
    # The official client negotiates the delta format by itself and maps the physical column name.
    df = delta_sharing.load_as_pandas(f"{profile}#mapped_share.s.mapped")
    assert list(df.columns) == ["amount"] and sorted(df["amount"]) == [1, 2, 3]


def test_backup_while_serving_and_restore_with_the_server_stopped(tmp_path):
    """`portal backup FILE` copies the catalog while the portal serves; `portal restore FILE`
    (server stopped) brings back exactly that state; a file that is no backup changes nothing.
    On Postgres both say to use pg_dump, in one line."""
    from conftest import Portal, free_port

    p = Portal(tmp_path / "data", free_port())
    p.cli("demo")
    p.start()
    try:
        backup = tmp_path / "catalog-backup.db"
        done = p.cli("backup", str(backup), check=False)
        if p.database_url and p.database_url.startswith("postgres"):
            assert done.returncode != 0 and "pg_dump" in done.stderr and len(done.stderr.strip().splitlines()) == 1
            return
        assert done.returncode == 0, done.stderr
        again = p.cli("backup", str(backup), check=False)
        assert again.returncode != 0 and "already exists" in again.stderr and len(again.stderr.strip().splitlines()) == 1
        p.cli("recipient", "create", "after_backup")
    finally:
        p.stop()
    junk = tmp_path / "junk.db"
    junk.write_text("not a catalog")
    refused = p.cli("restore", str(junk), check=False)
    assert refused.returncode != 0 and "not a portal catalog backup" in refused.stderr
    exists = lambda name: "already exists" in p.cli("recipient", "create", name, check=False).stderr  # noqa: E731
    assert exists("after_backup"), "a refused restore changed nothing"

    p.cli("restore", str(backup))
    assert exists("acme_foods") and not exists("after_backup"), "the catalog is as it was at the backup"
    p.start()
    try:
        assert requests.get(p.base + "/readyz").status_code == 200
    finally:
        p.stop()
