"""Where landing and staging files live: a local folder on one machine, or an object store every worker shares.

One setting, PANTAU_STORAGE_URL, names the root: a local path (the embedded
default, ``<PANTAU_DATA_DIR>``), ``file://...``, or an fsspec URL such as
``s3://pantau`` (MinIO or S3; ``gs://`` with gcsfs installed). Options for the
file system (e.g. ``{"endpoint_url": "http://minio:9000"}``) come as JSON in
PANTAU_STORAGE_OPTIONS; credentials come the store's usual way
(AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY for S3), never from a URL.

Tasks hand each other *locations* (strings: a path or a URL), so the next
task may run on another machine; :func:`locate` turns one back into a path
with the configured options. Paths are universal_pathlib ``UPath`` objects,
the library Airflow's ``ObjectStoragePath`` is built on.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pandas as pd
from upath import UPath


def storage_options() -> dict[str, Any]:
    """The file-system options of PANTAU_STORAGE_OPTIONS (a JSON object); a clear error for anything else."""
    text = os.environ.get("PANTAU_STORAGE_OPTIONS") or ""
    try:
        options = json.loads(text) if text.strip() else {}
    except ValueError:
        options = None
    if not isinstance(options, dict):
        raise ValueError("setting PANTAU_STORAGE_OPTIONS must be a JSON object, e.g. {\"endpoint_url\": \"http://minio:9000\"}")
    return options


def storage_root(url: str) -> UPath:
    """The storage root for ``url`` (a local path or an fsspec URL), with the configured options for remote stores."""
    return locate(url)


def locate(location: str) -> UPath:
    """A location handed over by another task, as a path on the configured storage."""
    if "://" in location and not location.startswith("file://"):
        return UPath(location, **storage_options())
    return UPath(location)


def is_local(path: UPath) -> bool:
    return isinstance(path, os.PathLike)


def write_text(path: UPath, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        fh.write(text)


def read_text(path: UPath) -> str:
    with path.open("r", encoding="utf-8") as fh:
        return fh.read()


def write_parquet(df: pd.DataFrame, path: UPath) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        df.to_parquet(fh, index=False)


def read_parquet(path: UPath) -> pd.DataFrame:
    with path.open("rb") as fh:
        return pd.read_parquet(fh)
