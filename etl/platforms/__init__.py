"""The platform registry: one line per platform, read by the DAGs, the CLI, the settings, the deployment and the sandbox.

A platform is one folder, ``etl/platforms/<name>/``: ``source.py`` declares
how its API is reached (connection, endpoints, pages, batches) on the shared
SDK in :mod:`etl.sources`; ``parser.py`` turns its landed answers into the
canonical frames; ``emulator.py`` speaks its API in the sandbox (Instagram and
Facebook share Meta's ``graph`` folder); ``export.py`` declares the analytics
export files its owners can download (the file-drop source, on the shared
machinery in :mod:`etl.sources.exports`). Adding a platform is a new folder,
one :data:`PLATFORMS` line and its fixtures in ``tests/fixtures/<name>/``;
``tests/platforms/test_registry.py`` checks each line has every part.

The parts are named here as ``module:attribute`` strings and imported only
when asked for, so reading the registry imports no platform (the DAG files
read it at parse time) and the production code never imports an emulator.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the DAG files read the registry at parse time: keep its import light
    from upath import UPath

    from etl.connections import Endpoint
    from etl.sources.frames import Frames


@dataclass(frozen=True)
class Platform:
    """How one platform is collected, and where its parts live."""

    name: str
    #: Slots of the platform's Airflow pool, ``<name>_api``: how many shards call the API at once.
    pool_slots: int
    #: Calls or quota units a night may spend (all shards together); PANTAU_<NAME>_BUDGET overrides.
    default_budget: int
    source: str  # "module:class" of the source, built per shard with (client, base_url, secret, budget, landing)
    parser: str  # "module:function" reading landing lines into frames
    emulator: str  # "module:class" of the sandbox emulation (the sandbox alone imports it)
    #: "module:attribute" of the platform's analytics export formats (the file-drop source), a tuple of ExportFormat.
    export: str = ""
    #: Calls one shard has in flight at once (etl.sources.concurrency); PANTAU_<NAME>_CONCURRENCY overrides. The budget
    #: guards the night's totals whatever this is; it sets how much API latency a shard hides.
    concurrency: int = 1

    @property
    def pool(self) -> str:
        return f"{self.name}_api"

    def source_module(self) -> ModuleType:
        return importlib.import_module(_module(self.source))

    @property
    def conn_id(self) -> str:
        """The Airflow connection holding the API's base URL (host) and secret (password)."""
        return self.source_module().CONN_ID

    @property
    def default_base_url(self) -> str:
        return self.source_module().DEFAULT_BASE_URL

    @property
    def base_env(self) -> str:
        """Environment variable with the base URL, for the CLI."""
        return self.source_module().BASE_ENV

    @property
    def secret_env(self) -> str:
        """Environment variable with the secret, for the CLI."""
        return self.source_module().SECRET_ENV

    @property
    def secret_checked_by_source(self) -> bool:
        """The source checks for the secret itself, per account (TikTok: Display API accounts bring their own tokens)."""
        return getattr(self.source_module(), "SECRET_CHECKED_BY_SOURCE", False)

    def endpoint(self) -> Endpoint:
        """Base URL and secret of the platform's connection (Airflow connection, else the environment)."""
        from etl.connections import resolve_endpoint  # noqa: PLC0415

        return resolve_endpoint(self.conn_id, default_base_url=self.default_base_url, base_env=self.base_env, secret_env=self.secret_env)

    def make_source(self, *args: Any) -> Any:
        return resolve(self.source)(*args)

    def export_formats(self) -> tuple[Any, ...]:
        """The platform's analytics export formats (:class:`etl.sources.exports.ExportFormat`); none when it has no export."""
        return tuple(resolve(self.export)) if self.export else ()

    def parse(self, lines: Any, snapshot_date: date, captured_at: datetime) -> Frames:
        return resolve(self.parser)(lines, snapshot_date, captured_at)


def _module(reference: str) -> str:
    return reference.partition(":")[0]


def resolve(reference: str) -> Callable[..., Any]:
    """The object a ``module:attribute`` reference names."""
    module, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module), attribute)


def _platforms(*platforms: Platform) -> dict[str, Platform]:
    return {p.name: p for p in platforms}


_P = "etl.platforms"
#: Every platform, in the order the DAG and the CLI run them.
PLATFORMS: dict[str, Platform] = _platforms(
    # Google's default daily quota, in units (PANTAU_YOUTUBE_QUOTA_BUDGET overrides). Google limits quota units, not
    # calls in flight: 8 a shard, the budget takes every unit under one lock, so calls at once never overspend it.
    Platform("youtube", pool_slots=4, default_budget=10_000, concurrency=8, source=f"{_P}.youtube.source:YouTubeSource",
             parser=f"{_P}.youtube.parser:parse_youtube", emulator=f"{_P}.youtube.emulator:YouTubeApi",
             export=f"{_P}.youtube.export:FORMATS"),
    # Requests a night: size it to the plan's 15-minute windows. Each call is counted against its endpoint's window as
    # last reported (x-rate-limit-remaining) before it is sent, so 4 calls at once cannot overrun a window.
    Platform("x", pool_slots=2, default_budget=10_000, concurrency=4, source=f"{_P}.x.source:XSource",
             parser=f"{_P}.x.parser:parse_x", emulator=f"{_P}.x.emulator:XApi",
             export=f"{_P}.x.export:FORMATS"),
    # 200 calls per hour per app user over 24 h. Usage headers stop calls at 90% of Meta's limit; with 4 calls in
    # flight at most 3 more answers arrive after the one that crossed it.
    Platform("instagram", pool_slots=2, default_budget=4_800, concurrency=4, source=f"{_P}.instagram.source:InstagramSource",
             parser=f"{_P}.instagram.parser:parse_instagram", emulator=f"{_P}.graph.emulator:GraphApi",
             export=f"{_P}.instagram.export:FORMATS"),
    # Page rate limits scale with engaged users; the same 90% usage stop and 4 calls in flight as Instagram.
    Platform("facebook", pool_slots=2, default_budget=4_800, concurrency=4, source=f"{_P}.facebook.source:FacebookSource",
             parser=f"{_P}.facebook.parser:parse_facebook", emulator=f"{_P}.graph.emulator:GraphApi",
             export=f"{_P}.facebook.export:FORMATS"),
    # The Research API's 1,000 requests a day (the budget; calls at once never overspend it); the Display API's
    # 600 requests a minute per endpoint are far above 4 calls in flight.
    Platform("tiktok", pool_slots=2, default_budget=1_000, concurrency=4, source=f"{_P}.tiktok.source:TikTokSource",
             parser=f"{_P}.tiktok.parser:parse_tiktok", emulator=f"{_P}.tiktok.emulator:TikTokApi",
             export=f"{_P}.tiktok.export:FORMATS"),
)


def platform_names() -> tuple[str, ...]:
    return tuple(PLATFORMS)


def get_platform(name: str) -> Platform:
    """The registered platform ``name``; a clear error for any other."""
    try:
        return PLATFORMS[name]
    except KeyError:
        raise ValueError(f"no platform {name!r}; registered: {', '.join(PLATFORMS)}") from None


def export_formats(platform: str | None = None) -> tuple[Any, ...]:
    """Every registered export format, or those of ``platform``: what the file-drop source recognises."""
    chosen = [get_platform(platform)] if platform else list(PLATFORMS.values())
    return tuple(f for p in chosen for f in p.export_formats())


def platform_pools() -> dict[str, int]:
    """Airflow pool name -> slots, one per platform: what a deployment must create before the DAGs run."""
    return {p.pool: p.pool_slots for p in PLATFORMS.values()}


def parse_landing(path: Path | UPath, platform: str, snapshot_date: date, captured_at: datetime) -> Frames:
    """Read one landing file of ``platform`` into frames."""
    from etl.landing import read_landing  # noqa: PLC0415

    return get_platform(platform).parse(read_landing(path), snapshot_date, captured_at)
