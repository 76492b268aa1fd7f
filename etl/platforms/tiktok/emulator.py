"""TikTok in the sandbox: the Research API (user info, video query) and the Display API (user info, video list, video query).

Research API shapes follow its documentation:

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
  video deleted between pages does not shift the offsets (it is just left out). Conditions on
  ``username`` and on ``video_id`` (values as strings) are understood; both given = both must hold.
* ``Authorization: Bearer <client token>``; an invalid or expired token is 401
  ``access_token_invalid``; the daily limit is 429 ``rate_limit_exceeded``.

Display API (one OAuth user access token per account; the sandbox accepts ``display-<username>``
for every account it knows, and no client token):

* ``GET /v2/user/info/?fields=...`` -> ``{"data": {"user": {...}}, "error": {...}}`` with only the
  requested fields (open_id, display_name, follower_count, following_count, likes_count,
  video_count, ...); the answer does not name the user unless ``username`` is asked for.
* ``POST /v2/video/list/?fields=...`` body ``{"max_count": <=20 (default 10), "cursor": ms}`` ->
  ``{"data": {"videos": [...], "cursor": ms, "has_more": bool}, "error": {...}}``: the user's public
  videos, newest first, posted before ``cursor`` (a UTC timestamp in milliseconds); the answer's
  cursor is the create time (ms) of its last video. Ids are strings.
* ``POST /v2/video/query/?fields=...`` body ``{"filters": {"video_ids": [<=20 ids]}}`` -> the listed
  videos that exist and belong to the user (others are left out); more than 20 ids is 400
  ``invalid_params``.
* A token that is not the user's is 401 ``access_token_invalid``; the fault switches of
  :mod:`etl.sandbox.mounted` apply as to the Research API (``token_expired`` refuses every token).
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from etl.sandbox.mounted import Answer, MountedApi, bearer, first
from etl.sandbox.social_data import Post

MAX_COUNT = 100
MAX_DAYS = 30
DISPLAY_MAX_COUNT = 20
DISPLAY_QUERY_IDS = 20
DISPLAY_TOKEN_PREFIX = "display-"
RESEARCH_PATHS = {"/v2/research/video/query/": "tiktok.video_query", "/v2/research/user/info/": "tiktok.user_info"}
DISPLAY_PATHS = {"/v2/user/info/": "tiktok.display_user_info", "/v2/video/list/": "tiktok.video_list",
                 "/v2/video/query/": "tiktok.display_video_query"}


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
        return RESEARCH_PATHS.get(path) or DISPLAY_PATHS.get(path) or "tiktok.other"

    def __call__(self, request: Any) -> tuple[int, dict[str, str], bytes]:
        # last_served() of a Display API cursor needs to know whose videos were listed.
        self._local.request = request
        try:
            return super().__call__(request)
        finally:
            self._local.request = None

    def cursor_of(self, query: dict[str, list[str]], body: bytes) -> str | None:
        cursor = _body(body).get("cursor")
        return str(cursor) if cursor else None

    def last_served(self, cursor: str, body: bytes) -> str | None:
        request = getattr(self._local, "request", None)
        if request is not None and request.path == "/v2/video/list/":
            # A Display API cursor is the create time (ms) of the last video served to this user.
            username = self._display_user(request.headers)
            if username is None or not cursor.isdigit():
                return None
            return next(
                (p.post_id for p in self.universe.posts(username, self.clock()) if _ms(p.published) == int(cursor)), None
            )
        with self._search_lock:
            ids = self._searches.get(str(_body(body).get("search_id")), [])
        index = int(cursor) - 1
        return ids[index] if 0 <= index < len(ids) else None

    def _display_user(self, headers: dict[str, str]) -> str | None:
        """The username a Display API user token belongs to (None for any other token)."""
        token = bearer(headers) or ""
        username = token[len(DISPLAY_TOKEN_PREFIX):] if token.startswith(DISPLAY_TOKEN_PREFIX) else ""
        return username if username and self.universe.knows(username) else None

    def status_answer(self, status: int) -> Answer:
        if status == 429:
            return 429, {}, {"data": {}, "error": tiktok_error("rate_limit_exceeded", "API rate limit was exceeded, please try again later.")}
        return status, {}, {"data": {}, "error": tiktok_error("internal_error", "Something went wrong. Please try again later.")}

    def expired_answer(self) -> Answer:
        return 401, {}, {"data": {}, "error": tiktok_error("access_token_invalid", "The access token is invalid or not found in the request.")}

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes) -> Answer:
        if path in DISPLAY_PATHS:
            return self._display(method, path, query, headers, body)
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
        def values(field_name: str) -> list[str] | None:
            found = [c for c in conditions if isinstance(c, dict) and c.get("field_name") == field_name]
            return [str(v) for c in found for v in c.get("field_values") or []] if found else None

        usernames, video_ids = values("username"), values("video_id")
        search_id = str(request.get("search_id") or "")
        with self._search_lock:
            ids = self._searches.get(search_id) if search_id else None
        if ids is None:
            ids = self._search(usernames, video_ids, start, end, now)
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

    def _search(self, usernames: list[str] | None, video_ids: list[str] | None, start: date, end: date, now: datetime) -> list[str]:
        first = datetime.combine(start, time(0), UTC)
        last = datetime.combine(end + timedelta(days=1), time(0), UTC)
        if video_ids is not None:
            candidates = [p for p in (self.universe.post(i, now) for i in dict.fromkeys(video_ids)) if p is not None]
            if usernames is not None:
                candidates = [p for p in candidates if p.account_id in usernames]
        else:
            candidates = [p for name in usernames or [] for p in self.universe.posts(name, now)]
        posts = [
            p for p in candidates
            if not self.universe.is_private(p.account_id) and first <= p.published < last and self.visible(p.post_id)
        ]
        posts.sort(key=lambda p: (p.published, p.post_id), reverse=True)
        return [p.post_id for p in posts]

    # ------------------------------------------------------------------ Display API
    def _display(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes) -> Answer:
        username = self._display_user(headers)
        if username is None:
            return self.expired_answer()
        fields = [f for f in (first(query, "fields") or "").split(",") if f]
        if not fields:
            return 400, {}, {"data": {}, "error": tiktok_error("invalid_params", "fields is required")}
        now = self.clock()
        if path == "/v2/user/info/":
            if method != "GET":
                return 405, {}, {"data": {}, "error": tiktok_error("invalid_params", f"{method} not supported")}
            return 200, {}, {"data": {"user": self._display_profile(username, fields, now)}, "error": tiktok_error("ok")}
        if method != "POST":
            return 405, {}, {"data": {}, "error": tiktok_error("invalid_params", f"{method} not supported")}
        request = _body(body)
        if path == "/v2/video/list/":
            return self._video_list(username, request, fields, now)
        ids = (request.get("filters") or {}).get("video_ids") if isinstance(request.get("filters"), dict) else None
        if not isinstance(ids, list) or not ids or len(ids) > DISPLAY_QUERY_IDS:
            return 400, {}, {"data": {}, "error": tiktok_error("invalid_params", f"filters.video_ids must list 1-{DISPLAY_QUERY_IDS} ids")}
        posts = [self.universe.post(str(i), now) for i in dict.fromkeys(ids)]
        videos = [
            self._display_video(p, fields, now) for p in posts
            if p is not None and p.account_id == username and not self.universe.is_private(username) and self.visible(p.post_id)
        ]
        return 200, {}, {"data": {"videos": videos}, "error": tiktok_error("ok")}

    def _display_profile(self, username: str, fields: list[str], now: datetime) -> dict[str, Any]:
        u = self.universe
        followers = u.followers(username, now)
        profile = {
            "open_id": f"open-{username}", "union_id": f"union-{username}", "username": username,
            "display_name": f"{username} (sandbox)", "bio_description": "Akun resmi (sandbox)", "is_verified": True,
            "avatar_url": f"https://p16-sign.tiktokcdn.example/{username}.jpeg",
            "follower_count": followers, "following_count": u.following(username),
            "likes_count": followers * 7, "video_count": u.post_count(username, now),
        }
        return {k: v for k, v in profile.items() if k in fields}

    def _video_list(self, username: str, request: dict[str, Any], fields: list[str], now: datetime) -> Answer:
        try:
            max_count = int(request.get("max_count") or 10)
            cursor = int(request.get("cursor") or 0)
        except (TypeError, ValueError) as exc:
            return 400, {}, {"data": {}, "error": tiktok_error("invalid_params", f"invalid request: {exc}")}
        if not 0 < max_count <= DISPLAY_MAX_COUNT:
            return 400, {}, {"data": {}, "error": tiktok_error("invalid_params", f"max_count must be 1-{DISPLAY_MAX_COUNT}")}
        # Public videos only: a private account lists nothing.
        posts = [] if self.universe.is_private(username) else [
            p for p in self.universe.posts(username, now) if (not cursor or _ms(p.published) < cursor) and self.visible(p.post_id)
        ]
        page = posts[:max_count]
        return 200, {}, {
            "data": {
                "videos": [self._display_video(p, fields, now) for p in page],
                "cursor": _ms(page[-1].published) if page else cursor,
                "has_more": len(posts) > len(page),
            },
            "error": tiktok_error("ok"),
        }

    def _display_video(self, post: Post, fields: list[str], now: datetime) -> dict[str, Any]:
        u = self.universe
        m = u.metrics(post, now, hide_likes_ratio=self.hide_likes_ratio())
        text = u.text(post)
        video_id = self.shaped(post.post_id)
        video: dict[str, Any] = {
            "id": video_id,  # a string in the Display API (an int64 number in the Research API)
            "create_time": int(post.published.timestamp()),
            "title": text.split(":")[0],
            "video_description": text,
            "duration": 15 + int(video_id[-2:]) % 45,
            "share_url": f"https://www.tiktok.com/@{post.account_id}/video/{video_id}",
            "cover_image_url": f"https://p16-sign.tiktokcdn.example/{video_id}.jpeg",
            "view_count": m["views"],
            "comment_count": m["comments"],
            "share_count": m["shares"],
        }
        if m["likes"] is not None:
            video["like_count"] = m["likes"]
        return {k: v for k, v in video.items() if k in fields}


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def hash_ids(ids: list[str]) -> int:
    import hashlib  # noqa: PLC0415

    return int.from_bytes(hashlib.sha256(",".join(ids).encode()).digest()[:16], "big")
