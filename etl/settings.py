"""Settings from the environment, in one place, with the defaults documented in the README."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from etl.errors import DeterministicError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(DeterministicError, ValueError):
    """A PANTAU_* setting that cannot be used."""


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value) if value else default


def _int(name: str, default: int, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(f"setting {name} must be an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise SettingsError(f"setting {name} must be at least {minimum}, got {number}; unset it for the default {default}")
    return number


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise SettingsError(f"setting {name} must be a number, got {value!r}") from None


@dataclass(frozen=True)
class Settings:
    """Every knob of a run; read once per task with :func:`load_settings`."""

    data_dir: Path
    registry_dir: Path
    accounts_file: Path
    warehouse_url: str | None
    repull_days: int
    shard_size: int
    youtube_quota_budget: int
    http_timeout: float
    http_max_attempts: int
    max_quarantine_share: float
    #: Root of landing and staging for the social pipeline: a local path or an object-store URL (etl/storage.py).
    storage_url: str
    #: Where operators drop platform analytics exports, one folder per platform (PANTAU_DROPBOX_DIR).
    dropbox_dir: Path

    def budget_for(self, platform: str, default: int) -> int:
        """The night's rate budget of ``platform``: PANTAU_<PLATFORM>_BUDGET, else the platform's default."""
        if platform == "youtube":
            return self.youtube_quota_budget
        return _int(f"PANTAU_{platform.upper()}_BUDGET", default)

    def concurrency_for(self, platform: str, default: int) -> int:
        """Calls one shard of ``platform`` has in flight at once: PANTAU_<PLATFORM>_CONCURRENCY, else the registry's."""
        return _int(f"PANTAU_{platform.upper()}_CONCURRENCY", default, minimum=1)

    def monthly_read_cap(self, platform: str) -> int | None:
        """Posts ``platform`` may read per calendar month (PANTAU_<PLATFORM>_MONTHLY_READ_CAP); None = no cap."""
        cap = _int(f"PANTAU_{platform.upper()}_MONTHLY_READ_CAP", 0)
        return cap or None

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    @property
    def staging_dir(self) -> Path:
        return self.data_dir / "staging"

    @property
    def storage(self) -> Any:
        """The storage root (a ``UPath``): landing/ and staging/ live under it, on every worker alike."""
        from etl.storage import storage_root  # noqa: PLC0415 - keeps settings light for the DAG files

        return storage_root(self.storage_url)

    @property
    def default_warehouse_url(self) -> str:
        return f"duckdb:///{self.data_dir / 'warehouse.duckdb'}"


def load_settings() -> Settings:
    """Read the PANTAU_* environment variables (see README, "Settings")."""
    data_dir = _path("PANTAU_DATA_DIR", PROJECT_ROOT / "data")
    registry_dir = _path("PANTAU_REGISTRY_DIR", PROJECT_ROOT / "registry")
    return Settings(
        data_dir=data_dir,
        registry_dir=registry_dir,
        accounts_file=_path("PANTAU_ACCOUNTS_FILE", registry_dir / "accounts.csv"),
        warehouse_url=os.environ.get("WAREHOUSE_URL") or None,
        repull_days=_int("PANTAU_REPULL_DAYS", 30),
        shard_size=_int("PANTAU_SHARD_SIZE", 250, minimum=1),
        youtube_quota_budget=_int("PANTAU_YOUTUBE_QUOTA_BUDGET", 10_000),
        http_timeout=_float("PANTAU_HTTP_TIMEOUT", 30.0),
        http_max_attempts=_int("PANTAU_HTTP_MAX_ATTEMPTS", 5, minimum=1),
        max_quarantine_share=_float("PANTAU_MAX_QUARANTINE_SHARE", 0.5),
        storage_url=os.environ.get("PANTAU_STORAGE_URL") or str(data_dir),
        dropbox_dir=_path("PANTAU_DROPBOX_DIR", data_dir / "dropbox"),
    )
