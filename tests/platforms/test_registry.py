"""Every registered platform is whole: a source, a parser, an emulator, fixtures, a GX-valid sample and a pool."""

from __future__ import annotations

import inspect
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from etl.platforms import PLATFORMS, get_platform, platform_pools, resolve
from etl.quality import validate_frame
from etl.sources.frames import iter_frames

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DAY = date(2026, 11, 20)
AS_OF = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize("name", list(PLATFORMS))
def test_the_source_is_declared_with_its_connection(name: str) -> None:
    platform = get_platform(name)
    source = resolve(platform.source)
    assert inspect.isclass(source) and callable(source.extract)
    assert platform.conn_id and platform.default_base_url.startswith("https://")
    assert platform.base_env.isupper() and platform.secret_env.isupper()
    assert platform.pool == f"{name}_api" and platform.pool_slots >= 1 and platform.default_budget > 0


@pytest.mark.parametrize("name", list(PLATFORMS))
def test_the_emulator_is_what_the_sandbox_mounts(name: str) -> None:
    from etl.sandbox.server import SandboxServer

    emulator = resolve(get_platform(name).emulator)
    accounts = Path(__file__).resolve().parents[2] / "registry" / "sandbox" / "accounts.csv"
    server = SandboxServer(accounts_csv=accounts, api_key="k")
    mounted = {type(server.youtube), type(server.x), type(server.graph), type(server.tiktok)}
    assert emulator in mounted


@pytest.mark.parametrize("name", list(PLATFORMS))
def test_the_sample_parses_into_frames_that_pass_every_suite(name: str) -> None:
    """tests/fixtures/<platform>/sample.jsonl: landed lines of documented answers, every row valid."""
    sample = FIXTURES / name / "sample.jsonl"
    lines = [json.loads(line) for line in sample.read_text(encoding="utf-8").splitlines() if line.strip()]
    frames = get_platform(name).parse(lines, DAY, AS_OF)
    sizes = {}
    accounts = {}
    for frame, df in iter_frames(frames):
        if frame == "post_deletions":
            continue
        # The pipeline adds the registry's account key before the gate; here every platform account is registered.
        if frame == "post_metrics":
            df.insert(0, "account_key", "sample-account")
        else:
            accounts.update({a: f"key-{a}" for a in df["platform_account_id"]})
            df.insert(0, "account_key", df["platform_account_id"].map(accounts))
        checked = validate_frame(frame, df, max_bad_share=0.0, source=f"{name} sample")
        assert checked.quarantined.empty, checked.quarantined[["failed_expectations", "parse_issue"]].to_dict("records")
        sizes[frame] = len(checked.valid)
    assert sizes["account_snapshots"] >= 1 and sizes["posts"] >= 1 and sizes["post_metrics"] == sizes["posts"]


def test_every_platform_has_a_fixtures_folder_with_a_readme() -> None:
    for name in PLATFORMS:
        folder = FIXTURES / name
        assert (folder / "README.md").is_file(), f"tests/fixtures/{name}/README.md"
        assert len(list(folder.glob("*.json"))) >= 2, f"tests/fixtures/{name} needs recorded payloads"


def test_one_pool_per_platform_sized_in_the_registry() -> None:
    assert platform_pools() == {"youtube_api": 4, "x_api": 2, "instagram_api": 2, "facebook_api": 2, "tiktok_api": 2}


def test_an_unknown_platform_is_named_with_the_registered_ones() -> None:
    with pytest.raises(ValueError, match=r"^no platform 'mastodon'; registered: youtube, x, instagram, facebook, tiktok$"):
        get_platform("mastodon")


@pytest.mark.parametrize("name", list(PLATFORMS))
def test_the_export_formats_are_the_platforms_and_each_has_a_fixture(name: str) -> None:
    """etl/platforms/<platform>/export.py: every format is the platform's, and tests/fixtures/<platform>/exports/ holds a
    file of each (with a README saying where its column names come from)."""
    from etl.platforms import export_formats
    from etl.sources.exports import detect_format, read_export

    formats = get_platform(name).export_formats()
    assert formats and {f.platform for f in formats} == {name}
    folder = FIXTURES / name / "exports"
    assert (folder / "README.md").exists()
    seen = set()
    for path in folder.iterdir():
        if path.name == "README.md" or path.name == "not_an_export.csv":
            continue
        seen.add(detect_format(read_export(path.name, path.read_bytes()), export_formats(name)).format.name)
    assert seen == {f.name for f in formats}
