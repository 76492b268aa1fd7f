"""The sandbox's YouTube Data API v3 emulation, over real HTTP on loopback."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from etl.platforms.youtube.emulator import key_fingerprint
from etl.sandbox.server import SandboxServer

KEY = "sbxkey-demo"
SEED = 7
JKT = ZoneInfo("Asia/Jakarta")
NOW = datetime(2025, 6, 15, 12, 0, tzinfo=JKT)
CHANNELS = [f"UCsandboxtest{i:011d}" for i in range(4)]
REPO = Path(__file__).resolve().parents[3]


def _h(*parts: object) -> int:
    # Re-derived from the documented rules, independent of the module.
    raw = "|".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.sha256(raw).digest()[:8], "big")


def _videos_on(seed: int, channel: str, day: date) -> list[datetime]:
    """Publish times of a channel's videos on a Jakarta day, by the rule."""
    d = hashlib.sha256(f"{seed}|day|{channel}|{day.isoformat()}".encode()).digest()
    midnight = datetime.combine(day, datetime.min.time(), JKT)
    return [
        midnight + timedelta(seconds=int.from_bytes(d[1 + 4 * i : 5 + 4 * i], "big") % 86400)
        for i in range(d[0] % 4)
    ]


@pytest.fixture()
def accounts_csv(tmp_path: Path) -> Path:
    lines = [
        "account_key,agency_code,platform,handle,platform_account_id,layer,active_from,active_to,note"
    ]
    for i, cid in enumerate(CHANNELS):
        lines.append(f"yt-{i},K{i:02d},youtube,@agency{i},{cid},0,2024-01-01,,")
    lines.append("x-0,K00,x,agency0,123456,0,2024-01-01,,not youtube")
    path = tmp_path / "accounts.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture()
def server(accounts_csv: Path) -> Iterator[SandboxServer]:
    with SandboxServer(accounts_csv, seed=SEED) as srv:
        srv.set_clock(NOW)
        yield srv


def get(srv: SandboxServer, resource: str, **params: Any) -> requests.Response:
    params.setdefault("key", KEY)
    resp = requests.get(f"{srv.base_url}/youtube/v3/{resource}", params=params, timeout=10)
    assert resp.headers["Content-Type"] == "application/json; charset=UTF-8"
    return resp


def all_uploads(srv: SandboxServer, channel: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    token = None
    while True:
        params: dict[str, Any] = {
            "part": "contentDetails,snippet",
            "maxResults": 50,
            "playlistId": "UU" + channel[2:],
        }
        if token:
            params["pageToken"] = token
        body = get(srv, "playlistItems", **params).json()
        items += body["items"]
        token = body.get("nextPageToken")
        if not token:
            return items


def test_same_seed_same_numbers_across_instances(accounts_csv: Path) -> None:
    bodies = []
    for seed in (SEED, SEED, SEED + 1):
        with SandboxServer(accounts_csv, seed=seed) as srv:
            srv.set_clock(NOW)
            channels = get(
                srv, "channels", part="snippet,statistics,contentDetails", id=",".join(CHANNELS)
            ).json()
            ids = [i["contentDetails"]["videoId"] for i in all_uploads(srv, CHANNELS[0])][:50]
            videos = get(
                srv, "videos", part="snippet,statistics,contentDetails", id=",".join(ids)
            ).json()
            bodies.append((channels, videos))
    assert bodies[0] == bodies[1]
    assert bodies[0][0]["items"][0]["statistics"] != bodies[2][0]["items"][0]["statistics"]


def test_a_warmed_sandbox_answers_as_a_cold_one(accounts_csv: Path) -> None:
    # The demo's sandbox works out its videos ahead, at its own present (a later day than the nights asked for),
    # and on a separate thread while it answers: only when the work is done may change, never an answer.
    bodies = []
    for warm_days in (0, 40):
        with SandboxServer(accounts_csv, seed=SEED) as srv:
            srv.set_clock(NOW + timedelta(days=5))
            if warm_days:
                srv.warm(warm_days).join(timeout=60)
                warmed = srv.universe._static.cache_info().currsize
            srv.set_clock(NOW)
            channels = get(srv, "channels", part="snippet,statistics,contentDetails", id=",".join(CHANNELS)).json()
            uploads = [all_uploads(srv, channel) for channel in CHANNELS]
            ids = [i["contentDetails"]["videoId"] for i in uploads[0]][:50]
            videos = get(srv, "videos", part="snippet,statistics,contentDetails", id=",".join(ids)).json()
            bodies.append((channels, uploads, videos))
    assert bodies[0] == bodies[1]
    assert warmed == sum(len(_videos_on(SEED, c, (NOW + timedelta(days=5 - d)).date())) for c in CHANNELS for d in range(40))


def test_channels_counts_are_strings_and_unknown_ids_absent(server: SandboxServer) -> None:
    unknown = "UC" + "z" * 22
    body = get(
        server,
        "channels",
        part="snippet,statistics,contentDetails",
        id=f"{CHANNELS[0]},{unknown},{CHANNELS[1]}",
    ).json()
    assert body["kind"] == "youtube#channelListResponse"
    assert [i["id"] for i in body["items"]] == [CHANNELS[0], CHANNELS[1]]
    assert body["pageInfo"] == {"totalResults": 2, "resultsPerPage": 2}
    item = body["items"][0]
    stats = item["statistics"]
    for field in ("viewCount", "subscriberCount", "videoCount"):
        assert isinstance(stats[field], str) and stats[field].isdigit()
    assert stats["hiddenSubscriberCount"] is False
    assert item["contentDetails"]["relatedPlaylists"] == {
        "likes": "",
        "uploads": "UU" + CHANNELS[0][2:],
    }
    assert item["snippet"]["customUrl"] == "@agency0"
    # subscribers = int(base * (1 + rate) ** days since 2024-01-01), per the documented rule.
    u = lambda *p: _h(*p) / 2**64  # noqa: E731
    base = int(1000 * 2000 ** u(SEED, "subs", CHANNELS[0]))
    rate = 0.003 * u(SEED, "growth", CHANNELS[0])
    subs = int(base * (1 + rate) ** (NOW.date() - date(2024, 1, 1)).days)
    assert stats["subscriberCount"] == str(subs)
    assert stats["viewCount"] == str(subs * (20 + _h(SEED, "vps", CHANNELS[0]) % 181))


def test_paging_yields_every_upload_once_newest_first(server: SandboxServer) -> None:
    cid = CHANNELS[1]
    items = all_uploads(server, cid)
    ids = [i["contentDetails"]["videoId"] for i in items]
    assert len(ids) == len(set(ids)) > 100
    assert ids == server.universe.uploads(cid, NOW)
    published = [i["contentDetails"]["videoPublishedAt"] for i in items]
    assert published == sorted(published, reverse=True)
    assert all(
        i["snippet"]["resourceId"]["videoId"] == i["contentDetails"]["videoId"] for i in items
    )
    assert [i["snippet"]["position"] for i in items] == list(range(len(items)))
    channel = get(server, "channels", part="statistics", id=cid).json()["items"][0]
    assert channel["statistics"]["videoCount"] == str(len(ids))
    first = get(server, "playlistItems", part="contentDetails", playlistId="UU" + cid[2:]).json()
    assert len(first["items"]) == 5  # Google's default maxResults
    assert first["pageInfo"] == {"totalResults": len(ids), "resultsPerPage": 5}


def test_unknown_playlist_is_404(server: SandboxServer) -> None:
    resp = get(server, "playlistItems", part="contentDetails", playlistId="UU" + "z" * 22)
    assert resp.status_code == 404
    assert resp.json()["error"]["errors"][0]["reason"] == "playlistNotFound"


@pytest.mark.parametrize("resource", ["channels", "videos"])
def test_more_than_50_ids_is_400(server: SandboxServer, resource: str) -> None:
    ids = ",".join(f"UCx{i:021d}" for i in range(51))
    resp = get(server, resource, part="statistics", id=ids)
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == 400
    assert resp.json()["error"]["errors"][0]["reason"] == "invalidFilters"


@pytest.mark.parametrize("key", ["wrong-key", ""])
def test_bad_or_missing_key_is_400_api_key_invalid(server: SandboxServer, key: str) -> None:
    resp = get(server, "channels", part="statistics", id=CHANNELS[0], key=key)
    assert resp.status_code == 400
    err = resp.json()["error"]
    assert err["status"] == "INVALID_ARGUMENT"
    assert err["message"] == "API key not valid. Please pass a valid API key."
    assert err["errors"][0]["reason"] == "badRequest"
    assert err["details"][0]["reason"] == "API_KEY_INVALID"
    assert server.stats["quota"] == {}


def test_quota_exhausts_after_exactly_n_units_per_pacific_day(accounts_csv: Path) -> None:
    with SandboxServer(accounts_csv, seed=SEED, youtube_daily_quota=3) as srv:
        # 06:59 UTC in June is 23:59 PDT: the last minute of a Pacific day.
        srv.set_clock(datetime(2025, 6, 15, 6, 59, tzinfo=UTC))
        for _ in range(3):
            assert get(srv, "channels", part="id", id=CHANNELS[0]).status_code == 200
        resp = get(srv, "videos", part="id", id="abc")
        assert resp.status_code == 403
        err = resp.json()["error"]["errors"][0]
        assert (err["reason"], err["domain"]) == ("quotaExceeded", "youtube.quota")
        assert (
            'exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>' in err["message"]
        )
        assert srv.stats["quota"] == {key_fingerprint(KEY): {"2025-06-14": 3}}
        srv.set_clock(datetime(2025, 6, 15, 7, 0, tzinfo=UTC))  # 00:00 PDT
        assert get(srv, "videos", part="id", id="abc").status_code == 200
        assert srv.quota_used(KEY) == 1
        assert srv.stats["statuses"]["youtube.videos"] == {"403": 1, "200": 1}


def test_clock_moves_metrics_up_and_brings_new_videos(server: SandboxServer) -> None:
    cid = CHANNELS[2]
    day1 = datetime(2025, 6, 15, 23, 59, 59, tzinfo=JKT)
    day2 = day1 + timedelta(days=1)
    server.set_clock(day1)
    newest_first = [i["contentDetails"]["videoId"] for i in all_uploads(server, cid)]
    before = set(newest_first)
    subs1 = int(
        get(server, "channels", part="statistics", id=cid).json()["items"][0]["statistics"][
            "subscriberCount"
        ]
    )
    recent = newest_first[:40]
    v1 = {
        v["id"]: v
        for v in get(server, "videos", part="statistics,snippet", id=",".join(recent)).json()[
            "items"
        ]
    }
    server.set_clock(day2)
    after = {i["contentDetails"]["videoId"] for i in all_uploads(server, cid)}
    subs2 = int(
        get(server, "channels", part="statistics", id=cid).json()["items"][0]["statistics"][
            "subscriberCount"
        ]
    )
    v2 = {
        v["id"]: v
        for v in get(server, "videos", part="statistics", id=",".join(recent)).json()["items"]
    }
    assert subs2 >= subs1
    # Exactly the videos the rule publishes on 2025-06-16 are new (window drops 400 days back).
    expected_new = len(_videos_on(SEED, cid, date(2025, 6, 16)))
    dropped = len(_videos_on(SEED, cid, date(2025, 6, 15) - timedelta(days=399)))
    assert len(after - before) == expected_new
    assert len(before - after) <= dropped + 1  # + a video passing its 72h deletion age
    for vid, v in v1.items():
        if vid not in v2:
            continue
        for field in ("viewCount", "likeCount", "commentCount"):
            if field in v["statistics"]:
                assert int(v2[vid]["statistics"][field]) >= int(v["statistics"][field])
    young = [
        vid
        for vid, v in v1.items()
        if vid in v2
        and day1 - datetime.fromisoformat(v["snippet"]["publishedAt"].replace("Z", "+00:00"))
        < timedelta(days=3)
        and int(v["statistics"]["viewCount"]) > 0
    ]
    assert young, "fixture channel has no video younger than 3 days"
    for vid in young:
        assert int(v2[vid]["statistics"]["viewCount"]) > int(v1[vid]["statistics"]["viewCount"])


def test_hidden_like_counts_and_override(server: SandboxServer) -> None:
    ids = [i["contentDetails"]["videoId"] for i in all_uploads(server, CHANNELS[3])][:250]

    def fetch() -> list[dict[str, Any]]:
        out = []
        for k in range(0, len(ids), 50):
            out += get(server, "videos", part="statistics", id=",".join(ids[k : k + 50])).json()[
                "items"
            ]
        return out

    videos = fetch()
    assert len(videos) == len(ids)
    hidden = [v for v in videos if "likeCount" not in v["statistics"]]
    assert 0 < len(hidden) < len(videos) * 0.2
    assert all(v["statistics"]["favoriteCount"] == "0" for v in videos)
    server.faults["youtube.hide_likes_ratio"] = 1.0
    assert all("likeCount" not in v["statistics"] for v in fetch())
    server.faults["youtube.hide_likes_ratio"] = 0.0
    assert all("likeCount" in v["statistics"] for v in fetch())


def test_deleted_video_disappears_after_72_hours(server: SandboxServer) -> None:
    # Find, by the documented rule, a video that is deletable.
    for cid in CHANNELS:
        for back in range(1, 400):
            day = date(2025, 6, 15) - timedelta(days=back)
            for i, published in enumerate(_videos_on(SEED, cid, day)):  # noqa: B007
                if _h(SEED, "del", cid, day.isoformat(), i) / 2**64 < 0.01:
                    break
            else:
                continue
            break
        else:
            continue
        break
    else:
        pytest.fail("no deletable video in the fixture universe")
    server.set_clock(published + timedelta(hours=71))
    stamp = published.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    vid = next(
        i["contentDetails"]["videoId"]
        for i in all_uploads(server, cid)
        if i["contentDetails"]["videoPublishedAt"] == stamp
    )
    assert len(get(server, "videos", part="id", id=vid).json()["items"]) == 1
    server.set_clock(published + timedelta(hours=72, seconds=1))
    assert get(server, "videos", part="id", id=vid).json()["items"] == []
    assert vid not in {i["contentDetails"]["videoId"] for i in all_uploads(server, cid)}


def test_status_burst_then_recovery(server: SandboxServer) -> None:
    server.faults["youtube.status_burst"] = {"status": 429, "count": 2, "retry_after": 3}
    for _ in range(2):
        resp = get(server, "channels", part="id", id=CHANNELS[0])
        assert resp.status_code == 429
        assert resp.headers["Retry-After"] == "3"
        assert resp.json()["error"]["code"] == 429
    resp = get(server, "channels", part="id", id=CHANNELS[0])
    assert resp.status_code == 200 and "Retry-After" not in resp.headers
    stats = server.stats
    assert stats["requests"] == {"youtube.channels": 3}
    assert stats["statuses"]["youtube.channels"] == {"429": 2, "200": 1}
    assert stats["faults_served"] == {"youtube.status_burst": 2}
    assert server.quota_used(KEY) == 1


def test_503_burst_without_retry_after(server: SandboxServer) -> None:
    server.faults["youtube.status_burst"] = {"status": 503, "count": 1, "retry_after": None}
    resp = get(server, "videos", part="id", id="x")
    assert resp.status_code == 503 and "Retry-After" not in resp.headers
    assert resp.json()["error"]["status"] == "UNAVAILABLE"
    assert get(server, "videos", part="id", id="x").status_code == 200


def test_truncated_body_is_invalid_json_and_free(server: SandboxServer) -> None:
    server.faults["youtube.truncate_count"] = 1
    resp = get(server, "channels", part="snippet", id=CHANNELS[0])
    assert resp.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(resp.content)
    assert get(server, "channels", part="snippet", id=CHANNELS[0]).json()["items"]
    assert server.quota_used(KEY) == 1


def test_slow_fault_delays_next_requests_only(server: SandboxServer) -> None:
    server.faults.update({"youtube.slow_seconds": 0.4, "youtube.slow_count": 1})
    t0 = time.monotonic()
    assert get(server, "videos", part="id", id="x").status_code == 200
    assert time.monotonic() - t0 >= 0.4
    t0 = time.monotonic()
    get(server, "videos", part="id", id="x")
    assert time.monotonic() - t0 < 0.4


def test_control_endpoints(server: SandboxServer) -> None:
    base = server.base_url + "/__sandbox"
    resp = requests.post(f"{base}/clock", json={"now": "2025-07-01T00:00:00Z"}, timeout=5)
    assert resp.status_code == 200 and server.now() == datetime(2025, 7, 1, tzinfo=UTC)
    assert (
        requests.post(f"{base}/clock", json={"now": "2025-07-01T00:00:00"}, timeout=5).status_code
        == 400
    )  # naive times are ambiguous
    resp = requests.post(f"{base}/faults", json={"youtube.truncate_count": 1}, timeout=5)
    assert resp.json() == {"youtube.truncate_count": 1}
    assert requests.post(f"{base}/faults", json={"youtube.nope": 1}, timeout=5).status_code == 400
    assert (
        requests.post(f"{base}/faults", json={"youtube.truncate_count": None}, timeout=5).json()
        == {}
    )
    for _ in range(2):
        get(server, "channels", part="id", id=CHANNELS[0])
    get(server, "videos", part="id", id="x", key="bad")
    stats = requests.get(f"{base}/stats", timeout=5).json()
    assert stats["requests"] == {"youtube.channels": 2, "youtube.videos": 1}
    assert stats["quota"] == {key_fingerprint(KEY): {"2025-06-30": 2}}
    assert stats["clock"] == "2025-07-01T00:00:00+00:00"
    assert KEY not in json.dumps(stats)
    assert requests.post(f"{base}/reset", timeout=5).json() == {"ok": True}
    stats = requests.get(f"{base}/stats", timeout=5).json()
    assert stats["requests"] == {} and stats["quota"] == {}


def test_cli_serves_and_stops_on_sigterm(accounts_csv: Path, tmp_path: Path) -> None:
    port_file = tmp_path / "port"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "etl.sandbox",
            "serve",
            "--accounts",
            str(accounts_csv),
            "--seed",
            str(SEED),
            "--port",
            "0",
            "--port-file",
            str(port_file),
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while not port_file.exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        port = int(port_file.read_text())
        resp = requests.get(
            f"http://127.0.0.1:{port}/youtube/v3/channels",
            params={"part": "id", "id": CHANNELS[0], "key": KEY},
            timeout=5,
        )
        assert [i["id"] for i in resp.json()["items"]] == [CHANNELS[0]]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert KEY.encode() not in err


def test_answers_are_pretty_printed_utf8_as_google_sends_them(server: SandboxServer) -> None:
    """Google's JSON: two-space indents, non-ASCII sent as UTF-8 (not \\u escapes); the parser must read it as it is."""
    ids = [i["contentDetails"]["videoId"] for i in all_uploads(server, CHANNELS[0])][:5]
    raw = get(server, "videos", part="snippet,statistics,contentDetails", id=",".join(ids)).content
    assert raw == json.dumps(json.loads(raw), indent=2, ensure_ascii=False).encode("utf-8")
    assert raw.startswith(b'{\n  "kind": "youtube#videoListResponse",\n')
    compact = get(server, "videos", part="snippet,statistics,contentDetails", id=",".join(ids), prettyPrint="false").content
    assert json.loads(compact) == json.loads(raw)
    assert compact == json.dumps(json.loads(raw), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def test_video_count_follows_the_window_as_it_slides_jumps_and_goes_back() -> None:
    """``videoCount`` is counted without generating ids, and a channel's next window from the days that entered and
    left its last one (issue 11: a first night counted 400 days a channel per call). Each answer equals the uploads
    the playlist would list at that time, whatever order the clock moves in; deleted videos included."""
    from etl.sandbox.youtube_data import YouTubeUniverse

    channels = [f"UC{n:022d}" for n in range(12)]
    counted = YouTubeUniverse(channels, SEED, deleted_ratio=0.2)
    listed = YouTubeUniverse(channels, SEED, deleted_ratio=0.2)
    for days in (0, 1, 2, 2, 9, 400, 3, -1, 30):
        now = NOW + timedelta(days=days)
        assert [counted.upload_count(c, now) for c in channels] == [len(listed.uploads(c, now)) for c in channels], days
    assert len(counted._settled_windows) == len(channels)  # one window a channel is kept, not a count per channel-day
