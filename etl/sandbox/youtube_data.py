"""Deterministic synthetic YouTube universe used by the sandbox server.

Everything here is a pure function of ``(seed, channel id, date, now)`` so two
sandbox instances with the same seed agree on every number, and tests can
hand-compute expectations from the rules below without running a server.

Rules (kept in one place so other engineers can reproduce them):

* ``_h(*parts)`` = first 8 bytes (big-endian) of ``sha256("|".join(map(str, parts)))``;
  ``_u(*parts)`` = ``_h(*parts) / 2**64`` in ``[0, 1)``. ``seed`` is always the first part.
* Days are Asia/Jakarta calendar days. A channel has history for at most
  ``history_days`` (400) days: the Jakarta dates ``today - 399 .. today`` where
  ``today`` is the Jakarta date of ``now``, and never before the channel's creation date.
* Videos of channel ``c`` on day ``d``: ``D = sha256(f"{seed}|day|{c}|{d.isoformat()}")``
  (32 bytes); ``n = D[0] % 4``; video ``i`` (0..n-1) is published at Jakarta
  midnight of ``d`` plus ``int.from_bytes(D[1+4i:5+4i]) % 86400`` seconds. Its
  11-char id encodes (channel tag, day, i) with a 24-bit check
  ``int.from_bytes(D[13+3i:16+3i])``, so any instance can resolve it. A video
  exists when ``publishedAt <= now``, its day is in the window and it is not deleted.
  Uploads are ordered by ``(publishedAt, video_id)`` descending.
* Deleted: ``now - publishedAt > 72h`` and
  ``_u(seed, "del", c, d.isoformat(), i) < deleted_ratio`` (0.01); such a video
  is absent from ``uploads`` and ``video`` returns None.
* Metrics: ``final_views = int(subscribers(c, publishedAt) * reach(seed, vid))``, a share of the
  channel's audience when it posted (``reach``: ``10 ** (-1.7 + 1.4 * _u(seed, "fv", vid))``, 2-50%),
  so engagement grows with the audience (about 1-30 per 1,000 subscribers per video);
  ``views = int(final_views * (1 - exp(-age_hours / 36)))`` (age clamped at 0);
  ``likes = int(views * (0.01 + 0.07 * _u(seed, "lr", vid)))``;
  ``comments = int(views * (0.001 + 0.009 * _u(seed, "cr", vid)))``.
  likeCount is absent when ``_u(seed, "hide", vid) < hide_likes_ratio`` (0.05);
  commentCount is absent when ``_u(seed, "nocmt", vid) < comments_disabled_ratio`` (0.03).
* Campaign: a video carries ``#<tag>`` at the end of its title and description when
  ``_u(seed, "camp", vid) < campaign_ratio`` (0.10); the tag is
  ``campaign_hashtags[_h(seed, "camptag", vid) % len(campaign_hashtags)]``.
* Channel: ``base = int(1000 * 2000 ** _u(seed, "subs", c))`` (1k..2M),
  ``rate = 0.003 * _u(seed, "growth", c)`` per day,
  ``subscribers = int(base * (1 + rate) ** max(0, (today - 2024-01-01).days))``,
  ``viewCount = subscribers * (20 + _h(seed, "vps", c) % 181)``,
  ``videoCount = len(uploads(c, now))``; created on
  ``2010-01-01 + _h(seed, "created", c) % 3653`` days at
  ``_h(seed, "created_t", c) % 86400`` seconds after Jakarta midnight.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from .social_data import _h, _u, engagement_draws, rfc3339

JAKARTA = ZoneInfo("Asia/Jakarta")
HISTORY_DAYS = 400
SUBSCRIBER_ANCHOR = date(2024, 1, 1)
CHANNEL_EPOCH = date(2010, 1, 1)
DAY_EPOCH = date(2000, 1, 1)
_DAY = timedelta(days=1)
DELETE_AFTER = timedelta(hours=72)
VIEW_HALF_LIFE_HOURS = 36.0
DEFAULT_CAMPAIGN_HASHTAGS: tuple[str, ...] = ("SandboxBerAKSI",)

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_B64_INDEX = {ch: i for i, ch in enumerate(_B64)}
_MASK40 = (1 << 40) - 1
_MASK22 = (1 << 22) - 1

_TOPICS = (
    "Bantuan Sosial",
    "Pelayanan Publik",
    "Transformasi Digital",
    "Ketahanan Pangan",
    "UMKM Naik Kelas",
    "Imunisasi Anak",
    "Infrastruktur Desa",
    "Pendidikan Vokasi",
    "Reformasi Birokrasi",
    "Pencegahan Stunting",
    "Energi Terbarukan",
    "Literasi Keuangan",
)
_PLACES = (
    "Jakarta",
    "Surabaya",
    "Medan",
    "Makassar",
    "Kupang",
    "Jayapura",
    "Pontianak",
    "Denpasar",
    "Bandung",
    "Yogyakarta",
    "Palembang",
    "Manado",
)
_TEMPLATES = (
    "Sosialisasi {topic} di {place}",
    "Rapat Koordinasi {topic} Tahun {year}",
    "LIVE: Konferensi Pers {topic}",
    "Kunjungan Kerja ke {place}: {topic}",
    "Penyaluran {topic} Tahap {n}",
    "Webinar {topic} bersama Warga {place}",
    "Sorotan Pekan Ini: {topic}",
    "Tanya Jawab Seputar {topic}",
)
_TAG_WORDS = (
    "pemerintah",
    "indonesia",
    "layananpublik",
    "berita",
    "informasi",
    "kebijakan",
    "pembangunan",
    "masyarakat",
    "desa",
    "digital",
)


@cache
def _iso_day(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat()


def iso8601_duration(seconds: int) -> str:
    """YouTube-style duration (``PT1H2M3S``; zero parts are omitted)."""
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    out = "PT"
    if h:
        out += f"{h}H"
    if m:
        out += f"{m}M"
    if s or out == "PT":
        out += f"{s}S"
    return out


@dataclass(frozen=True, slots=True)
class _VideoSeed:
    video_id: str
    channel_id: str
    day: date
    index: int
    published: datetime  # aware, UTC
    deletable: bool  # deleted once older than 72h


@dataclass(frozen=True, slots=True)
class _VideoStatic:
    title: str
    description: str
    tags: tuple[str, ...]
    published_at: str  # RFC 3339
    channel_title: str
    duration: str  # ISO 8601
    final_views: int
    hide_draw: float  # likeCount is hidden when this is below the hide-likes ratio
    like_rate: float
    comment_rate: float | None  # None: comments disabled


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")


class YouTubeUniverse:
    """The synthetic channels and videos known to the sandbox.

    ``handles`` maps channel id to the account handle (used for titles and
    ``customUrl``). Ratios are fractions in [0, 1]; see the module docstring
    for how each is applied.
    """

    def __init__(
        self,
        channel_ids: Iterable[str],
        seed: int,
        *,
        handles: Mapping[str, str] | None = None,
        campaign_hashtags: Iterable[str] = DEFAULT_CAMPAIGN_HASHTAGS,
        campaign_ratio: float = 0.10,
        deleted_ratio: float = 0.01,
        hide_likes_ratio: float = 0.05,
        comments_disabled_ratio: float = 0.03,
        history_days: int = HISTORY_DAYS,
    ) -> None:
        self.seed = int(seed)
        self.channel_ids: tuple[str, ...] = tuple(dict.fromkeys(channel_ids))
        self._known = frozenset(self.channel_ids)
        self.handles = {k: v.lstrip("@") for k, v in (handles or {}).items() if v}
        self.campaign_hashtags = tuple(t.lstrip("#") for t in campaign_hashtags)
        if not self.campaign_hashtags:
            raise ValueError("campaign_hashtags must not be empty")
        self.campaign_ratio = campaign_ratio
        self.deleted_ratio = deleted_ratio
        #: Videos removed by the ``youtube.delete_between_pages`` fault, on top of the rule-based deletions.
        self.removed: set[str] = set()
        self.hide_likes_ratio = hide_likes_ratio
        self.comments_disabled_ratio = comments_disabled_ratio
        self.history_days = history_days
        # The 22-bit channel tag inside video ids lets video() find the channel
        # without having generated the uploads first (e.g. in a fresh process).
        self._by_tag: dict[int, list[str]] = {}
        for cid in self.channel_ids:
            self._by_tag.setdefault(self._channel_tag(cid), []).append(cid)
        # Per-instance caches (not on the class) so the universe can be dropped.
        # ~1.5 videos/day: 2**18 days covers 700 channels x 370 days.
        # Bounded: 2**17 days is a 30-day crawl of ~4,000 channels, or the demo's 75-day warm-up (warm) of its
        # 1,032; the per-window counts below avoid materialising the whole 400 days.
        self._day = lru_cache(maxsize=2**17)(self._compute_day)
        self._channel_static = lru_cache(maxsize=None)(self._compute_channel_static)
        #: Each channel's last counted window of settled days: (first, last, videos).
        self._settled_windows: dict[str, tuple[date, date, int]] = {}
        # What a video is apart from its age (id resolution, text, rates): a night re-reads the last 30 days'
        # videos, so the nights after the first hash only the new day's. 2**17 is ~30 days of ~2,800 channels.
        self._resolve = lru_cache(maxsize=2**17)(self._decode_video_id)
        self._static = lru_cache(maxsize=2**17)(self._compute_video_static)

    # ----------------------------------------------------------------- ids
    @staticmethod
    def _channel_tag(channel_id: str) -> int:
        return _h("tag", channel_id) & _MASK22

    def _encode_video_id(self, channel_id: str, day: date, index: int, check: int) -> str:
        day_no = (day - DAY_EPOCH).days
        payload = (self._channel_tag(channel_id) << 18) | (day_no << 2) | index
        value = (check << 40) | (payload ^ (_h(self.seed, "mask", check) & _MASK40))
        # 64 bits -> 11 base64url chars, like real ids (last char from a 16-char set).
        bits = value << 2
        return "".join(_B64[(bits >> (6 * (10 - k))) & 63] for k in range(11))

    def _decode_video_id(self, video_id: str) -> tuple[str, date, int] | None:
        if len(video_id) != 11 or any(ch not in _B64_INDEX for ch in video_id):
            return None
        bits = 0
        for ch in video_id:
            bits = (bits << 6) | _B64_INDEX[ch]
        if bits & 3:
            return None
        value = bits >> 2
        check = value >> 40
        payload = (value & _MASK40) ^ (_h(self.seed, "mask", check) & _MASK40)
        tag, day_no, index = payload >> 18, (payload >> 2) & 0xFFFF, payload & 3
        day = DAY_EPOCH + timedelta(days=day_no)
        for cid in self._by_tag.get(tag, ()):
            digest, n = self._day_layout(cid, day)
            if (
                index < n
                and int.from_bytes(digest[13 + 3 * index : 16 + 3 * index], "big") == check
            ):
                return cid, day, index
        return None

    # ---------------------------------------------------------------- days
    def _day_layout(self, channel_id: str, day: date) -> tuple[bytes, int]:
        digest = hashlib.sha256(f"{self.seed}|day|{channel_id}|{day.isoformat()}".encode()).digest()
        return digest, digest[0] % 4

    def _deletable(self, channel_id: str, day: date, index: int) -> bool:
        return _u(self.seed, "del", channel_id, day.isoformat(), index) < self.deleted_ratio

    def _compute_day(self, channel_id: str, day: date) -> tuple[_VideoSeed, ...]:
        """Videos of one channel on one Jakarta day, newest first."""
        digest, n = self._day_layout(channel_id, day)
        if n == 0:
            return ()
        midnight = datetime.combine(day, time(0), JAKARTA)
        seeds = []
        for i in range(n):
            second = int.from_bytes(digest[1 + 4 * i : 5 + 4 * i], "big") % 86400
            check = int.from_bytes(digest[13 + 3 * i : 16 + 3 * i], "big")
            seeds.append(
                _VideoSeed(
                    video_id=self._encode_video_id(channel_id, day, i, check),
                    channel_id=channel_id,
                    day=day,
                    index=i,
                    published=(midnight + timedelta(seconds=second)).astimezone(UTC),
                    deletable=self._deletable(channel_id, day, i),
                )
            )
        seeds.sort(key=lambda s: (s.published, s.video_id), reverse=True)
        return tuple(seeds)

    def _settled(self, channel_id: str, first: date, last: date) -> int:
        """Videos that exist on days first..last, for days whose videos are all
        older than 72h whatever ``now`` is on a later day; no ids needed.

        A channel's window slides a day a night: its last window and count are kept, and a window overlapping it is
        counted from the days that entered and left it. A first night counts each channel's 400 days once (it was a
        quarter of the sandbox's work in a national night, issue 11), without keeping a count per channel-day.
        """
        kept = self._settled_windows.get(channel_id)
        if kept is None or kept[1] < first or last < kept[0]:
            total = self._settled_span(channel_id, first, last)
        else:
            kept_first, kept_last, total = kept
            total += self._settled_span(channel_id, first, kept_first - _DAY) - self._settled_span(channel_id, kept_first, first - _DAY)
            total += self._settled_span(channel_id, kept_last + _DAY, last) - self._settled_span(channel_id, last + _DAY, kept_last)
        self._settled_windows[channel_id] = (first, last, total)
        return total

    def _settled_span(self, channel_id: str, first: date, last: date) -> int:
        """Videos of days first..last (none when last < first) that are never deleted: the strings
        :meth:`_day_layout` and :meth:`_deletable` hash, built once per channel instead of once per video."""
        day_prefix, deleted_prefix = f"{self.seed}|day|{channel_id}|", f"{self.seed}|del|{channel_id}|"
        total = 0
        for ordinal in range(first.toordinal(), last.toordinal() + 1):
            iso = _iso_day(ordinal)
            for index in range(hashlib.sha256(f"{day_prefix}{iso}".encode()).digest()[0] % 4):
                drawn = hashlib.sha256(f"{deleted_prefix}{iso}|{index}".encode()).digest()
                total += not int.from_bytes(drawn[:8], "big") / 2**64 < self.deleted_ratio
        return total

    def _window(self, channel_id: str, now: datetime) -> tuple[date, date]:
        today = now.astimezone(JAKARTA).date()
        created = self._channel_static(channel_id)["created"].astimezone(JAKARTA).date()
        first = max(today - timedelta(days=self.history_days - 1), created)
        return first, today

    def _alive(self, seed: _VideoSeed, now: datetime) -> bool:
        return self._exists(seed, now) and seed.video_id not in self.removed

    @staticmethod
    def _exists(seed: _VideoSeed, now: datetime) -> bool:
        return seed.published <= now and not (
            seed.deletable and now - seed.published > DELETE_AFTER
        )

    # ------------------------------------------------------------ channels
    def _compute_channel_static(self, channel_id: str) -> dict[str, object]:
        created_day = CHANNEL_EPOCH + timedelta(days=_h(self.seed, "created", channel_id) % 3653)
        created = datetime.combine(created_day, time(0), JAKARTA) + timedelta(
            seconds=_h(self.seed, "created_t", channel_id) % 86400
        )
        return {
            "created": created.astimezone(UTC),
            "published_at": rfc3339(created),
            "base": int(1000 * 2000 ** _u(self.seed, "subs", channel_id)),
            "rate": 0.003 * _u(self.seed, "growth", channel_id),
            "vps": 20 + _h(self.seed, "vps", channel_id) % 181,
        }

    def knows_channel(self, channel_id: str) -> bool:
        """True when the channel is in the accounts the sandbox serves."""
        return channel_id in self._known

    def subscribers(self, channel_id: str, now: datetime) -> int:
        """Subscriber count on the Jakarta day of ``now`` (non-decreasing)."""
        _require_aware(now)
        st = self._channel_static(channel_id)
        days = max(0, (now.astimezone(JAKARTA).date() - SUBSCRIBER_ANCHOR).days)
        return int(st["base"] * (1 + st["rate"]) ** days)  # type: ignore[operator]

    def channel_title(self, channel_id: str) -> str:
        """The channel's title (``snippet.title``; ``""`` for an unknown channel)."""
        if channel_id not in self._known:
            return ""
        return f"{self._channel_name(channel_id)} Official"

    def _channel_name(self, channel_id: str) -> str:
        return self.handles.get(channel_id) or f"Kanal {channel_id[2:8]}"

    def channel(self, channel_id: str, now: datetime) -> dict[str, object] | None:
        """Channel resource parts (``id``, ``snippet``, ``contentDetails``,
        ``statistics``) shaped and typed as Google sends them (counts are
        strings), or None for an unknown channel."""
        _require_aware(now)
        if channel_id not in self._known:
            return None
        st = self._channel_static(channel_id)
        handle = self.handles.get(channel_id)
        subs = self.subscribers(channel_id, now)
        snippet: dict[str, object] = {
            "title": self.channel_title(channel_id),
            "description": (
                f"Kanal YouTube resmi {self._channel_name(channel_id)}. Informasi kebijakan, layanan publik, "
                "dan kegiatan terbaru."
            ),
            "publishedAt": st["published_at"],
            "thumbnails": {
                "default": {
                    "url": f"https://yt3.ggpht.example/{channel_id}=s88",
                    "width": 88,
                    "height": 88,
                }
            },
            "country": "ID",
        }
        snippet["localized"] = {"title": snippet["title"], "description": snippet["description"]}
        if handle:
            snippet["customUrl"] = "@" + handle.lower()
        return {
            "id": channel_id,
            "snippet": snippet,
            "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": "UU" + channel_id[2:]}},
            "statistics": {
                "viewCount": str(subs * st["vps"]),  # type: ignore[operator]
                "subscriberCount": str(subs),
                "hiddenSubscriberCount": False,
                "videoCount": str(self.upload_count(channel_id, now)),
            },
        }

    # -------------------------------------------------------------- videos
    def warm(self, now: datetime, days: int, stop: threading.Event | None = None) -> int:
        """Work out ahead what a client's calls will ask for: every channel (its settled upload count) and the fixed
        parts of its videos of the ``days`` days up to ``now``, newest first, as far as the video cache holds.

        Answers are the same warmed or not: only when the work is done changes. The demo's sandbox does this while
        the first night's other tasks run and the sandbox's core would idle; its first YouTube extraction took
        ~2.5x a later night's, the sandbox generating every channel's history on first sight (issue 11).
        Returns the videos warmed.
        """
        _require_aware(now)
        room = self._static.cache_parameters()["maxsize"] or 0
        today = now.astimezone(JAKARTA).date()
        warmed = 0
        for channel_id in self.channel_ids:
            if (stop is not None and stop.is_set()) or warmed >= room:
                break
            self.channel(channel_id, now)
            first = max(self._window(channel_id, now)[0], today - timedelta(days=days - 1))
            day = today
            while day >= first:
                for seed in self._day(channel_id, day):
                    self._static(seed)
                    warmed += 1
                day -= _DAY
        return warmed

    def _iter_seeds(self, channel_id: str, now: datetime) -> Iterator[_VideoSeed]:
        # Lazy, newest first: a client that stops paging after 30 days only
        # ever generates those 30 days.
        first, today = self._window(channel_id, now)
        day = today
        while day >= first:
            for s in self._day(channel_id, day):
                if self._alive(s, now):
                    yield s
            day -= timedelta(days=1)

    def uploads(self, channel_id: str, now: datetime) -> list[str]:
        """Ids of the channel's existing videos at ``now``, newest first."""
        _require_aware(now)
        if channel_id not in self._known:
            return []
        return [s.video_id for s in self._iter_seeds(channel_id, now)]

    def upload_count(self, channel_id: str, now: datetime) -> int:
        """``len(uploads(channel_id, now))`` without generating video ids."""
        _require_aware(now)
        if channel_id not in self._known:
            return 0
        first, today = self._window(channel_id, now)
        settled_last = today - timedelta(days=4)
        total = 0
        if first <= settled_last:
            total += self._settled(channel_id, first, settled_last)
        day = max(first, settled_last + timedelta(days=1))
        while day <= today:
            total += sum(1 for s in self._day(channel_id, day) if self._alive(s, now))
            day += timedelta(days=1)
        return total

    def upload_page(
        self,
        channel_id: str,
        now: datetime,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> tuple[list[tuple[str, datetime]], bool]:
        """Up to ``limit`` ``(video_id, publishedAt)`` uploads strictly older
        than the cursor ``after`` (``(publishedAt, video_id)`` of the last item
        already served), newest first, and whether more remain. A cursor keeps
        paging stable when new videos appear between pages."""
        _require_aware(now)
        if channel_id not in self._known:
            return [], False
        out: list[tuple[str, datetime]] = []
        for s in self._iter_seeds(channel_id, now):
            if after is not None and (s.published, s.video_id) >= after:
                continue
            if len(out) == limit:
                return out, True
            out.append((s.video_id, s.published))
        return out, False

    def _seed_for(self, video_id: str, now: datetime) -> _VideoSeed | None:
        decoded = self._resolve(video_id)
        if decoded is None:
            return None
        channel_id, day, index = decoded
        first, today = self._window(channel_id, now)
        if not first <= day <= today:
            return None
        for s in self._day(channel_id, day):
            if s.index == index:
                return s if self._alive(s, now) else None
        return None

    def video(
        self, video_id: str, now: datetime, *, hide_likes_ratio: float | None = None
    ) -> dict[str, object] | None:
        """Video resource parts (``id``, ``snippet``, ``statistics``,
        ``contentDetails``) as Google sends them, or None when the video does
        not exist at ``now`` (unknown, not yet published, outside the history
        window or deleted). ``hide_likes_ratio`` overrides the instance's."""
        _require_aware(now)
        s = self._seed_for(video_id, now)
        if s is None:
            return None
        st = self._static(s)
        vid = s.video_id
        age_hours = max(0.0, (now - s.published).total_seconds() / 3600)
        views = int(st.final_views * (1 - math.exp(-age_hours / VIEW_HALF_LIFE_HOURS)))
        stats: dict[str, str] = {"viewCount": str(views)}
        hide = self.hide_likes_ratio if hide_likes_ratio is None else hide_likes_ratio
        if st.hide_draw >= hide:
            stats["likeCount"] = str(int(views * st.like_rate))
        stats["favoriteCount"] = "0"
        if st.comment_rate is not None:
            stats["commentCount"] = str(int(views * st.comment_rate))
        # Fresh containers on every call: a caller (a fault) may change what it is handed.
        return {
            "id": vid,
            "snippet": {
                "publishedAt": st.published_at,
                "channelId": s.channel_id,
                "title": st.title,
                "description": st.description,
                "thumbnails": {
                    "default": {
                        "url": f"https://i.ytimg.example/vi/{vid}/default.jpg",
                        "width": 120,
                        "height": 90,
                    }
                },
                "channelTitle": st.channel_title,
                "tags": list(st.tags),
                "categoryId": "25",
                "liveBroadcastContent": "none",
                "defaultAudioLanguage": "id",
                "localized": {"title": st.title, "description": st.description},
            },
            "contentDetails": {
                "duration": st.duration,
                "dimension": "2d",
                "definition": "hd",
                "caption": "false",
                "licensedContent": False,
                "contentRating": {},
                "projection": "rectangular",
            },
            "statistics": stats,
        }

    def video_title(self, video_id: str, now: datetime) -> str | None:
        """Title only (cheaper than :meth:`video`, used by playlistItems)."""
        s = self._seed_for(video_id, now)
        return None if s is None else self._static(s).title

    def _compute_video_static(self, s: _VideoSeed) -> _VideoStatic:
        """Everything in a video's resource that does not depend on ``now`` (the rules in the module doc)."""
        seed, vid = self.seed, s.video_id
        title, description, tags = self._text(s)
        nocomments = _u(seed, "nocmt", vid) < self.comments_disabled_ratio
        final_views, hide_draw, like_rate, comment_rate = engagement_draws(seed, vid, self.subscribers(s.channel_id, s.published))
        return _VideoStatic(
            title=title,
            description=description,
            tags=tuple(tags),
            published_at=rfc3339(s.published),
            channel_title=self.channel_title(s.channel_id),
            duration=iso8601_duration(self._duration_seconds(vid)),
            final_views=final_views,
            hide_draw=hide_draw,
            like_rate=like_rate,
            comment_rate=None if nocomments else comment_rate,
        )

    def _duration_seconds(self, vid: str) -> int:
        # One in five is a Short; the rest run 2-90 minutes.
        if _u(self.seed, "short", vid) < 0.2:
            return 15 + _h(self.seed, "dur", vid) % 45
        return 120 + _h(self.seed, "dur", vid) % (90 * 60 - 120 + 1)

    def is_campaign(self, video_id: str) -> bool:
        """True when the video carries a campaign hashtag."""
        return _u(self.seed, "camp", video_id) < self.campaign_ratio

    def _text(self, s: _VideoSeed) -> tuple[str, str, list[str]]:
        seed, vid = self.seed, s.video_id
        topic = _TOPICS[_h(seed, "topic", vid) % len(_TOPICS)]
        place = _PLACES[_h(seed, "place", vid) % len(_PLACES)]
        template = _TEMPLATES[_h(seed, "tpl", vid) % len(_TEMPLATES)]
        title = template.format(topic=topic, place=place, year=s.day.year, n=1 + s.index)
        description = (
            f"{title}. Simak informasi lengkap mengenai {topic.lower()} "
            f"dari {place}. Jangan lupa subscribe dan aktifkan notifikasi."
        )
        tags = [topic.lower().replace(" ", "")] + [
            _TAG_WORDS[_h(seed, "tagw", vid, k) % len(_TAG_WORDS)] for k in range(2)
        ]
        if self.is_campaign(vid):
            tag = self.campaign_hashtags[_h(seed, "camptag", vid) % len(self.campaign_hashtags)]
            title = f"{title} #{tag}"
            description = f"{description} #{tag}"
            tags.append(tag.lower())
        return title, description, list(dict.fromkeys(tags))
