"""Saved views: a partner names the table view they are looking at (filters, order, columns),
finds it again on the home and table pages, opens it at `/views/{id}`, renames and deletes it —
all with plain forms — and scripts do the same over `/api/v1/views`. A view is its recipient's
own: another recipient gets a 404 for its id, and a view of a table no longer granted is
hidden."""
import re
import uuid
from urllib.parse import urlsplit, parse_qs

import pytest
import requests

from admin import bearer, forms_of, partner_session, partner_token

TABLE = "/shares/wholesale/commerce/sales"
VIEW = "country=DE&_sort_desc=revenue&_nocol=sku"


def new_partner(portal, partner_id="P001"):
    name = f"views_{uuid.uuid4().hex[:8]}"
    portal.cli("recipient", "create", name, "--property", f"partner_id={partner_id}")
    portal.cli("grant", "wholesale", name)
    return name, partner_session(portal, name), bearer(partner_token(portal, name)[0])


def page(portal, web, path):
    resp = web.get(portal.base + path, allow_redirects=False)
    assert resp.status_code == 200, (path, resp.status_code, resp.text[:300])
    return resp.text


def form(html, action):
    found = [f for f in forms_of(html) if f["action"] == action]
    assert len(found) == 1, (action, [f["action"] for f in forms_of(html)])
    return found[0]


def submit(portal, web, html, action, **fields):
    f = form(html, action)
    return web.post(portal.base + action, data={**f["fields"], **fields}, allow_redirects=False)


def location(resp):
    assert resp.status_code == 303, (resp.status_code, resp.text[:300])
    return resp.headers["location"]


def save(portal, web, view, name):
    html = page(portal, web, f"{TABLE}?{view}")
    return submit(portal, web, html, "/views", name=name)


def saved_list(html, marked=False):
    """(name, href) of each saved view listed on a page, in order; with `marked`, whether the
    list marks it as the view showing (`aria-current`) too."""
    block = re.search(r'data-testid="saved-views".*?</ul>', html, re.S)
    if not block:
        return []
    found = [(re.sub(r"<[^>]+>", "", text).strip(), href.replace("&amp;", "&"), 'aria-current="true"' in attrs)
             for href, attrs, text in re.findall(r'<a href="([^"]+)"([^>]*)>\s*(.*?)</a>', block.group(0), re.S)]
    return found if marked else [(n, h) for n, h, _ in found]


def row_count(html):
    return re.search(r'data-testid="row-count">([^<]+)<', html).group(1)


def view_id(portal, headers, name):
    items = requests.get(portal.base + "/api/v1/views", headers=headers).json()["items"]
    return next(v["id"] for v in items if v["name"] == name)


def test_a_saved_view_is_found_again_on_both_pages_and_at_its_own_address(portal):
    name, web, api = new_partner(portal)
    direct = page(portal, web, f"{TABLE}?{VIEW}")

    # The form saves what the page shows, without the page it was on.
    back = location(save(portal, web, f"{VIEW}&_size=20", "German revenue"))
    path, _, fragment = back.partition("#")
    assert fragment == "saved-views"
    assert urlsplit(path).path == TABLE
    assert parse_qs(urlsplit(path).query)["_saved"] == ["created"]
    after = page(portal, web, path)
    assert "The view was saved" in after
    assert saved_list(after, marked=True) == [("German revenue", f"{TABLE}?country__exact=DE&_sort_desc=revenue&_nocol=sku&_size=20", True)]
    assert "You are looking at your saved view “German revenue”" in after

    # The home page lists it with its table; its link shows the same rows as the view typed in.
    home = page(portal, web, "/")
    assert "Your saved views" in home
    [(listed, href)] = saved_list(home)
    assert listed == "German revenue"
    assert row_count(page(portal, web, href)) == row_count(direct)
    assert "sales · wholesale.commerce" in home

    # `/views/{id}` opens the table page of the view, in the browser and for scripts.
    vid = view_id(portal, api, "German revenue")
    opened = web.get(f"{portal.base}/views/{vid}", allow_redirects=False)
    assert opened.status_code == 302 and opened.headers["location"] == href
    shown = requests.get(f"{portal.base}/api/v1/views/{vid}", headers=api).json()
    assert (shown["name"], shown["table"], shown["query"]) == ("German revenue", "sales", "country__exact=DE&_sort_desc=revenue&_nocol=sku&_size=20")

    # Another view of the table is not marked as the one showing.
    other = page(portal, web, f"{TABLE}?country=FR")
    assert saved_list(other, marked=True) == [("German revenue", href, False)]
    assert "Save this view, or open one you saved." in other

    # Saving under the same name replaces what the view shows.
    back = location(save(portal, web, "country=FR", "German revenue"))
    assert parse_qs(urlsplit(back).query)["_saved"] == ["replaced"]
    assert requests.get(f"{portal.base}/api/v1/views/{vid}", headers=api).json()["query"] == "country__exact=FR"

    events = [e for e in portal.audit(300) if e["actor"] == f"recipient:{name}" and e["action"].startswith("view.")]
    assert {e["action"] for e in events} >= {"view.save", "view.open"}
    assert all(e["object"] == vid for e in events if e["action"] in ("view.save", "view.open"))


def test_renaming_and_deleting_from_the_home_page(portal):
    name, web, api = new_partner(portal)
    location(save(portal, web, VIEW, "first"))
    vid = view_id(portal, api, "first")
    home = page(portal, web, "/")
    back = location(submit(portal, web, home, f"/views/{vid}/rename", name="Germany by revenue"))
    assert back == "/?_saved=renamed#saved-views"
    home = page(portal, web, "/?_saved=renamed")
    assert "The saved view was renamed." in home
    assert [n for n, _ in saved_list(home)] == ["Germany by revenue"]

    back = location(submit(portal, web, home, f"/views/{vid}/delete"))
    assert back == "/?_saved=deleted#saved-views"
    home = page(portal, web, "/")
    assert saved_list(home) == [] and "Your saved views" not in home
    assert web.get(f"{portal.base}/views/{vid}", allow_redirects=False).status_code == 404
    assert requests.get(f"{portal.base}/api/v1/views/{vid}", headers=api).status_code == 404


def test_another_recipients_view_reads_as_missing_everywhere(portal):
    _, owner, owner_api = new_partner(portal)
    location(save(portal, owner, VIEW, "private"))
    vid = view_id(portal, owner_api, "private")
    _, other, other_api = new_partner(portal, "P002")
    missing = "00000000-0000-4000-8000-000000000000"

    for target in (vid, missing):
        page_answer = other.get(f"{portal.base}/views/{target}", allow_redirects=False)
        assert page_answer.status_code == 404 and "Not found" in page_answer.text
        for method, kw in [("get", {}), ("patch", {"json": {"name": "mine now"}}), ("delete", {})]:
            answer = getattr(requests, method)(f"{portal.base}/api/v1/views/{target}", headers=other_api, **kw)
            assert answer.status_code == 404, (method, answer.status_code, answer.text)
            assert answer.json()["errorCode"] == "RESOURCE_DOES_NOT_EXIST"
    # The forms, with the other partner's own form token, change nothing either.
    home = page(portal, other, "/")
    csrf = re.search(r'name="csrf" value="([^"]+)"', home).group(1)
    for action, fields in [(f"/views/{vid}/rename", {"name": "mine now"}), (f"/views/{vid}/delete", {})]:
        back = location(other.post(portal.base + action, data={"csrf": csrf, "back": "/", **fields}, allow_redirects=False))
        assert back == "/?_saved_error=gone#saved-views"
    assert "That saved view no longer exists." in page(portal, other, "/?_saved_error=gone")
    assert requests.get(portal.base + "/api/v1/views", headers=other_api).json() == {"items": []}
    assert requests.get(f"{portal.base}/api/v1/views/{vid}", headers=owner_api).json()["name"] == "private"


def test_a_view_of_a_table_no_longer_granted_is_hidden_until_granted_again(portal):
    name, web, api = new_partner(portal)
    location(save(portal, web, VIEW, "kept"))
    vid = view_id(portal, api, "kept")
    portal.cli("revoke", "wholesale", name)
    assert "Your saved views" not in page(portal, web, "/")
    assert web.get(f"{portal.base}/views/{vid}", allow_redirects=False).status_code == 404
    assert requests.get(portal.base + "/api/v1/views", headers=api).json() == {"items": []}
    portal.cli("grant", "wholesale", name)
    assert [n for n, _ in saved_list(page(portal, web, "/"))] == ["kept"]


REASONS = {
    "name": "Give the view a name of 1 to 80 characters.",
    "form": "The form had expired. Please try again.",
    "gone": "That saved view no longer exists.",
}


@pytest.mark.parametrize(
    "fields,error",
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 81}, "name"),
        ({"csrf": "forged"}, "form"),
        ({"view": "_version=minus-one"}, "form"),
        ({"table": "no_such_table"}, "gone"),
    ],
    ids=["empty-name", "name-too-long", "bad-form-token", "unreadable-view", "table-not-granted"],
)
def test_a_refused_save_goes_back_with_a_readable_reason(portal, fields, error):
    name, web, api = new_partner(portal)
    html = page(portal, web, f"{TABLE}?{VIEW}")
    back = location(submit(portal, web, html, "/views", **{"name": "ok", **fields}))
    # Back to the view as the page wrote it (canonical); a forged form token tells nothing of where.
    target = "/?" if "csrf" in fields else f"{TABLE}?country__exact=DE&_sort_desc=revenue&_nocol=sku&"
    assert back == f"{target}_saved_error={error}#saved-views", back
    assert REASONS[error] in page(portal, web, back.split("#")[0])
    assert requests.get(portal.base + "/api/v1/views", headers=api).json() == {"items": []}


def test_signed_out_forms_go_to_sign_in_and_keep_nothing(portal):
    web = requests.Session()
    resp = web.post(portal.base + "/views", data={"share": "wholesale", "schema": "commerce", "table": "sales", "name": "x"}, allow_redirects=False)
    assert location(resp) == "/login?next=%2F"
    opened = web.get(portal.base + "/views/anything", headers={"Accept": "text/html"}, allow_redirects=False)
    assert opened.status_code == 302 and opened.headers["location"] == "/login?next=%2Fviews%2Fanything"


def test_the_api_saves_renames_and_deletes_with_json_errors(portal):
    name, _, api = new_partner(portal)
    url = portal.base + "/api/v1/views"
    created = requests.post(url, headers=api, json={"share": "WHOLESALE", "schema": "commerce", "table": "sales", "view": VIEW, "name": "api view"})
    assert created.status_code == 201, created.text
    v = created.json()
    assert (v["share"], v["schema"], v["table"], v["query"]) == ("wholesale", "commerce", "sales", "country__exact=DE&_sort_desc=revenue&_nocol=sku")
    again = requests.post(url, headers=api, json={"share": "wholesale", "schema": "commerce", "table": "sales", "name": "api view"})
    assert again.status_code == 200 and again.json()["id"] == v["id"] and again.json()["query"] == ""
    requests.post(url, headers=api, json={"share": "wholesale", "schema": "commerce", "table": "sales", "name": "second"}).raise_for_status()

    def refused(resp, status, code):
        assert resp.status_code == status, (resp.status_code, resp.text)
        assert resp.json()["errorCode"] == code and resp.json()["message"], resp.text

    refused(requests.patch(f"{url}/{v['id']}", headers=api, json={"name": "second"}), 409, "RESOURCE_ALREADY_EXISTS")
    refused(requests.patch(f"{url}/{v['id']}", headers=api, json={"name": " "}), 400, "INVALID_PARAMETER_VALUE")
    refused(requests.patch(f"{url}/{v['id']}", headers=api, json={"title": "x"}), 400, "MALFORMED_REQUEST")
    refused(requests.post(url, headers=api, data="not json"), 400, "MALFORMED_REQUEST")
    refused(requests.post(url, headers=api, json={"share": "wholesale", "schema": "commerce", "table": "sales", "view": "_sort=a&_sort_desc=b", "name": "n"}), 400, "INVALID_PARAMETER_VALUE")
    refused(requests.post(url, headers=api, json={"share": "secret", "schema": "commerce", "table": "sales", "name": "n"}), 404, "RESOURCE_DOES_NOT_EXIST")
    refused(requests.post(url, headers={}, json={"share": "wholesale", "schema": "commerce", "table": "sales", "name": "n"}), 401, "UNAUTHENTICATED")

    renamed = requests.patch(f"{url}/{v['id']}", headers=api, json={"name": "renamed"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "renamed"
    assert requests.delete(f"{url}/{v['id']}", headers=api).json()["name"] == "renamed"
    assert [x["name"] for x in requests.get(url, headers=api).json()["items"]] == ["second"]
