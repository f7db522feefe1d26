"""Export jobs writing to an object-store `export_location` (the shared storage of many replicas):
the file is uploaded when complete and downloaded straight from the store by a redirect to a
short-lived pre-signed URL; deleting the job deletes the object."""
import time

import pyarrow as pa
import pytest
import requests
from deltalake import write_deltalake

from conftest import Portal, free_port
from stores import S3, Azure

ROWS = 5_000


def wait_done(portal, headers, job_id):
    deadline = time.monotonic() + 120
    while True:
        job = requests.get(f"{portal.base}/api/v1/exports/{job_id}", headers=headers).json()
        if job["status"] not in ("queued", "running"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


@pytest.mark.parametrize("kind", ["s3", "azure"])
def test_exports_go_to_the_store_and_download_by_redirect(kind, tmp_path):
    if kind == "s3":
        (tmp_path / "objects").mkdir()
        store = S3(tmp_path / "objects")
    else:
        store = Azure(tmp_path)
    try:
        location = store.bucket("exports") + "/portal"
        write_deltalake(str(tmp_path / "table"), pa.table({"n": list(range(ROWS)), "label": [f"row {i}" for i in range(ROWS)]}))
        (tmp_path / "data").mkdir()
        portal = Portal(tmp_path / "data", free_port(), extra_env={**store.env, "PORTAL_EXPORT_LOCATION": location})
        headers = portal.share_new_table("out.s.rows", tmp_path / "table", "reader", tmp_path)
        portal.start()
        try:
            created = requests.post(f"{portal.base}/api/v1/shares/out/schemas/s/tables/rows/exports?_format=csv&_dialect=plain", headers=headers)
            assert created.status_code == 202, created.text
            job = wait_done(portal, headers, created.json()["id"])
            assert job["status"] == "done" and job["rows_written"] == ROWS, job
            answer = requests.get(job["download_url"], headers=headers, allow_redirects=False)
            assert answer.status_code == 303, answer.text
            signed = answer.headers["location"]
            assert signed.startswith(f"http://127.0.0.1:{store.port}/") and job["file_name"] in signed
            assert not any(secret in signed for secret in store.secrets), "the store's key never leaves the server"
            # Nothing of the file went through or stayed on the portal's disk.
            assert not [p for p in (tmp_path / "data").rglob("*") if job["id"] in p.name]
            body = requests.get(signed)
            assert body.status_code == 200
            lines = body.content.decode().splitlines()
            assert lines[0] == "n,label" and len(lines) == ROWS + 1 and lines[-1].split(",")[0] == str(ROWS - 1)
            # Deleting the finished job deletes the object: the signed URL then finds nothing.
            gone = requests.delete(f"{portal.base}/api/v1/exports/{job['id']}", headers=headers)
            assert gone.status_code == 200 and gone.json()["status"] == "expired"
            assert requests.get(signed).status_code == 404
            assert requests.get(job["download_url"], headers=headers, allow_redirects=False).status_code == 410
        finally:
            portal.stop()
    finally:
        store.stop()
