"""Platform sources: small declarations on top of the shared HTTP client.

Each platform module exposes ``SPEC`` (a :class:`PlatformSpec`); the pipeline
looks platforms up in :func:`platform_spec` and never names one itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PlatformSpec:
    """How to reach a platform and build its source for one shard."""

    platform: str
    conn_id: str  # Airflow connection holding base URL (host) and secret (password)
    default_base_url: str
    base_env: str  # environment variables for the CLI
    secret_env: str
    daily_budget: int  # calls or quota units a night may spend, before the shard split
    make_source: Callable[..., Any]  # (client, base_url, secret, budget, landing) -> source with .extract(...)
    #: The source checks for the secret itself, per account (TikTok: Display API accounts bring their own tokens).
    secret_checked_by_source: bool = False


#: Every platform with a source, in the order the DAG and the CLI run them.
BUILT_PLATFORMS = ("youtube", "x", "instagram", "facebook", "tiktok")


def platform_spec(platform: str) -> PlatformSpec:
    """The spec of ``platform``; a clear error for a platform without a source."""
    from etl.sources import facebook, instagram, tiktok, x, youtube  # noqa: PLC0415 - avoid import cycles

    specs = {spec.platform: spec for spec in (youtube.SPEC, x.SPEC, instagram.SPEC, facebook.SPEC, tiktok.SPEC)}
    try:
        return specs[platform]
    except KeyError:
        raise ValueError(f"no source for platform {platform!r}; built: {', '.join(sorted(specs))}") from None
