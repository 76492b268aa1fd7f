"""An S3 object store on 127.0.0.1 for tests: moto's server mode (``moto_server``), a real HTTP S3 endpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from etl.airflow_stack import free_port
from etl.harness import stop_process

#: moto accepts any credentials; the point is that they travel the S3 client's usual way (environment).
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "pantau-test", "AWS_SECRET_ACCESS_KEY": "pantau-test-secret", "AWS_DEFAULT_REGION": "us-east-1"}


@dataclass(frozen=True)
class ObjectStore:
    endpoint: str
    bucket: str

    @property
    def env(self) -> dict[str, str]:
        """The settings that put Pantau's landing and staging in this store."""
        return {
            **CREDENTIALS,
            "PANTAU_STORAGE_URL": f"s3://{self.bucket}/pantau",
            "PANTAU_STORAGE_OPTIONS": json.dumps({"endpoint_url": self.endpoint}),
        }

    def keys(self) -> list[str]:
        """Every object key in the bucket, sorted, read with a client of its own (not Pantau's)."""
        import s3fs

        fs = s3fs.S3FileSystem(key=CREDENTIALS["AWS_ACCESS_KEY_ID"], secret=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                               endpoint_url=self.endpoint, skip_instance_cache=True)
        return sorted(path.split("/", 1)[1] for path in fs.find(self.bucket))


@contextmanager
def s3_server(bucket: str = "pantau-test") -> Iterator[ObjectStore]:
    """Start ``moto_server`` on a free loopback port with an empty ``bucket``; stop it on exit."""
    port = free_port()
    binary = Path(sys.executable).with_name("moto_server")
    process = subprocess.Popen([str(binary), "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **CREDENTIALS})
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.put(f"{endpoint}/{bucket}", timeout=2).raise_for_status()
                break
            except requests.RequestException:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto_server did not start on port {port} (exit code {process.poll()})") from None
                time.sleep(0.2)
        yield ObjectStore(endpoint, bucket)
    finally:
        stop_process(process)
