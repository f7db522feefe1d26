"""Background exports (`/api/v1/.../exports`, `/api/v1/exports`, the `/exports` page): a view
written to a file while the partner follows its progress, checked against delta-rs' reading of
the table and the direct download of the same view; privacy, CSRF, cancel, expiry, restart."""
import csv
import io
import re
import subprocess
import time
import uuid
from datetime import date, datetime, timedelta
from urllib.parse import urldefrag, urljoin

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import requests
from deltalake import write_deltalake

from conftest import Portal, free_port
from test_connect import csrf_of, form_fields, sign_in

SALES = ("wholesale", "commerce", "sales")
CREATE = "/api/v1/shares/{}/schemas/{}/tables/{}/exports"
DIRECT = "/api/v1/shares/{}/schemas/{}/tables/{}/export.csv"
JOBS = "/api/v1/exports"
FINISHED = {"done", "failed", "cancelled", "expired"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BIG_ROWS = 2_500_000


# --- Helpers ------------------------------------------------------------------------------------


def create(portal, headers, params, table=SALES, session=None):
    http = session or requests
    return http.post(portal.base + CREATE.format(*table) + "?" + params, headers=headers)


def started(portal, headers, params, table=SALES):
    resp = create(portal, headers, params, table)
    assert resp.status_code == 202, resp.text
    return resp.json()


def job_of(portal, headers, job_id):
    resp = requests.get(f"{portal.base}{JOBS}/{job_id}", headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


def wait_for(portal, headers, job_id, statuses=FINISHED, every=0.2, deadline=120):
    """Polls the job until its status is one of `statuses` (the deadline only stops a hang)."""
    end = time.monotonic() + deadline
    while True:
        job = job_of(portal, headers, job_id)
        if job["status"] in statuses:
            return job
        assert time.monotonic() < end, f"job still {job['status']} after {deadline} s: {job}"
        time.sleep(every)


def listed(portal, headers):
    resp = requests.get(portal.base + JOBS, headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()["items"]


def download(portal, headers, job):
    return requests.get(urljoin(portal.base, job["download_url"]), headers=headers)


def direct_csv(portal, headers, params, table=SALES):
    resp = requests.get(portal.base + DIRECT.format(*table) + "?" + params, headers=headers)
    assert resp.status_code == 200, resp.text
    return resp


def rows_of(content):
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def files_of(portal, job_id):
    exports = portal.data_dir / "exports"
    return sorted(p.name for p in exports.rglob("*") if job_id in p.name) if exports.exists() else []


def wait_files_gone(portal, job_id, deadline=60):
    """A cancelled job's writer stops at its next batch; its partial file goes then."""
    end = time.monotonic() + deadline
    while files_of(portal, job_id) and time.monotonic() < end:
        time.sleep(0.2)
    return files_of(portal, job_id)


def moment(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def audited(portal, recipient, action):
    return [e for e in portal.audit(300) if e["action"] == action and e["actor"] == f"recipient:{recipient}"]


def is_error(resp, status, code=None):
    assert resp.status_code == status, (resp.status_code, resp.text[:300])
    body = resp.json()
    assert body["errorCode"] and body["message"], body
    if code:
        assert body["errorCode"] == code, body
    return body


# --- Jobs on the shared demo portal -----------------------------------------------------------------


def test_xlsx_job_holds_the_filtered_view(portal, acme, sales_p001):
    import openpyxl

    view = "country=DE&_sort=order_id"
    job = started(portal, acme, view + "&_format=xlsx")
    assert job["status"] in ("queued", "running", "done") and job["table"] == "wholesale.commerce.sales"
    assert job["format"] == "xlsx" and "DE" in job["description"] and re.search(r"country(__exact)?=DE", job["view"])
    assert job["status"] == "done" or job["download_url"] is None
    done = wait_for(portal, acme, job["id"])
    want = sales_p001[sales_p001.country == "DE"]
    assert done["status"] == "done" and done["error"] is None, done
    assert done["rows_written"] == done["rows_total"] == len(want) > 1000
    assert re.fullmatch(r"sales_\d{4}-\d{2}-\d{2}_filtered\.xlsx", done["file_name"]), done["file_name"]
    assert moment(done["created_at"]) <= moment(done["finished_at"]) < moment(done["expires_at"])
    resp = download(portal, acme, done)
    assert resp.status_code == 200 and resp.headers["content-type"] == XLSX
    assert resp.headers["content-disposition"] == f'attachment; filename="{done["file_name"]}"'
    assert len(resp.content) == done["bytes"]
    sheet = openpyxl.load_workbook(io.BytesIO(resp.content), read_only=True)["Data"]
    header, *data = list(sheet.iter_rows(values_only=True))
    assert len(data) == len(want)
    direct = rows_of(direct_csv(portal, acme, view).content)
    col, direct_col = {n: i for i, n in enumerate(header)}, {n: i for i, n in enumerate(direct[0])}
    assert [r[col["order_id"]] for r in data] == [r[direct_col["order_id"]] for r in direct[1:]], "same rows, same order as the direct download"
    assert [r[col["units"]] for r in data] == [int(r[direct_col["units"]]) for r in direct[1:]], "units stay numbers"
    assert {r[col["order_id"]] for r in data} == set(want.order_id)
    assert job["id"] in [j["id"] for j in listed(portal, acme)]


def test_csv_job_equals_the_direct_download(portal, acme, sales_p001):
    view = "country=DE&units__gt=3&_nocol=sku&_sort_desc=revenue"
    first = started(portal, acme, view + "&_format=csv&_dialect=excel")
    second = started(portal, acme, "country=SE&_format=csv")
    done = wait_for(portal, acme, first["id"])
    want = sales_p001[(sales_p001.country == "DE") & (sales_p001.units > 3)]
    assert done["status"] == "done" and done["format"] == "csv" and done["dialect"] == "excel"
    assert done["rows_written"] == done["rows_total"] == len(want)
    assert re.fullmatch(r"sales_\d{4}-\d{2}-\d{2}_filtered\.csv", done["file_name"]), done["file_name"]
    resp = download(portal, acme, done)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    direct = direct_csv(portal, acme, view + "&_dialect=excel")
    assert resp.content.startswith(b"\xef\xbb\xbf") and direct.content.startswith(b"\xef\xbb\xbf")
    got, expected = rows_of(resp.content), rows_of(direct.content)
    assert got[0] == expected[0] and "sku" not in got[0]
    assert len(got) - 1 == len(want) and sorted(got[1:]) == sorted(expected[1:])
    revenue = got[0].index("revenue")
    values = [float(r[revenue]) for r in got[1:]]
    assert values == sorted(values, reverse=True)
    # The list is the caller's jobs, newest first.
    wait_for(portal, acme, second["id"])
    items = listed(portal, acme)
    ids = [j["id"] for j in items]
    assert first["id"] in ids and second["id"] in ids
    created = [moment(j["created_at"]) for j in items]
    assert created == sorted(created, reverse=True)


def test_jobs_are_private_to_their_recipient(portal, acme, nordic):
    job = wait_for(portal, acme, started(portal, acme, "country=SE&_format=csv")["id"])
    assert job["status"] == "done"
    url = f"{portal.base}{JOBS}/{job['id']}"
    is_error(requests.get(url, headers=nordic), 404)
    is_error(requests.get(url + "/file", headers=nordic), 404)
    is_error(requests.delete(url, headers=nordic), 404)
    assert job["id"] not in [j["id"] for j in listed(portal, nordic)]
    # Nordic's attempts changed nothing for acme.
    assert job_of(portal, acme, job["id"])["status"] == "done"
    assert download(portal, acme, job).status_code == 200
    # And without any credentials, nothing at all.
    assert requests.get(url).status_code == 401 and requests.get(portal.base + JOBS).status_code == 401


def test_bad_requests_are_clear_400s(portal, acme):
    before = [j["id"] for j in listed(portal, acme)]
    bad_view = is_error(create(portal, acme, "units__gt=ten&_format=csv"), 400)
    assert bad_view.get("column") == "units" or "units" in bad_view["message"], bad_view
    assert "xlsx" in is_error(create(portal, acme, "country=DE&_format=pdf"), 400)["message"]
    is_error(create(portal, acme, "country=DE"), 400)
    is_error(create(portal, acme, "country=DE&_format=csv&_dialect=tsv"), 400)
    is_error(create(portal, acme, "_format=csv", table=("connected_retail", "retail", "sales_feed")), 404)
    assert create(portal, {}, "_format=csv").status_code == 401
    assert [j["id"] for j in listed(portal, acme)] == before, "refused requests start no job"


def test_a_browser_session_needs_the_form_token_header(portal, tmp_path):
    name = f"jobs_web_{uuid.uuid4().hex[:8]}"
    portal.cli("recipient", "create", name, "--property", "partner_id=P001")
    portal.cli("grant", "wholesale", name)
    path, _ = portal.profile(name, tmp_path / "w.share")
    browser = sign_in(portal, portal.token_of(path), "/shares/wholesale/commerce/sales")
    csrf = csrf_of(browser.page("/shares/wholesale/commerce/sales"))
    web = browser.web
    web.headers["Accept"] = "application/json"  # as a page's script calls the API
    denied = create(portal, {}, "country=DE&_format=csv", session=web)
    assert is_error(denied, 403, "PERMISSION_DENIED")
    assert create(portal, {"X-CSRF-Token": "forged"}, "country=DE&_format=csv", session=web).status_code == 403
    assert web.get(portal.base + JOBS).json()["items"] == [], "a refused request starts no job"
    made = create(portal, {"X-CSRF-Token": csrf}, "country=DE&_format=csv", session=web)
    assert made.status_code == 202, made.text
    job_id = made.json()["id"]
    end = time.monotonic() + 120
    while (job := web.get(f"{portal.base}{JOBS}/{job_id}").json())["status"] not in FINISHED and time.monotonic() < end:
        time.sleep(0.2)
    assert job["status"] == "done"
    assert web.get(urljoin(portal.base, job["download_url"])).status_code == 200, "reading needs no header"
    is_error(web.delete(f"{portal.base}{JOBS}/{job_id}"), 403, "PERMISSION_DENIED")
    assert web.get(f"{portal.base}{JOBS}/{job_id}").json()["status"] == "done"
    gone = web.delete(f"{portal.base}{JOBS}/{job_id}", headers={"X-CSRF-Token": csrf})
    assert gone.status_code == 200 and gone.json()["status"] == "expired"


def test_deleting_a_finished_job_expires_its_file(portal, acme):
    job = wait_for(portal, acme, started(portal, acme, "country=NL&_format=csv")["id"])
    assert job["status"] == "done"
    assert files_of(portal, job["id"]), "the finished file is in <data_dir>/exports"
    assert download(portal, acme, job).status_code == 200
    resp = requests.delete(f"{portal.base}{JOBS}/{job['id']}", headers=acme)
    assert resp.status_code == 200 and resp.json()["status"] == "expired"
    assert files_of(portal, job["id"]) == []
    is_error(requests.get(f"{portal.base}{JOBS}/{job['id']}/file", headers=acme), 410, "RESOURCE_EXPIRED")
    again = job_of(portal, acme, job["id"])
    assert again["status"] == "expired" and again["download_url"] is None
    for action in ("export.jobCreate", "export.jobDownload", "export.jobCancel"):
        assert audited(portal, "acme_foods", action), action


# --- An instance with small limits: Excel refusal, expiry setting, the browser's forms -------------


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp("small-limits")
    (root / "data").mkdir()
    p = Portal(root / "data", free_port(), extra_env={"PORTAL_XLSX_MAX_ROWS": "10", "PORTAL_EXPORT_JOB_ROWS": "1000", "PORTAL_EXPORT_TTL_HOURS": "2"})
    p.cli("demo")
    path, _ = p.profile("acme_foods", root / "acme.share")
    p.token = p.token_of(path)
    p.headers = {"Authorization": f"Bearer {p.token}"}
    p.start()
    yield p
    p.stop()


def test_xlsx_job_over_the_excel_limit_fails_readably(small):
    from deltalake import DeltaTable

    sales = DeltaTable(str(small.data_dir / "demo" / "sales")).to_pandas()
    german = int(((sales.partner_id == "P001") & (sales.country == "DE")).sum())
    failed = wait_for(small, small.headers, started(small, small.headers, "country=DE&_format=xlsx")["id"])
    assert failed["status"] == "failed" and failed["download_url"] is None
    assert "CSV" in failed["error"] or "filter" in failed["error"].lower(), failed["error"]
    assert requests.get(f"{small.base}{JOBS}/{failed['id']}/file", headers=small.headers).status_code != 200
    # CSV has no such limit; finished files live for PORTAL_EXPORT_TTL_HOURS.
    done = wait_for(small, small.headers, started(small, small.headers, "country=DE&_format=csv")["id"])
    assert done["status"] == "done"
    assert done["rows_written"] == done["rows_total"] == german > 10
    lifetime = moment(done["expires_at"]) - moment(done["finished_at"])
    assert abs(lifetime - timedelta(hours=2)) < timedelta(minutes=1), lifetime


def test_table_page_offers_background_jobs_for_large_views(small):
    browser = sign_in(small, small.token, "/exports")
    large = browser.page("/shares/wholesale/commerce/sales?country=DE")
    forms = [f for f in large.all("form") if f.attrs.get("action") == "/exports"]
    assert forms, "a view over PORTAL_EXPORT_JOB_ROWS is prepared in the background"
    assert not [a for a in large.all("a", href=True) if "/export.xlsx" in a.attrs["href"]], "no direct Excel download of a large view"
    tiny = browser.page("/shares/wholesale/commerce/sales?order_id=SO-00-0000000")
    assert [a for a in tiny.all("a", href=True) if "/export.xlsx" in a.attrs["href"]], "a small view downloads at once"
    assert not [f for f in tiny.all("form") if f.attrs.get("action") == "/exports"]
    # Press "Prepare CSV" as it stands on the page.
    [form] = [f for f in forms if form_fields(f).get("format") == "csv"]
    fields = form_fields(form)
    assert fields["csrf"] and fields["share"] == "wholesale" and fields["table"] == "sales"
    before = {j["id"] for j in listed(small, small.headers)}
    resp = browser.post("/exports", fields)
    assert resp.status_code == 303 and urldefrag(resp.headers["location"]).url == "/exports"
    [job_id] = {j["id"] for j in listed(small, small.headers)} - before
    job = job_of(small, small.headers, job_id)
    assert job["format"] == "csv" and job["dialect"] == fields.get("dialect", job["dialect"]) and re.search(r"country(__exact)?=DE", job["view"])
    page = browser.page("/exports")
    item = page.one(data_testid="jobs").one("li", data_job_id=job_id)
    assert "value" in item.one("progress").attrs, "each job shows its progress"
    done = wait_for(small, small.headers, job_id)
    assert done["status"] == "done"
    item = browser.page("/exports").one(data_testid="jobs").one("li", data_job_id=job_id)
    [link] = [a for a in item.all("a", href=True) if "Download" in a.text()]
    got = browser.web.get(urljoin(small.base, link.attrs["href"]))
    assert got.status_code == 200 and got.content == download(small, small.headers, done).content
    # A finished job keeps its bar, full: every row written of the rows it counted.
    bar = item.one("progress")
    assert "max" in bar.attrs, "a finished job knows its total"
    assert float(bar.attrs["value"]) == float(bar.attrs["max"]) == done["rows_total"], "a finished job's bar is full"
    assert audited(small, "acme_foods", "export.jobCreate")


# --- An instance with a big table and one worker: cancel and restart ------------------------------


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """A 2.5 M row table (big enough that its export is still running when we act) on a portal
    that runs one export at a time."""
    root = tmp_path_factory.mktemp("big-exports")
    n = np.arange(BIG_ROWS, dtype=np.int64)
    ids = pa.array(n)
    table = pa.table({
        "n": ids,
        "label": pc.binary_join_element_wise("item-", pc.cast(ids, pa.string()), ""),
        "amount": pa.array(n * 0.25),
        "day": pa.array((n % 365 + (date(2026, 1, 1) - date(1970, 1, 1)).days).astype(np.int32)).cast(pa.date32()),
    })
    write_deltalake(str(root / "lines"), table)
    (root / "data").mkdir()
    p = Portal(root / "data", free_port(), extra_env={"PORTAL_EXPORT_WORKERS": "1"})
    p.headers = p.share_new_table("bulk.s.lines", root / "lines", "bulk_reader", root)
    p.token = p.headers["Authorization"].removeprefix("Bearer ")
    p.start()
    yield p
    p.stop()


BULK = ("bulk", "s", "lines")


def running_and_queued(big):
    """Starts an Excel export of every row and, once it runs, a CSV one that must wait."""
    first = started(big, big.headers, "_format=xlsx", table=BULK)
    first = wait_for(big, big.headers, first["id"], statuses=FINISHED | {"running"}, every=0.02)
    assert first["status"] == "running", first
    second = started(big, big.headers, "_format=csv&_dialect=plain", table=BULK)
    assert job_of(big, big.headers, second["id"])["status"] == "queued", "one worker: the second job waits"
    return first, second


def test_cancel_stops_running_and_queued_jobs(big):
    browser = sign_in(big, big.token, "/exports")
    running, queued = running_and_queued(big)
    # The queued one is cancelled from the /exports page...
    item = browser.page("/exports").one(data_testid="jobs").one("li", data_job_id=queued["id"])
    assert item.first("progress") is not None
    [form] = [f for f in item.all("form") if f.attrs.get("action") == f"/exports/{queued['id']}/cancel"]
    resp = browser.post(form.attrs["action"], form_fields(form))
    assert resp.status_code == 303 and urldefrag(resp.headers["location"]).url == "/exports"
    assert job_of(big, big.headers, queued["id"])["status"] == "cancelled"
    # ...the running one through the API.
    resp = requests.delete(f"{big.base}{JOBS}/{running['id']}", headers=big.headers)
    assert resp.status_code == 200 and resp.json()["status"] == "cancelled", resp.text
    assert wait_files_gone(big, running["id"]) == [] and files_of(big, queued["id"]) == []
    for job_id in (running["id"], queued["id"]):
        job = job_of(big, big.headers, job_id)
        assert job["status"] == "cancelled" and job["download_url"] is None
        assert job["rows_written"] < BIG_ROWS
        assert requests.get(f"{big.base}{JOBS}/{job_id}/file", headers=big.headers).status_code != 200
        # Cancelling again changes nothing.
        again = requests.delete(f"{big.base}{JOBS}/{job_id}", headers=big.headers)
        assert again.status_code == 200 and again.json()["status"] == "cancelled"
    assert len(audited(big, "bulk_reader", "export.jobCancel")) >= 2
    assert len(audited(big, "bulk_reader", "export.jobCreate")) >= 2


def test_a_stopping_portal_hands_unfinished_jobs_back_to_the_queue(big):
    running, queued = running_and_queued(big)
    big.proc.terminate()
    try:
        big.proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        big.proc.kill()
        big.proc.wait()
        raise AssertionError("the portal did not stop on SIGTERM while an export was running")
    log = (big.data_dir / "server.log").read_text()
    assert "handed back to the queue" in log, log[-2000:]
    # While no portal runs, both wait in the queue; nothing half-written is left behind.
    for job_id in (running["id"], queued["id"]):
        assert files_of(big, job_id) == [], "no half-written file is left behind"
    big.start()
    # The restarted portal (or, with many replicas, any other) takes them up again from the start.
    resumed = wait_for(big, big.headers, running["id"], statuses=FINISHED | {"running"}, every=0.05)
    assert resumed["status"] == "running" and resumed["error"] is None, resumed
    assert job_of(big, big.headers, queued["id"])["status"] == "queued"
    for job_id in (running["id"], queued["id"]):
        assert requests.delete(f"{big.base}{JOBS}/{job_id}", headers=big.headers).json()["status"] == "cancelled"
    # The restarted portal runs new jobs.
    fresh = wait_for(big, big.headers, started(big, big.headers, "n__lt=100&_format=csv&_dialect=plain", table=BULK)["id"])
    assert fresh["status"] == "done" and fresh["rows_written"] == fresh["rows_total"] == 100
    rows = rows_of(download(big, big.headers, fresh).content)
    assert rows[0] == ["n", "label", "amount", "day"] and sorted(int(r[0]) for r in rows[1:]) == list(range(100))
