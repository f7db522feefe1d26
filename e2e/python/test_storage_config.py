"""Storage credentials by prefix (`[[storage]]` in portal.toml, the env vars as the fallback), and
object-store prefixes as external locations: a team admin adds tables only under its own, and a
refusal never tells whether a bucket or a table exists."""
import json

import delta_sharing
import pandas as pd
import pytest
from deltalake import write_deltalake

from admin import AdminApi, ensure_team, error_of, uniq
from conftest import Portal, free_port
from stores import S3


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    work = tmp_path_factory.mktemp("s3-config")
    (work / "objects").mkdir()
    store = S3(work / "objects")
    for bucket in ["lake", "other"]:
        store.bucket(bucket)
        write_deltalake(f"s3://{bucket}/sales", pd.DataFrame({"partner_id": ["P001", "P002"], "units": [1, 2]}), partition_by=["partner_id"], storage_options=store.writer_options())
    yield store
    store.stop()


@pytest.fixture(scope="module")
def portal_with_entry(s3, tmp_path_factory):
    """The env vars carry a wrong secret; the `[[storage]]` entry for s3://lake/ the right one."""
    data = tmp_path_factory.mktemp("portal-entry")
    (data / "portal.toml").write_text(
        f"""
[[storage]]
prefix = "s3://lake/"
options = {{ aws_access_key_id = "{s3.access_key}", aws_secret_access_key = "{s3.secret_key}", aws_region = "us-east-1", aws_endpoint = "{s3.endpoint}", aws_allow_http = "true" }}
"""
    )
    env = {**s3.env, "AWS_SECRET_ACCESS_KEY": "env-secret-that-is-wrong", "PORTAL_CONFIG": str(data / "portal.toml")}
    p = Portal(data, free_port(), extra_env=env)
    p.start()
    yield p
    p.stop()


def test_the_longest_matching_entry_wins_over_the_environment(portal_with_entry, s3, tmp_path):
    p = portal_with_entry
    p.cli("share", "create", "cfg")
    p.cli("table", "add", "cfg.s.sales", "--location", "s3://lake/sales")
    refused = p.cli("table", "add", "cfg.s.other", "--location", "s3://other/sales", check=False)
    assert refused.returncode != 0
    assert "refused the portal's credentials (the AWS_* environment variables)" in refused.stderr.strip().splitlines()[-1]
    p.cli("recipient", "create", "r")
    p.cli("grant", "cfg", "r")
    profile, _ = p.profile("r", tmp_path / "r.share")
    got = delta_sharing.load_as_pandas(f"{profile}#cfg.s.sales")
    assert sorted(got.units) == [1, 2]
    platform = AdminApi.platform(p)
    table = platform.ok("GET", "/shares/cfg")["tables"][0]
    assert table["storage"] == "[[storage]] s3://lake/"
    # Neither secret shows anywhere a person could read it.
    seen = [json.dumps(platform.ok("GET", "/shares/cfg")), (p.data_dir / "server.log").read_text(), p.cli("audit", "--limit", "100").stdout, refused.stderr]
    for text in seen:
        assert s3.secret_key not in text and "env-secret-that-is-wrong" not in text


def test_bad_storage_entries_stop_the_server_with_one_line(s3, tmp_path):
    (tmp_path / "portal.toml").write_text('[[storage]]\nprefix = "/data/lake"\n')
    p = Portal(tmp_path, free_port(), extra_env={"PORTAL_CONFIG": str(tmp_path / "portal.toml")})
    done = p.cli("location", "list", check=False)
    assert done.returncode != 0 and "must be an s3://" in done.stderr.strip().splitlines()[-1]


def test_team_admins_add_store_tables_only_under_their_locations(s3, tmp_path):
    p = Portal(tmp_path, free_port(), extra_env=s3.env)
    p.start()
    try:
        ensure_team(p, "south")
        platform = AdminApi.platform(p)
        platform.ok("POST", "/locations", {"name": "south_lake", "url": "s3://lake/south"})
        platform.ok("PUT", "/locations/south_lake/grants/south")
        south = AdminApi.team(p, "south")
        share = uniq("south_share")
        south.ok("POST", "/shares", {"name": share})
        answers = []
        for location in ["s3://lake/sales", "s3://other/sales", "s3://no-such-bucket/x", "s3://lake/southern/sales"]:
            err = error_of(south.post(f"/shares/{share}/tables", {"schema": "s", "name": "t", "location": location}), 400, field="location")
            answers.append(err["message"].replace(location, "…"))
        # One answer whatever exists there: a table, a bucket, nothing at all.
        assert len(set(answers)) == 1 and "no location of team south contains `…`" in answers[0], answers
        # Climbing out of the location is refused by its spelling alone.
        dots = error_of(south.post(f"/shares/{share}/tables", {"schema": "s", "name": "t", "location": "s3://lake/south/../sales"}), 400, field="location")
        assert "`.` or `..` segments" in dots["message"]
        assert south.ok("GET", f"/shares/{share}")["tables"] == []
        # A platform admin may add the table anywhere the portal's credentials reach.
        platform_share = uniq("platform_share")
        platform.ok("POST", "/shares", {"name": platform_share})
        added = platform.ok("POST", f"/shares/{platform_share}/tables", {"schema": "s", "name": "t", "location": "s3a://lake/sales/"})
        assert added["location"] == "s3://lake/sales" and added["externalLocation"] is None and added["columns"]
    finally:
        p.stop()

