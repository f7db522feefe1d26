"""The official `delta-sharing` Python client reads the portal exactly as a partner would."""
import json
from datetime import datetime, timezone

import delta_sharing
import pytest
import requests
from deltalake import DeltaTable


def direct(demo_dir, table, partner, version=None):
    """Ground truth: the same Delta table read directly by delta-rs, filtered to one partner."""
    dt = DeltaTable(str(demo_dir / table), version=version)
    df = dt.to_pandas()
    return df[df["partner_id"] == partner]


def test_lists_exactly_the_granted_tables(acme_profile, nordic_profile):
    acme = {(t.share, t.schema, t.name) for t in delta_sharing.SharingClient(str(acme_profile)).list_all_tables()}
    assert acme == {("wholesale", "commerce", "sales"), ("wholesale", "commerce", "stock"), ("partner_program", "analytics", "returns")}
    nordic = {(t.share, t.schema, t.name) for t in delta_sharing.SharingClient(str(nordic_profile)).list_all_tables()}
    assert ("connected_retail", "retail", "sales_feed") in nordic
    assert not any(share == "partner_program" for share, _, _ in nordic)


def test_load_as_pandas_returns_exactly_the_partners_rows(acme_profile, nordic_profile, demo_dir):
    acme = delta_sharing.load_as_pandas(f"{acme_profile}#wholesale.commerce.sales")
    expected = direct(demo_dir, "sales", "P001")
    assert len(acme) == len(expected) > 10_000
    assert set(acme["partner_id"]) == {"P001"}
    assert sorted(acme["order_id"]) == sorted(expected["order_id"])
    # The deleted (cancelled) lines are gone in the latest version.
    assert (acme["units"] > 0).all()
    nordic = delta_sharing.load_as_pandas(f"{nordic_profile}#connected_retail.retail.sales_feed")
    assert set(nordic["partner_id"]) == {"P002"}
    assert len(nordic) == len(direct(demo_dir, "sales", "P002"))


def test_limit(acme_profile):
    df = delta_sharing.load_as_pandas(f"{acme_profile}#wholesale.commerce.sales", limit=25)
    assert len(df) == 25
    assert set(df["partner_id"]) == {"P001"}
    empty = delta_sharing.load_as_pandas(f"{acme_profile}#wholesale.commerce.sales", limit=0)
    assert len(empty) == 0 and "order_id" in empty.columns


def test_version_and_timestamp(acme_profile, demo_dir):
    url = f"{acme_profile}#wholesale.commerce.sales"
    v0 = delta_sharing.load_as_pandas(url, version=0)
    assert len(v0) == len(direct(demo_dir, "sales", "P001", version=0))
    v1 = delta_sharing.load_as_pandas(url, version=1)
    assert len(v1) == len(direct(demo_dir, "sales", "P001", version=1)) > len(v0)
    # The snapshot at the time of commit 1 is version 1.
    history = {h["version"]: h["timestamp"] for h in DeltaTable(str(demo_dir / "sales")).history()}
    log_mtime = (demo_dir / "sales" / "_delta_log" / "00000000000000000001.json").stat().st_mtime
    at = datetime.fromtimestamp(log_mtime, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    by_time = delta_sharing.load_as_pandas(url, timestamp=at)
    assert len(by_time) == len(v1), (history, at)
    assert delta_sharing.get_table_version(url) == 2


def test_change_data_feed(acme_profile, demo_dir):
    changes = delta_sharing.load_table_changes_as_pandas(f"{acme_profile}#wholesale.commerce.sales", starting_version=0, ending_version=2)
    assert set(changes["partner_id"]) == {"P001"}
    counts = changes["_change_type"].value_counts().to_dict()
    v1 = direct(demo_dir, "sales", "P001", version=1)
    assert counts["insert"] == len(v1)
    assert counts["delete"] == int((v1["units"] == 0).sum()) > 0
    assert set(changes.loc[changes["_change_type"] == "delete", "_commit_version"]) == {2}


def test_history_not_shared_refuses_time_travel(acme_profile):
    with pytest.raises(requests.HTTPError) as e:
        delta_sharing.load_as_pandas(f"{acme_profile}#wholesale.commerce.stock", version=0)
    assert "Reading table by version or timestamp is not supported" in str(e.value)


def test_ungranted_share_is_not_found(acme_profile):
    with pytest.raises(requests.HTTPError) as e:
        delta_sharing.load_as_pandas(f"{acme_profile}#connected_retail.retail.stock")
    assert e.value.response.status_code == 404


def test_recipient_without_scope_property_sees_no_rows(portal, tmp_path):
    portal.cli("recipient", "create", "no_partner_id", "--property", "country=DE")
    # Granting a scoped share to a recipient without the scope's property is refused...
    refused = portal.cli("grant", "wholesale", "no_partner_id", check=False)
    assert refused.returncode != 0 and "no property `partner_id`" in refused.stderr
    # ...but if an admin removes the property later, the recipient sees no rows, never all rows.
    portal.cli("recipient", "create", "loses_partner_id", "--property", "partner_id=P001")
    portal.cli("grant", "wholesale", "loses_partner_id")
    token = portal.cli("admin", "token", "create", "--name", "scope-test").stdout.strip().splitlines()[-1]
    patch = requests.patch(f"{portal.base}/api/v1/admin/recipients/loses_partner_id", json={"properties": {"country": "DE"}}, headers={"Authorization": f"Bearer {token}"})
    assert patch.status_code == 200, patch.text
    profile, _ = portal.profile("loses_partner_id", tmp_path / "p.share")
    df = delta_sharing.load_as_pandas(f"{profile}#wholesale.commerce.sales")
    assert len(df) == 0


def test_revoked_token_gets_401(portal, tmp_path):
    profile, token_id = portal.profile("acme_foods", tmp_path / "revoke.share")
    url = f"{profile}#wholesale.commerce.stock"
    assert len(delta_sharing.load_as_pandas(url)) > 0
    portal.cli("token", "revoke", "acme_foods", token_id)
    with pytest.raises(requests.HTTPError) as e:
        delta_sharing.load_as_pandas(url)
    assert e.value.response.status_code == 401
    listing = portal.cli("token", "list", "acme_foods").stdout
    assert any(token_id in line and "revoked" in line for line in listing.splitlines())


def test_activation_link_round_trip(portal, tmp_path):
    link = portal.cli("activation-link", "nordic_goods").stdout.strip()
    page = requests.get(link)
    assert page.status_code == 200 and "nordic_goods" in page.text and "Download credential file" in page.text
    # A GET (mail scanner, chat preview) does not spend the link.
    assert requests.get(link).status_code == 200
    first = portal.activate(link)
    assert first.status_code == 200
    assert "config.share" in first.headers["content-disposition"]
    profile = first.json()
    assert profile["shareCredentialsVersion"] == 1 and profile["endpoint"] == portal.endpoint
    path = tmp_path / "config.share"
    path.write_text(json.dumps(profile))
    df = delta_sharing.load_as_pandas(f"{path}#connected_retail.retail.stock")
    assert set(df["partner_id"]) == {"P002"}
    second = portal.activate(link)
    assert second.status_code == 410
    used = requests.get(link)
    assert used.status_code == 410 and "already used" in used.text
    assert requests.get(portal.base + "/activate/act_not-a-real-code").status_code == 404


def test_demo_links_work_once(portal):
    link = portal.activation_links["acme_foods"]
    # Without the page's form token (a cross-site POST) nothing happens and the link survives.
    forged = requests.post(link)
    assert forged.status_code == 403
    assert portal.activate(link).status_code == 200
    assert portal.activate(link).status_code == 410


def test_delta_format_path_reads_the_same_rows(acme_profile):
    """The official client's delta-kernel path (responseformat=delta) sees what the parquet path sees."""
    url = f"{acme_profile}#wholesale.commerce.sales"
    via_delta = delta_sharing.load_as_pandas(url, use_delta_format=True)
    via_parquet = delta_sharing.load_as_pandas(url, use_delta_format=False)
    assert len(via_delta) == len(via_parquet) > 10_000
    assert sorted(via_delta["order_id"]) == sorted(via_parquet["order_id"])
    assert set(via_delta["partner_id"]) == {"P001"}
