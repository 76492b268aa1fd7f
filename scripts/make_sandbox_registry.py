#!/usr/bin/env python3
"""Generate registry/sandbox/accounts.csv: synthetic accounts on every platform for the sandbox.

Why: the real registry (registry/accounts.csv) holds only verified handles, and
none are verified yet, so the sandbox API server, the demo, the end-to-end tests
and the benchmark need a stand-in set of accounts that covers every agency.
This script derives that set from registry/agencies.csv, deterministically, so
that every run (and every machine) produces byte-identical output and the
sandbox's synthetic data stays stable across runs.

What it writes, per agency in registry/agencies.csv:
- one official YouTube channel (layer 0), account_key ``youtube:<agency_code>:0``;
- layer 1 (KOL), 2 (white label) and 3 (employee advocacy) channels, account_key
  ``youtube:<agency_code>:<layer>``, for every ministry, every province and
  about 10% of the regencies/cities (chosen by a hash of the agency code).

And layer-0 accounts on X, Instagram, Facebook and TikTok (``<platform>:<agency_code>:0``)
for every ministry, every province and the same ~10% of regencies/cities,
with ids shaped like each platform's (numeric for X/Instagram/Facebook, the
username for TikTok).

Channel ids look like real YouTube ids ("UC" + 22 base64url characters, the
last one in [AQgw] as for a 128-bit id) and are derived from the account_key
with SHA-256, so they are stable and do not depend on row order.

No randomness is used; standard library only.

Usage: python scripts/make_sandbox_registry.py [--registry DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REGISTRY = REPO_ROOT / "registry"

COLUMNS: list[str] = [
    "account_key",
    "agency_code",
    "platform",
    "handle",
    "platform_account_id",
    "layer",
    "active_from",
    "active_to",
    "note",
]
PLATFORM = "youtube"
ACTIVE_FROM = "2020-01-01"
NOTE = "sandbox: synthetic account, not a real handle"
LAYERED_CATEGORIES = frozenset({"kementerian", "provinsi"})
KABKOTA_SAMPLE_MODULUS = 10  # ~1 in 10 kabkota get layers 1-3


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def channel_id(account_key: str) -> str:
    """Return a YouTube-style channel id ("UC" + 22 chars) derived from account_key."""
    tail = base64.urlsafe_b64encode(_digest(account_key)[:16]).decode("ascii").rstrip("=")
    assert len(tail) == 22
    return "UC" + tail


def handle_for(agency_code: str, layer: int) -> str:
    """Return the synthetic handle: @sandbox-<code> for layer 0, with -l<layer> otherwise."""
    slug = agency_code.lower().replace(".", "-")
    return f"@sandbox-{slug}" if layer == 0 else f"@sandbox-{slug}-l{layer}"


def kabkota_sampled(agency_code: str) -> bool:
    """Deterministically pick ~10% of regencies/cities by hashing their code."""
    return int.from_bytes(_digest("sandbox-layers:" + agency_code)[:8], "big") % KABKOTA_SAMPLE_MODULUS == 0


def layers_for(category: str, agency_code: str) -> list[int]:
    if category in LAYERED_CATEGORIES or (category == "kabkota" and kabkota_sampled(agency_code)):
        return [0, 1, 2, 3]
    return [0]


#: Platforms beyond YouTube get official (layer 0) accounts for a subset of agencies, to keep the demo fast.
OTHER_PLATFORMS = ("x", "instagram", "facebook", "tiktok")


def other_platform_id(platform: str, account_key: str) -> str:
    """The platform's own id shape: numeric for X (user id), Instagram (IG user id) and Facebook (page id);
    TikTok's Research API addresses accounts by username, so its id is the username."""
    number = int.from_bytes(_digest(account_key)[:8], "big")
    if platform == "x":
        return str(10**17 + number % (9 * 10**17))
    if platform == "instagram":
        return "178414" + f"{number % 10**11:011d}"
    if platform == "facebook":
        return "1000" + f"{number % 10**11:011d}"
    return other_handle(account_key.split(":")[1])


def other_handle(agency_code: str) -> str:
    # Instagram, X and TikTok names allow letters, digits and underscores (no hyphens).
    return "sandbox_" + agency_code.lower().replace(".", "_").replace("-", "_")


def other_platform_accounts(agencies: Iterable[dict[str, str]]) -> Iterator[dict[str, str]]:
    """Layer-0 accounts on X, Instagram, Facebook and TikTok for ministries, provinces and the sampled kabkota."""
    for platform in OTHER_PLATFORMS:
        for agency in agencies:
            code = agency["agency_code"]
            if layers_for(agency["category"], code) == [0]:
                continue
            key = f"{platform}:{code}:0"
            yield {
                "account_key": key,
                "agency_code": code,
                "platform": platform,
                "handle": "@" + other_handle(code),
                "platform_account_id": other_platform_id(platform, key),
                "layer": "0",
                "active_from": ACTIVE_FROM,
                "active_to": "",
                "note": NOTE,
            }


def read_agencies(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    codes = [r["agency_code"] for r in rows]
    if len(codes) != len(set(codes)):
        raise SystemExit(f"{path}: duplicate agency_code")
    return rows


def sandbox_accounts(agencies: Iterable[dict[str, str]]) -> Iterator[dict[str, str]]:
    for agency in agencies:
        code = agency["agency_code"]
        for layer in layers_for(agency["category"], code):
            key = f"{PLATFORM}:{code}:{layer}"
            yield {
                "account_key": key,
                "agency_code": code,
                "platform": PLATFORM,
                "handle": handle_for(code, layer),
                "platform_account_id": channel_id(key),
                "layer": str(layer),
                "active_from": ACTIVE_FROM,
                "active_to": "",
                "note": NOTE,
            }


def write_csv(path: Path, rows: Iterable[dict[str, str]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Generate registry/sandbox/accounts.csv (synthetic sandbox accounts)."
    )
    parser.add_argument("--registry", type=Path, default=DEFAULT_REGISTRY, help="registry directory")
    parser.add_argument("--out", type=Path, default=None, help="output CSV (default <registry>/sandbox/accounts.csv)")
    args = parser.parse_args(argv)
    out: Path = args.out or args.registry / "sandbox" / "accounts.csv"
    agencies = read_agencies(args.registry / "agencies.csv")
    rows = list(sandbox_accounts(agencies)) + list(other_platform_accounts(agencies))
    keys = [r["account_key"] for r in rows]
    ids = [r["platform_account_id"] for r in rows]
    if len(set(keys)) != len(keys) or len(set(ids)) != len(ids):
        raise SystemExit("duplicate account_key or platform_account_id")
    n = write_csv(out, rows)
    print(f"wrote {n} sandbox accounts to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
