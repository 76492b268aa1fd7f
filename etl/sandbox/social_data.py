"""Deterministic synthetic accounts and posts for the non-Google platforms (X, Instagram, Facebook, TikTok).

The same rules as :mod:`etl.sandbox.youtube_data`, generalised: everything is
a pure function of ``(seed, platform, account id, day, index)`` and the
sandbox clock, so any process with the same accounts and seed serves the
same universe, and a test can compute what the pipeline should have loaded.

- An account publishes 0-3 posts per Jakarta day over ``history_days``.
- A post's counters grow towards a final value (half-life 36 h) and never
  go down; some posts hide their like count (the API omits the field). The
  final views are a share of the account's followers when it posted (2-50%,
  :func:`reach`), so engagement grows with the audience and engagement per
  1,000 followers per post lands where real accounts' does (about 1-30).
- About ``deleted_ratio`` of posts disappear 72 h after publication (and
  the reposts of them with them).
- About ``private_ratio`` of accounts are private (protected / age-gated):
  the API serves no posts for them.
- Post ids encode (account tag, day, index) plus a check value, so a lookup
  by id needs no index of everything served so far.
- When the universe knows the accounts' agencies and layers (``layers``),
  about ``amplify_ratio`` of the posts of layer 1-3 accounts are reposts
  (70%) or quotes (30%) of an official (layer-0) post of the same agency
  published in the 48 hours before them (:meth:`SocialUniverse.reference`);
  the volume of posts does not change, some posts just become echoes.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

JAKARTA = ZoneInfo("Asia/Jakarta")
DAY_EPOCH = date(2000, 1, 1)
FOLLOWER_ANCHOR = date(2024, 1, 1)
DELETE_AFTER = timedelta(hours=72)
AMPLIFY_WINDOW = timedelta(hours=48)
REPOST_SHARE = 0.7  # of the echoes; the others are quotes
HALF_LIFE_HOURS = 36.0
_TOPICS = ("Layanan Publik", "Bantuan Sosial", "Infrastruktur", "Kesehatan", "Pendidikan", "UMKM", "Pariwisata", "Digitalisasi")
_PLACES = ("Jakarta", "Surabaya", "Makassar", "Medan", "Denpasar", "Kupang", "Jayapura", "Pontianak")


def _h(*parts: object) -> int:
    """64-bit hash of the parts (first 8 bytes of sha256 of ``"|".join``): every sandbox universe's one source of
    pseudo-randomness, so two instances with the same seed agree on every number."""
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode("utf-8")).digest()[:8], "big")


def _u(*parts: object) -> float:
    """Uniform float in [0, 1) derived from :func:`_h`."""
    return _h(*parts) / 2**64


@dataclass(frozen=True)
class Post:
    """One synthetic post; counters come from :meth:`SocialUniverse.metrics`."""

    post_id: str
    account_id: str
    day: date
    index: int
    published: datetime  # aware UTC
    deletable: bool


@dataclass(frozen=True)
class Reference:
    """What an echo post refers to: ``kind`` is ``repost`` or ``quote``; ``post`` is the official post."""

    kind: str
    post: Post


class SocialUniverse:
    """Accounts (platform id -> handle) of one platform and their posts."""

    def __init__(
        self,
        platform: str,
        accounts: Mapping[str, str],
        seed: int = 7,
        *,
        campaign_hashtags: list[str] | None = None,
        deleted_ratio: float = 0.01,
        hide_likes_ratio: float = 0.05,
        private_ratio: float = 0.0,
        history_days: int = 60,
        layers: Mapping[str, tuple[str, int]] | None = None,
        amplify_ratio: float = 0.3,
    ) -> None:
        self.platform = platform
        self.accounts = dict(accounts)
        self.seed = seed
        self.campaign_hashtags = campaign_hashtags or ["SandboxBerAKSI"]
        self.deleted_ratio = deleted_ratio
        self.hide_likes_ratio = hide_likes_ratio
        self.private_ratio = private_ratio
        self.history_days = history_days
        #: account id -> (agency code, layer) of the registry; without it no post is an echo.
        self.layers = {a: v for a, v in (layers or {}).items() if a in self.accounts}
        self.amplify_ratio = amplify_ratio
        self._officials: dict[str, list[str]] = {}
        for account_id, (agency, layer) in sorted(self.layers.items()):
            if layer == 0:
                self._officials.setdefault(agency, []).append(account_id)
        self._by_tag: dict[int, list[str]] = {}
        for account_id in self.accounts:
            self._by_tag.setdefault(self._tag(account_id), []).append(account_id)
        self._day = lru_cache(maxsize=2**16)(self._compute_day)
        self._reference = lru_cache(maxsize=2**16)(self._compute_reference)
        # A post's reach and rates do not change with ``now``: a night re-reads the last 30 days' posts.
        self._draws = lru_cache(maxsize=2**17)(self._compute_draws)

    # ------------------------------------------------------------ accounts
    def knows(self, account_id: str) -> bool:
        return account_id in self.accounts

    def by_handle(self, handle: str) -> str | None:
        """The account id of ``handle`` (case-insensitive, without '@')."""
        wanted = handle.lower().lstrip("@")
        return next((a for a, h in self.accounts.items() if h.lower().lstrip("@") == wanted), None)

    def is_private(self, account_id: str) -> bool:
        return _u(self.seed, self.platform, "private", account_id) < self.private_ratio

    def followers(self, account_id: str, now: datetime) -> int:
        base = int(500 * 4000 ** _u(self.seed, self.platform, "followers", account_id))
        rate = 0.004 * _u(self.seed, self.platform, "growth", account_id)
        days = max(0, (now.astimezone(JAKARTA).date() - FOLLOWER_ANCHOR).days)
        return int(base * (1 + rate) ** days)

    def following(self, account_id: str) -> int:
        return 20 + _h(self.seed, self.platform, "following", account_id) % 500

    def post_count(self, account_id: str, now: datetime) -> int:
        """All-time posts: an older archive plus the posts of the history window."""
        archive = 100 + _h(self.seed, self.platform, "archive", account_id) % 5000
        return archive + len(self.posts(account_id, now))

    # --------------------------------------------------------------- posts
    def _tag(self, account_id: str) -> int:
        return _h(self.platform, "tag", account_id) % 10**7

    def _check(self, account_id: str, day: date, index: int) -> int:
        return _h(self.seed, self.platform, "check", account_id, day.isoformat(), index) % 10**4

    def _post_id(self, account_id: str, day: date, index: int) -> str:
        day_no = (day - DAY_EPOCH).days
        return f"1{self._tag(account_id):07d}{day_no:05d}{index}{self._check(account_id, day, index):04d}"

    def _compute_day(self, account_id: str, day: date) -> tuple[Post, ...]:
        n = _h(self.seed, self.platform, "n", account_id, day.isoformat()) % 4
        midnight = datetime.combine(day, time(0), JAKARTA)
        posts = [
            Post(
                post_id=self._post_id(account_id, day, i),
                account_id=account_id,
                day=day,
                index=i,
                published=(midnight + timedelta(seconds=_h(self.seed, self.platform, "t", account_id, day.isoformat(), i) % 86400)).astimezone(UTC),
                deletable=_u(self.seed, self.platform, "del", account_id, day.isoformat(), i) < self.deleted_ratio,
            )
            for i in range(n)
        ]
        posts.sort(key=lambda p: (p.published, p.post_id), reverse=True)
        return tuple(posts)

    def exists(self, post: Post, now: datetime) -> bool:
        """Published and not deleted at ``now``; a repost goes when its original goes (as on X), a quote stays."""
        if post.published > now or (post.deletable and now - post.published > DELETE_AFTER):
            return False
        reference = self.reference(post)
        return reference is None or reference.kind != "repost" or self.exists(reference.post, now)

    def posts(self, account_id: str, now: datetime) -> list[Post]:
        """The account's existing posts at ``now``, newest first (empty for unknown accounts)."""
        if account_id not in self.accounts:
            return []
        today = now.astimezone(JAKARTA).date()
        out: list[Post] = []
        for back in range(self.history_days):
            out.extend(p for p in self._day(account_id, today - timedelta(days=back)) if self.exists(p, now))
        return out

    def post(self, post_id: str, now: datetime) -> Post | None:
        """The post with ``post_id`` if it exists at ``now``."""
        if len(post_id) != 18 or not post_id.isdigit() or post_id[0] != "1":
            return None
        tag, day_no = int(post_id[1:8]), int(post_id[8:13])
        day = DAY_EPOCH + timedelta(days=day_no)
        today = now.astimezone(JAKARTA).date()
        if not today - timedelta(days=self.history_days - 1) <= day <= today:
            return None
        for account_id in self._by_tag.get(tag, ()):
            for post in self._day(account_id, day):
                if post.post_id == post_id:
                    return post if self.exists(post, now) else None
        return None

    def metrics(self, post: Post, now: datetime, *, hide_likes_ratio: float | None = None) -> dict[str, int | None]:
        """Cumulative counters at ``now``; ``likes`` is None when the post hides it."""
        age_hours = max(0.0, (now - post.published).total_seconds() / 3600)
        grown = 1 - math.exp(-age_hours / HALF_LIFE_HOURS)
        final_views, hide_draw, like_rate, comment_rate, share_rate, quote_draw, save_draw = self._draws(post)
        views = int(final_views * grown)
        hide = self.hide_likes_ratio if hide_likes_ratio is None else hide_likes_ratio
        return {
            "views": views,
            "likes": None if hide_draw < hide else int(views * like_rate),
            "comments": int(views * comment_rate),
            "shares": int(views * share_rate),
            "quotes": int(views * 0.0005 * quote_draw),
            "saves": int(views * 0.002 * save_draw),
        }

    def _compute_draws(self, post: Post) -> tuple[int, float, float, float, float, float, float]:
        """The post's final views and its draws (the rules of :meth:`metrics`, each rate computed as written there)."""
        pid, seed = post.post_id, self.seed
        return (
            *engagement_draws(seed, pid, self.followers(post.account_id, post.published)),
            0.001 + 0.004 * _u(seed, "sr", pid),
            _u(seed, "qr", pid),
            _u(seed, "br", pid),
        )

    def reference(self, post: Post) -> Reference | None:
        """The official post ``post`` reposts or quotes, or None when it is an original post.

        Only posts of layer 1-3 accounts echo, only posts of the same agency's
        public layer-0 accounts on this platform published in the 48 hours
        before are echoed, and which one (if any) is a pure function of the
        seed and the post id.
        """
        return self._reference(post)

    def _compute_reference(self, post: Post) -> Reference | None:
        agency, layer = self.layers.get(post.account_id, (None, 0))
        if not layer or _u(self.seed, self.platform, "amp", post.post_id) >= self.amplify_ratio:
            return None
        since = post.published - AMPLIFY_WINDOW
        candidates = sorted(
            (
                official
                for account_id in self._officials.get(agency, ())
                if not self.is_private(account_id)
                for back in range((post.day - since.astimezone(JAKARTA).date()).days + 1)
                for official in self._day(account_id, post.day - timedelta(days=back))
                if since <= official.published < post.published
            ),
            key=lambda p: (p.published, p.post_id),
        )
        if not candidates:
            return None
        target = candidates[_h(self.seed, self.platform, "amp-target", post.post_id) % len(candidates)]
        kind = "repost" if _u(self.seed, self.platform, "amp-kind", post.post_id) < REPOST_SHARE else "quote"
        return Reference(kind, target)

    def is_campaign(self, post: Post) -> bool:
        return _u(self.seed, "camp", post.post_id) < 0.1

    def text(self, post: Post) -> str:
        pid = post.post_id
        topic = _TOPICS[_h(self.seed, "topic", pid) % len(_TOPICS)]
        place = _PLACES[_h(self.seed, "place", pid) % len(_PLACES)]
        text = f"{topic} di {place}: informasi terbaru untuk masyarakat. #{topic.replace(' ', '')}"
        if self.is_campaign(post):
            text += " #" + self.campaign_hashtags[_h(self.seed, "camptag", pid) % len(self.campaign_hashtags)]
        return text


def engagement_draws(seed: object, post_id: str, audience: int) -> tuple[int, float, float, float]:
    """What every platform's post draws alike: its final views (``audience`` × :func:`reach`), the draw that hides its
    like count when below the hide-likes ratio, its like rate (1-8% of views) and comment rate (0.1-1%)."""
    return (
        int(audience * reach(seed, post_id)),
        _u(seed, "hide", post_id),
        0.01 + 0.07 * _u(seed, "lr", post_id),
        0.001 + 0.009 * _u(seed, "cr", post_id),
    )


def reach(seed: object, post_id: str) -> float:
    """The share of an account's followers a post's views finally reach: 10 ** (-1.7 .. -0.3), about 2% to 50%."""
    return 10 ** (-1.7 + 1.4 * _u(seed, "fv", post_id))


def rfc3339(dt: datetime) -> str:
    """``2026-11-20T03:04:05Z``, as Google, X and TikTok write UTC (Instagram's ISO with +0000 is built by the caller)."""
    # isoformat's first 19 characters are strftime("%Y-%m-%dT%H:%M:%S") at under two thirds of its cost.
    return dt.astimezone(UTC).isoformat()[:19] + "Z"
