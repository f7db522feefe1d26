"""Real object-store servers for the tests, started on 127.0.0.1: s3s-fs (S3, verifies SigV4 like
S3) and Azurite (Azure Blob, verifies SAS). Each knows the environment a portal (or delta-rs)
needs to reach it, and writes Delta tables into it with Python `deltalake`."""
import re
import shutil
import subprocess
import time
from pathlib import Path

import requests

from conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
AZURITE = ROOT / "node_modules/azurite/dist/src/blob/main.js"
# Azurite's fixed development account (public, documented by Microsoft).
AZURE_ACCOUNT = "devstoreaccount1"
AZURE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


class S3:
    """s3s-fs serving `root`: a bucket is a directory under it."""

    scheme = "s3"
    access_key = "AKIAPORTALTEST"
    secret_key = "portal-test-secret-9f3c1e"

    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = open(root.parent / "s3s-fs.log", "w")
        self.proc = subprocess.Popen(
            ["s3s-fs", "--host", "127.0.0.1", "--port", str(self.port), "--access-key", self.access_key, "--secret-key", self.secret_key, str(root)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        _wait(lambda: requests.get(self.endpoint, timeout=1), self.proc, "s3s-fs")

    @property
    def env(self):
        """The standard AWS variables, and nothing else, as a deployment would set them."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ALLOW_HTTP": "true",
        }

    @property
    def secrets(self):
        return [self.secret_key]

    def bucket(self, name):
        (self.root / name).mkdir(exist_ok=True)
        return f"s3://{name}"

    def writer_options(self):
        return {**self.env, "AWS_S3_ALLOW_UNSAFE_RENAME": "true"}

    def copy_in(self, local_table: Path, url: str):
        """Puts a table (e.g. a Spark-written one) into the store as it is, file for file."""
        bucket, _, key = url.removeprefix("s3://").partition("/")
        shutil.copytree(local_table, self.root / bucket / key)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


class Azure:
    """Azurite, in memory."""

    scheme = "az"

    def __init__(self, workdir: Path):
        self.log = open(workdir / "azurite.log", "w")
        self.proc = subprocess.Popen(
            ["node", str(AZURITE), "--blobHost", "127.0.0.1", "--blobPort", "0", "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry"],
            cwd=workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.time() + 30
        self.port = None
        while time.time() < deadline and self.port is None:
            line = self.proc.stdout.readline()
            if not line and self.proc.poll() is not None:
                raise AssertionError("azurite exited")
            self.log.write(line)
            found = re.search(r"listens on http://127\.0\.0\.1:(\d+)", line)
            if found:
                self.port = int(found.group(1))
        assert self.port, "azurite did not say where it listens"
        self.endpoint = f"http://127.0.0.1:{self.port}/{AZURE_ACCOUNT}"

    @property
    def env(self):
        return {
            "AZURE_STORAGE_ACCOUNT_NAME": AZURE_ACCOUNT,
            "AZURE_STORAGE_ACCOUNT_KEY": AZURE_KEY,
            "AZURE_STORAGE_ENDPOINT": self.endpoint,
            "AZURE_ALLOW_HTTP": "true",
        }

    @property
    def secrets(self):
        return [AZURE_KEY]

    def bucket(self, name):
        from azure.storage.blob import BlobServiceClient

        conn = f"DefaultEndpointsProtocol=http;AccountName={AZURE_ACCOUNT};AccountKey={AZURE_KEY};BlobEndpoint={self.endpoint};"
        BlobServiceClient.from_connection_string(conn).create_container(name)
        return f"az://{name}"

    def writer_options(self):
        return dict(self.env)

    def copy_in(self, local_table: Path, url: str):
        from azure.storage.blob import BlobServiceClient

        container, _, prefix = url.removeprefix("az://").partition("/")
        conn = f"DefaultEndpointsProtocol=http;AccountName={AZURE_ACCOUNT};AccountKey={AZURE_KEY};BlobEndpoint={self.endpoint};"
        client = BlobServiceClient.from_connection_string(conn).get_container_client(container)
        for path in sorted(local_table.rglob("*")):
            if path.is_file():
                with open(path, "rb") as f:
                    client.upload_blob(f"{prefix}/{path.relative_to(local_table).as_posix()}", f)

    def stop(self):
        # Azurite takes its time over SIGTERM.
        self.proc.kill()
        self.proc.wait(timeout=10)


def _wait(probe, proc, name):
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            probe()
            return
        except requests.ConnectionError:
            if proc.poll() is not None:
                raise AssertionError(f"{name} exited")
            time.sleep(0.1)
    raise AssertionError(f"{name} did not start listening")

