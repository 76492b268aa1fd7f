"""The sandbox HTTP server: platform APIs over synthetic data, plus control endpoints.

Control endpoints (no key needed, not counted in stats):

* ``GET  /__sandbox/clock``  -> ``{"now": iso8601}``
* ``POST /__sandbox/clock``  ``{"now": "2025-01-31T18:00:00Z"}`` (aware; ``null`` = real time)
* ``GET  /__sandbox/stats``  -> :attr:`SandboxServer.stats`
* ``GET  /__sandbox/faults`` / ``POST /__sandbox/faults`` ``{"youtube.status_burst": {...}, ...}``
  (merged; a ``null`` value switches that fault off; ``{"clear": true}`` clears all)
* ``POST /__sandbox/reset``  zeroes request counts and quota counters (not faults, not the clock)
"""

from __future__ import annotations

import csv
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgspec

from etl.platforms import PLATFORMS
from etl.platforms.youtube.emulator import BASE_PATH, YouTubeApi, _decode_token, key_expired_body, status_error_body

from . import API_KEY
from .mounted import ENDPOINT_HEADER
from .youtube_data import DEFAULT_CAMPAIGN_HASHTAGS, YouTubeUniverse

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/json; charset=UTF-8"
_CHANNEL_ID = re.compile(r"^UC[A-Za-z0-9_-]{22}$")


class AccountsError(ValueError):
    """The accounts CSV cannot be used; the message names file, row and field."""


def load_youtube_channels(accounts_csv: Path) -> dict[str, str]:
    """Channel id -> handle for the ``platform == "youtube"`` rows of the CSV."""
    channels: dict[str, str] = {}
    with Path(accounts_csv).open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"platform", "platform_account_id"} - set(reader.fieldnames or ())
        if missing:
            raise AccountsError(f"{accounts_csv}: missing column(s) {sorted(missing)}")
        for line, row in enumerate(reader, start=2):
            if (row.get("platform") or "").strip().lower() != "youtube":
                continue
            cid = (row.get("platform_account_id") or "").strip()
            if not _CHANNEL_ID.match(cid):
                raise AccountsError(
                    f"{accounts_csv}:{line}: account {row.get('account_key')!r}: "
                    f"platform_account_id {cid!r} is not a channel id ('UC' + 22 chars)"
                )
            channels[cid] = (row.get("handle") or "").strip().lstrip("@")
    return channels


def load_platform_accounts(accounts_csv: Path, platform: str) -> dict[str, str]:
    """Platform account id -> handle for the rows of ``platform`` (X, Instagram, Facebook, TikTok)."""
    accounts: dict[str, str] = {}
    with Path(accounts_csv).open(newline="", encoding="utf-8") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            if (row.get("platform") or "").strip().lower() != platform:
                continue
            account_id = (row.get("platform_account_id") or "").strip()
            if not account_id:
                raise AccountsError(f"{accounts_csv}:{line}: account {row.get('account_key')!r}: no platform_account_id")
            accounts[account_id] = (row.get("handle") or "").strip().lstrip("@")
    return accounts


def load_platform_layers(accounts_csv: Path, platform: str) -> dict[str, tuple[str, int]]:
    """Platform account id -> (agency code, layer) for the rows of ``platform``; rows without a readable layer are left out."""
    layers: dict[str, tuple[str, int]] = {}
    with Path(accounts_csv).open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if (row.get("platform") or "").strip().lower() != platform:
                continue
            account_id, agency, layer = ((row.get(c) or "").strip() for c in ("platform_account_id", "agency_code", "layer"))
            if account_id and agency and layer.isdigit():
                layers[account_id] = (agency, int(layer))
    return layers


FAULT_PLATFORMS = (*PLATFORMS, "gdelt", "feeds")
FAULT_SWITCHES = (
    "status_burst", "slow_seconds", "slow_count", "truncate_count", "hide_likes_ratio", "token_expired", "delete_between_pages",
    "hostile_text",
)
#: Switches only one emulated API has.
PLATFORM_FAULT_SWITCHES = {"facebook": ("removed_fields", "time_paging")}
#: Switches that serve a recorded answer (status, body) in place of the platform's own: every social platform has it.
ANSWER_SWITCH = "answer"


@dataclass(frozen=True)
class SandboxRequest:
    """One request as a mounted API sees it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


class Faults(MutableMapping[str, Any]):
    """Thread-safe fault switches, all off by default.

    Keys (``youtube.`` prefix shown; X, Instagram, Facebook and TikTok have the same switches under
    their own prefix, plus ``token_expired`` and ``delete_between_pages``: see :mod:`etl.sandbox.mounted`):

    * ``youtube.status_burst``: ``{"status": 429|500|503, "count": N, "retry_after": s|None}``
      - the next N YouTube requests get that status and a Google error body
      (plus ``Retry-After`` when given), then service is normal again.
    * ``youtube.slow_seconds`` (float) with ``youtube.slow_count`` (int): sleep that
      long before answering each of the next ``slow_count`` requests.
    * ``youtube.truncate_count`` (int): the next N 200 bodies are cut in half. Each fault takes requests of its
      own: a burst answer is not also slow, a slow answer (which a client may time out on) is not also cut.
    * ``youtube.hide_likes_ratio`` (float): overrides the universe's ratio of
      videos without ``likeCount``.
    * ``youtube.answer`` (every platform): ``{"status": 403, "body": {...} or "text", "count": N,
      "endpoint": "youtube.channels" or None, "headers": {...}}`` - the next N requests (to that endpoint)
      get this answer as recorded (a platform's error shapes: tests/fixtures/<platform>/), then service is
      normal again. A string body goes out as text/html.
    * ``facebook.time_paging`` (true): ``published_posts`` pages by time, as Meta does on some edges:
      ``paging.next`` carries ``until`` and ``__paging_token``, with no ``cursors``.
    * ``facebook.removed_fields`` (list of field names): the Graph API answers
      every request asking for one of them as a newer version that no longer
      has it does: 400 code 100 "(#100) Tried accessing nonexisting field (shares)
      on node type (Post)".

    Faulted requests (burst, slow, truncated) cost no quota.
    """

    #: Every emulated API has the same switches under its own prefix.
    KNOWN = frozenset(
        [f"{p}.{s}" for p in FAULT_PLATFORMS for s in FAULT_SWITCHES]
        + [f"{p}.{s}" for p, switches in PLATFORM_FAULT_SWITCHES.items() for s in switches]
        + [f"{p}.{ANSWER_SWITCH}" for p in PLATFORMS]
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        with self._lock:
            return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if key not in self.KNOWN:
            raise KeyError(f"unknown fault {key!r}; known: {sorted(self.KNOWN)}")
        value = self._validate(key, value)
        with self._lock:
            if value is None:
                self._data.pop(key, None)
            else:
                self._data[key] = value

    def __delitem__(self, key: str) -> None:
        with self._lock:
            del self._data[key]

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            return iter(list(self._data))

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def snapshot(self) -> dict[str, Any]:
        """A JSON-able copy of the active faults."""
        with self._lock:
            return json.loads(json.dumps(self._data))

    @staticmethod
    def _validate(key: str, value: Any) -> Any:
        if value is None:
            return None
        if key.endswith(".status_burst"):
            if not isinstance(value, Mapping):
                raise ValueError(f"{key} must be an object")
            status = int(value.get("status", 503))
            if status != 429 and not 500 <= status <= 599:
                raise ValueError(f"{key}.status must be 429 or 5xx, got {status}")
            retry = value.get("retry_after")
            return {
                "status": status,
                "count": int(value.get("count", 1)),
                "retry_after": None if retry is None else int(retry),
            }
        if key.endswith((".slow_count", ".truncate_count", ".delete_between_pages", ".hostile_text")):
            return int(value)
        if key.endswith((".token_expired", ".time_paging")):
            return bool(value) or None
        if key.endswith(f".{ANSWER_SWITCH}"):
            if not isinstance(value, Mapping) or "body" not in value:
                raise ValueError(f"{key} must be an object with a body")
            return {
                "status": int(value.get("status", 400)), "body": value["body"], "count": int(value.get("count", 1)),
                "endpoint": value.get("endpoint"), "headers": dict(value.get("headers") or {}),
            }
        if key.endswith(".removed_fields"):
            if isinstance(value, str) or not isinstance(value, list | tuple) or not all(isinstance(f, str) and f for f in value):
                raise ValueError(f"{key} must be a list of field names, got {value!r}")
            return list(dict.fromkeys(value)) or None
        return float(value)

    def answer(self, platform: str, endpoint: str) -> tuple[int, dict[str, str], bytes] | None:
        """Consume one ``<platform>.answer`` for this request, if it applies to ``endpoint``: (status, headers, body)."""
        key = f"{platform}.{ANSWER_SWITCH}"
        with self._lock:
            fault = self._data.get(key)
            if not fault or fault["count"] <= 0 or fault["endpoint"] not in (None, endpoint):
                return None
            fault["count"] -= 1
            if fault["count"] <= 0:
                del self._data[key]
        body = fault["body"]
        if isinstance(body, str):
            return fault["status"], {"Content-Type": "text/html; charset=utf-8", **fault["headers"]}, body.encode("utf-8")
        return fault["status"], fault["headers"], json.dumps(body, ensure_ascii=False).encode("utf-8")

    def take(self, platform: str) -> dict[str, Any]:
        """Consume this request's faults: returns ``burst`` / ``slow`` / ``truncate``."""
        out: dict[str, Any] = {}
        with self._lock:
            burst = self._data.get(f"{platform}.status_burst")
            if burst and burst["count"] > 0:
                burst["count"] -= 1
                out["burst"] = dict(burst)
                return out  # an error answer is not also slowed or truncated
            slow_n = self._data.get(f"{platform}.slow_count", 0)
            if slow_n > 0:
                self._data[f"{platform}.slow_count"] = slow_n - 1
                out["slow"] = self._data.get(f"{platform}.slow_seconds", 0.0)
                # The client gives up on a slow answer; a truncation spent on it would be served to nobody, at a
                # moment that depends on the client's timeout, so each fault takes a request of its own.
                return out
            trunc = self._data.get(f"{platform}.truncate_count", 0)
            if trunc > 0:
                self._data[f"{platform}.truncate_count"] = trunc - 1
                out["truncate"] = True
        return out


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "PantauSandbox/1"
    # An answer (headers and body) is buffered and sent in one write when the handler ends, not one write for the
    # headers and one for the body: a send is a system call and a loopback segment on the two cores the pipeline
    # shares. The buffer holds the largest page (50 pretty-printed videos, ~100 KB); larger bodies go out in two.
    wbufsize = 512 * 1024
    # With Nagle on, a keep-alive client would wait ~40 ms for an answer's last segment.
    disable_nagle_algorithm = True

    # The default handler logs the request line, which carries ?key=...
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("%s %s -> %s", self.command, urlsplit(self.path).path, code)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        log.debug("sandbox http: %s", urlsplit(self.path).path if hasattr(self, "path") else "")

    def do_GET(self) -> None:  # noqa: N802
        self.server.sandbox._dispatch(self, "GET")

    def do_POST(self) -> None:  # noqa: N802
        self.server.sandbox._dispatch(self, "POST")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    sandbox: SandboxServer


class SandboxServer:
    """Local HTTP server that emulates the platform APIs (YouTube Data API v3 so far).

    ``campaign_hashtags`` (default ``["SandboxBerAKSI"]``) are the hashtags that
    ~10% of synthetic videos carry; pass the registry's campaign tags to make
    campaign indicators light up.
    """

    def __init__(
        self,
        accounts_csv: Path,
        seed: int = 7,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = API_KEY,
        youtube_daily_quota: int = 10_000,
        *,
        campaign_hashtags: list[str] | None = None,
        deleted_ratio: float = 0.01,
        hide_likes_ratio: float = 0.05,
        latency_seconds: float = 0.0,
    ) -> None:
        channels = load_youtube_channels(Path(accounts_csv))
        self.seed = seed
        #: Added before every API answer (not the control endpoints): a real API's round trip, for benchmarks.
        self.latency_seconds = latency_seconds
        self.universe = YouTubeUniverse(
            list(channels),
            seed,
            handles=channels,
            campaign_hashtags=campaign_hashtags or list(DEFAULT_CAMPAIGN_HASHTAGS),
            deleted_ratio=deleted_ratio,
            hide_likes_ratio=hide_likes_ratio,
        )
        self.faults = Faults()
        self._lock = threading.Lock()
        self._clock: datetime | None = None
        self._requests: dict[str, int] = {}
        self._statuses: dict[str, dict[str, int]] = {}
        self._faults_served: dict[str, int] = {}
        #: API requests being answered now, and the most at once since the last reset: the calls a client had in flight.
        self._in_flight = 0
        self._in_flight_max = 0
        #: Video ids sent in complete 200 videos.list answers: the YouTube posts a client could have read
        #: (the mounted APIs keep the same in their ``served``).
        self.youtube_served: set[str] = set()
        self.youtube_deleted: set[str] = set()  # videos removed by youtube.delete_between_pages
        self.youtube = YouTubeApi(
            self.universe,
            {api_key},
            youtube_daily_quota,
            clock=self.now,
            hide_likes_ratio=lambda: self.faults.get("youtube.hide_likes_ratio"),
        )
        self._mounts: list[tuple[str, Callable[[SandboxRequest], tuple[int, Mapping[str, str], bytes]]]] = []
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._warming = threading.Event()  # set: a warm-up stops
        self._host, self._port = host, port
        self._mount_social_apis(Path(accounts_csv), seed, api_key, campaign_hashtags, deleted_ratio, hide_likes_ratio)
        from .news import NewsApi  # noqa: PLC0415 - news feeds and GDELT DOC 2.0
        self.news = NewsApi(faults=self.faults, clock=self.now, count_fault=self._count_fault)
        self.news.mount_on(self)

    def _mount_social_apis(
        self, accounts_csv: Path, seed: int, token: str, hashtags: list[str] | None, deleted_ratio: float, hide_likes_ratio: float
    ) -> None:
        """X, the Graph API (Instagram, Facebook) and TikTok over the CSV's accounts of each platform."""
        from etl.platforms.graph.emulator import GRAPH_VERSIONS, GraphApi  # noqa: PLC0415 - keeps this module's import light
        from etl.platforms.tiktok.emulator import TikTokApi  # noqa: PLC0415
        from etl.platforms.x.emulator import XApi  # noqa: PLC0415

        from .social_data import SocialUniverse  # noqa: PLC0415

        def universe(platform: str, private_ratio: float, **kw: Any) -> SocialUniverse:
            return SocialUniverse(
                platform, load_platform_accounts(accounts_csv, platform), seed, campaign_hashtags=hashtags or list(DEFAULT_CAMPAIGN_HASHTAGS),
                deleted_ratio=deleted_ratio, hide_likes_ratio=hide_likes_ratio, private_ratio=private_ratio, **kw,
            )

        shared = {"tokens": {token}, "faults": self.faults, "clock": self.now, "count_fault": self._count_fault}
        # Only X serves reposts and quotes: its universe knows each account's agency and layer.
        self.x = XApi(universe("x", 0.02, layers=load_platform_layers(accounts_csv, "x")), **shared)
        self.graph = GraphApi(universe("instagram", 0.0), universe("facebook", 0.02), **shared)
        self.tiktok = TikTokApi(universe("tiktok", 0.02), **shared)
        self.mount("/2", self.x)
        for version in GRAPH_VERSIONS:  # the Graph API version is a setting of the sources
            self.mount(f"/{version}", self.graph)
        self.mount("/v2", self.tiktok)

    # ------------------------------------------------------------ lifecycle
    def start(self) -> SandboxServer:
        """Bind and serve in a background thread."""
        httpd = _HTTPServer((self._host, self._port), _Handler)
        httpd.sandbox = self
        self._httpd = httpd
        self._thread = threading.Thread(
            # A short poll keeps stop() (and so every test teardown) fast.
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="pantau-sandbox",
            daemon=True,
        )
        self._thread.start()
        log.info(
            "sandbox listening on %s (%d youtube channels)",
            self.base_url,
            len(self.universe.channel_ids),
        )
        return self

    def warm(self, days: int) -> threading.Thread:
        """Start :meth:`YouTubeUniverse.warm` for the sandbox's present in a background thread (stopped by :meth:`stop`)."""
        self._warming.clear()
        thread = threading.Thread(target=self.universe.warm, args=(self.now(), days, self._warming), name="pantau-sandbox-warm",
                                  daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._warming.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start() if self._httpd is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (after :meth:`start`)."""
        if self._httpd is None:
            raise RuntimeError("sandbox not started")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running server."""
        return f"http://{self._host}:{self.port}"

    # ---------------------------------------------------------------- clock
    def set_clock(self, dt: datetime | None) -> None:
        """Freeze the sandbox clock at ``dt`` (aware); None returns to real time."""
        if dt is not None and (dt.tzinfo is None or dt.utcoffset() is None):
            raise ValueError("set_clock needs a timezone-aware datetime")
        with self._lock:
            self._clock = dt

    def now(self) -> datetime:
        """The sandbox's current time."""
        with self._lock:
            return self._clock or datetime.now(UTC)

    # ---------------------------------------------------------------- stats
    @property
    def stats(self) -> dict[str, Any]:
        """Copy of the counters::

        {"requests": {"youtube.channels": 3, ...},          # every API request received
         "statuses": {"youtube.channels": {"200": 2, "400": 1}},
         "faults_served": {"youtube.status_burst": 2, "youtube.slow": 0, ...},
         "in_flight_max": 4,                                  # most API requests answered at once
         "quota": {"key-<sha256[:12]>": {"2025-01-31": 5}},  # Pacific day -> units
         "quota_limit": {"youtube": 10000}, "clock": iso8601}
        """
        with self._lock:
            return {
                "requests": dict(self._requests),
                "statuses": {k: dict(v) for k, v in self._statuses.items()},
                "faults_served": dict(self._faults_served),
                "in_flight_max": self._in_flight_max,
                "quota": self.youtube.quota_snapshot(),
                "quota_limit": {"youtube": self.youtube.daily_quota},
                "clock": (self._clock or datetime.now(UTC)).isoformat(),
            }

    def quota_used(self, api_key: str = API_KEY, day: str | None = None) -> int:
        """Units ``api_key`` used on a Pacific day (default: the sandbox's today)."""
        return self.youtube.quota_used(api_key, day or self.youtube.quota_day(self.now()))

    def reset(self) -> None:
        """Zero request counts and quota counters."""
        with self._lock:
            self._requests.clear()
            self._statuses.clear()
            self._faults_served.clear()
            self._in_flight_max = self._in_flight
        self.youtube.reset_quota()

    # ------------------------------------------------------------- dispatch
    def mount(self, prefix: str, app: Callable[[SandboxRequest], tuple[int, Mapping[str, str], bytes]]) -> None:
        """Serve every path under ``prefix`` (e.g. ``/2`` for X) with ``app``; used by each emulated API."""
        self._mounts.append((prefix.rstrip("/"), app))

    def _dispatch(self, handler: _Handler, method: str) -> None:
        split = urlsplit(handler.path)
        api = not split.path.startswith("/__sandbox/")
        if api:
            with self._lock:
                self._in_flight += 1
                self._in_flight_max = max(self._in_flight_max, self._in_flight)
        try:
            mounted = next(
                (app for prefix, app in self._mounts if split.path == prefix or split.path.startswith(prefix + "/")), None
            )
            if self.latency_seconds and api:
                time.sleep(self.latency_seconds)  # each request has its own thread: calls in flight overlap
            if mounted is not None:
                length = int(handler.headers.get("Content-Length") or 0)
                request = SandboxRequest(
                    method, split.path, parse_qs(split.query), dict(handler.headers.items()), handler.rfile.read(length) if length else b""
                )
                status, headers, body = mounted(request)
                headers = dict(headers)
                # A mounted API names its endpoint (e.g. "x.user_tweets") for the stats; the client never sees it.
                endpoint = headers.pop(ENDPOINT_HEADER, None) or request.path.split("/")[1] or "root"
                self._count(endpoint, status)
                self._send(handler, status, headers, body)
            elif split.path.startswith("/__sandbox/"):
                status, headers, body = self._control(handler, method, split.path)
                self._send(handler, status, headers, _dumps(body))
            elif split.path == BASE_PATH or split.path.startswith(BASE_PATH + "/"):
                self._youtube(handler, method, split.path, parse_qs(split.query))
            else:
                self._send(
                    handler,
                    404,
                    {},
                    _dumps({"error": {"code": 404, "message": "Not Found", "status": "NOT_FOUND"}}),
                )
        except (BrokenPipeError, ConnectionResetError):
            log.info("client went away during %s", split.path)
        except Exception:
            # One bad request must not kill the server thread; log without the query.
            log.exception("sandbox failed on %s %s", method, split.path)
            self._send(handler, 500, {}, _dumps(status_error_body(500)))
        finally:
            if api:
                with self._lock:
                    self._in_flight -= 1

    def _youtube(
        self, handler: _Handler, method: str, path: str, query: dict[str, list[str]]
    ) -> None:
        endpoint = self.youtube.endpoint_name(path)
        recorded = self.faults.answer("youtube", endpoint)
        if recorded is not None:
            self._count(endpoint, recorded[0], "youtube.answer")
            self._send(handler, *recorded)
            return
        faults = self.faults.take("youtube")
        headers: dict[str, str] = {}
        if "burst" in faults:
            burst = faults["burst"]
            status, body = burst["status"], _dumps(status_error_body(burst["status"]))
            if burst["retry_after"] is not None:
                headers["Retry-After"] = str(burst["retry_after"])
            self._count(endpoint, status, "youtube.status_burst")
            self._send(handler, status, headers, body)
            return
        if "slow" in faults:
            self._count_fault("youtube.slow")
            time.sleep(float(faults["slow"]))
        if self.faults.get("youtube.token_expired"):
            status, body = 400, _dumps(key_expired_body())
            self._count(endpoint, status)
            self._send(handler, status, headers, body)
            return
        if endpoint == "youtube.playlistItems":
            self._maybe_delete_video((query.get("pageToken") or [""])[0])
        if method != "GET":
            status, body = 405, _dumps({"error": {"code": 405, "message": "Method Not Allowed"}})
            self._count(endpoint, status)
            self._send(handler, status, headers, body)
            return
        (status, extra, payload), charged_day = self.youtube.handle(path, query)
        if charged_day is not None and faults:
            self.youtube.refund((query.get("key") or [""])[0], charged_day)
        headers.update(extra)
        # Google's standard parameter prettyPrint=false asks for compact JSON (pretty-printed by default).
        body = msgspec.json.encode(payload) if query.get("prettyPrint") == ["false"] else _dumps(payload)
        if faults.get("truncate") and status == 200:
            body = body[: len(body) // 2]
            self._count_fault("youtube.truncate")
        elif status == 200 and endpoint == "youtube.videos":
            with self._lock:
                self.youtube_served.update(str(item["id"]) for item in payload.get("items", []) if "id" in item)
        self._count(endpoint, status)
        self._send(handler, status, headers, body)

    def _maybe_delete_video(self, token: str) -> None:
        """``youtube.delete_between_pages``: the last video of the previous uploads page vanishes before this one."""
        key = "youtube.delete_between_pages"
        decoded = _decode_token(token) if token else None
        with self._lock:
            left = int(self.faults.get(key) or 0)
            if left <= 0 or decoded is None:
                return
            self.faults[key] = left - 1 if left > 1 else None
            self.youtube.universe.removed.add(decoded[1])
            self.youtube_deleted.add(decoded[1])
        self._count_fault(key)

    def _count(self, endpoint: str, status: int, fault: str | None = None) -> None:
        with self._lock:
            self._requests[endpoint] = self._requests.get(endpoint, 0) + 1
            per = self._statuses.setdefault(endpoint, {})
            per[str(status)] = per.get(str(status), 0) + 1
            if fault:
                self._faults_served[fault] = self._faults_served.get(fault, 0) + 1

    def _count_fault(self, fault: str) -> None:
        with self._lock:
            self._faults_served[fault] = self._faults_served.get(fault, 0) + 1

    def _control(
        self, handler: _Handler, method: str, path: str
    ) -> tuple[int, dict[str, str], Any]:
        name = path[len("/__sandbox/") :].strip("/")
        try:
            payload = _read_json(handler) if method == "POST" else None
        except ValueError as exc:
            return 400, {}, {"error": f"invalid JSON body: {exc}"}
        if name == "clock":
            if method == "POST":
                raw = (payload or {}).get("now")
                try:
                    self.set_clock(
                        None if raw is None else datetime.fromisoformat(raw.replace("Z", "+00:00"))
                    )
                except (ValueError, AttributeError) as exc:
                    return 400, {}, {"error": f"bad 'now': {exc}"}
            return 200, {}, {"now": self.now().isoformat()}
        if name == "stats" and method == "GET":
            return 200, {}, self.stats
        if name == "faults":
            if method == "POST":
                payload = payload or {}
                if payload.get("clear"):
                    self.faults.clear()
                try:
                    for key, value in payload.items():
                        if key != "clear":
                            self.faults[key] = value
                except (KeyError, ValueError, TypeError) as exc:
                    return 400, {}, {"error": str(exc)}
            return 200, {}, self.faults.snapshot()
        if name == "reset" and method == "POST":
            self.reset()
            return 200, {}, {"ok": True}
        return 404, {}, {"error": f"unknown control endpoint {method} {path}"}

    @staticmethod
    def _send(handler: _Handler, status: int, headers: Mapping[str, str], body: bytes) -> None:
        handler.send_response(status)
        # A mounted API may answer in another type (RSS, plain-text errors); JSON otherwise.
        handler.send_header("Content-Type", headers.get("Content-Type", CONTENT_TYPE))
        handler.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            if k != "Content-Type":
                handler.send_header(k, v)
        handler.end_headers()
        handler.wfile.write(body)


def _dumps(obj: Any) -> bytes:
    # Google pretty-prints with two spaces and sends UTF-8 as is. The standard library pretty-prints in pure Python
    # (its C encoder only writes compact JSON): that was a sixth of the sandbox's CPU in a demo night, on the same
    # two cores as the pipeline it answers. msgspec (pinned, an Airflow dependency) writes the same bytes ~20x
    # faster; only a float's exponent may read 1e16 where json writes 1e+16, the same number.
    return msgspec.json.format(msgspec.json.encode(obj), indent=2)


def _read_json(handler: _Handler) -> dict[str, Any]:
    length = int(handler.headers.get("Content-Length") or 0)
    raw = handler.rfile.read(length) if length else b""
    if not raw.strip():
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data
