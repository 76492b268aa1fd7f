"""TikTok Research API in the sandbox: user info and video query.

Shapes follow the Research API documentation:

* ``POST /v2/research/user/info/?fields=...`` body ``{"username": ...}`` ->
  ``{"data": {"display_name", "follower_count", "following_count", "likes_count",
  "video_count", ...}, "error": {"code": "ok", ...}}``. The answer does not repeat the
  username. Assumed (undocumented): an unknown user is 400 ``invalid_params`` "... does not
  exist", a private account 400 ``invalid_params`` "... is private".
* ``POST /v2/research/video/query/?fields=...`` body ``{"query": {"and": [{"operation": "IN",
  "field_name": "username", "field_values": [...]}]}, "start_date": "YYYYMMDD", "end_date":
  "YYYYMMDD", "max_count": <=100, "cursor": n, "search_id": ...}`` -> ``{"data": {"videos": [...],
  "cursor", "has_more", "search_id"}, "error": {...}}``; ids are int64 numbers, create_time
  epoch seconds; the date range is at most 30 days. A ``search_id`` pins the result set, so a
  video deleted between pages does not shift the offsets (it is just left out).
* ``Authorization: Bearer <client token>``; an invalid or expired token is 401
  ``access_token_invalid``; the daily limit is 429 ``rate_limit_exceeded``.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from .mounted import Answer, MountedApi, bearer
from .social_data import Post

MAX_COUNT = 100
MAX_DAYS = 30


def tiktok_error(code: str, message: str = "") -> dict[str, Any]:
    return {"code": code, "message": message, "log_id": "20261121000000SANDBOX0000000000"}


def _body(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class TikTokApi(MountedApi):
    platform = "tiktok"

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._searches: dict[str, list[str]] = {}
        self._search_lock = threading.Lock()

    def endpoint_name(self, path: str) -> str:
        return {"/v2/research/video/query/": "tiktok.video_query", "/v2/research/user/info/": "tiktok.user_info"}.get(path, "tiktok.other")

    def cursor_of(self, query: dict[str, list[str]], body: bytes) -> str | None:
        cursor = _body(body).get("cursor")
        return str(cursor) if cursor else None

    def last_served(self, cursor: str, body: bytes) -> str | None:
        with self._search_lock:
            ids = self._searches.get(str(_body(body).get("search_id")), [])
        index = int(cursor) - 1
        return ids[index] if 0 <= index < len(ids) else None

    def status_answer(self, status: int) -> Answer:
        if status == 429:
            return 429, {}, {"data": {}, "error": tiktok_error("rate_limit_exceeded", "API rate limit was exceeded, please try again later.")}
        return status, {}, {"data": {}, "error": tiktok_error("internal_error", "Something went wrong. Please try again later.")}

    def expired_answer(self) -> Answer:
        return 401, {}, {"data": {}, "error": tiktok_error("access_token_invalid", "The access token is invalid or not found in the request.")}

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes) -> Answer:
        if bearer(headers) not in self.tokens:
            return self.expired_answer()
        if method != "POST":
            return 405, {}, {"data": {}, "error": tiktok_error("invalid_params", f"{method} not supported")}
        request = _body(body)
        now = self.clock()
        if path == "/v2/research/user/info/":
            return self._user_info(str(request.get("username") or ""), now)
        if path == "/v2/research/video/query/":
            return self._video_query(request, now)
        return 404, {}, {"data": {}, "error": tiktok_error("invalid_params", f"unknown path {path}")}

    def _user_info(self, username: str, now: datetime) -> Answer:
        u = self.universe
        if not u.knows(username):
            return 400, {}, {"data": {}, "error": tiktok_error("invalid_params", f"The user {username} does not exist")}
        if u.is_private(username):
            return 400, {}, {"data": {}, "error": tiktok_error("invalid_params", f"The user {username} is private")}
        followers = u.followers(username, now)
        return 200, {}, {
            "data": {
                "display_name": f"{username} (sandbox)", "bio_description": "Akun resmi (sandbox)", "is_verified": True,
                "follower_count": followers, "following_count": u.following(username),
                "likes_count": followers * 7, "video_count": u.post_count(username, now),
                "avatar_url": f"https://p16-sign.tiktokcdn.example/{username}.jpeg",
            },
            "error": tiktok_error("ok"),
        }

    def _video(self, post: Post, now: datetime) -> dict[str, Any]:
        u = self.universe
        m = u.metrics(post, now, hide_likes_ratio=self.hide_likes_ratio())
        text = u.text(post)
        video: dict[str, Any] = {
            "id": int(self.shaped(post.post_id)),
            "username": post.account_id,
            "create_time": int(post.published.timestamp()),
            "region_code": "ID",
            "video_description": text,
            "hashtag_names": [w[1:] for w in text.split() if w.startswith("#")],
            "view_count": m["views"],
            "comment_count": m["comments"],
            "share_count": m["shares"],
        }
        if m["likes"] is not None:
            video["like_count"] = m["likes"]
        return video

    def _video_query(self, request: dict[str, Any], now: datetime) -> Answer:
        try:
            start = datetime.strptime(str(request["start_date"]), "%Y%m%d").date()
            end = datetime.strptime(str(request["end_date"]), "%Y%m%d").date()
            max_count = int(request.get("max_count", 20))
            cursor = int(request.get("cursor") or 0)
            conditions = request["query"]["and"]
        except (KeyError, ValueError, TypeError) as exc:
            return 400, {}, {"data": {}, "error": tiktok_error("invalid_params", f"invalid request: {exc}")}
        if not 0 < max_count <= MAX_COUNT or end < start or (end - start).days > MAX_DAYS:
            return 400, {}, {"data": {}, "error": tiktok_error(
                "invalid_params", f"max_count must be 1-{MAX_COUNT} and the date range at most {MAX_DAYS} days")}
        usernames = [str(v) for c in conditions if isinstance(c, dict) and c.get("field_name") == "username" for v in c.get("field_values") or []]
        search_id = str(request.get("search_id") or "")
        with self._search_lock:
            ids = self._searches.get(search_id) if search_id else None
        if ids is None:
            ids = self._search(usernames, start, end, now)
            search_id = str(uuid.UUID(int=hash_ids(ids)).int % 10**19)
            with self._search_lock:
                self._searches[search_id] = ids
        page = ids[cursor : cursor + max_count]
        videos = []
        for post_id in page:
            post = self.universe.post(post_id, now)
            if post is not None and self.visible(post_id):
                videos.append(self._video(post, now))
        next_cursor = cursor + len(page)
        return 200, {}, {
            "data": {"videos": videos, "cursor": next_cursor, "has_more": next_cursor < len(ids), "search_id": search_id},
            "error": tiktok_error("ok"),
        }

    def _search(self, usernames: list[str], start: date, end: date, now: datetime) -> list[str]:
        first = datetime.combine(start, time(0), UTC)
        last = datetime.combine(end + timedelta(days=1), time(0), UTC)
        posts = [
            p for name in usernames if self.universe.knows(name) and not self.universe.is_private(name)
            for p in self.universe.posts(name, now) if first <= p.published < last and self.visible(p.post_id)
        ]
        posts.sort(key=lambda p: (p.published, p.post_id), reverse=True)
        return [p.post_id for p in posts]


def hash_ids(ids: list[str]) -> int:
    import hashlib  # noqa: PLC0415

    return int.from_bytes(hashlib.sha256(",".join(ids).encode()).digest()[:16], "big")
