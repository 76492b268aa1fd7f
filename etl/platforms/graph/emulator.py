"""Graph API in the sandbox: Instagram ``business_discovery`` and Facebook Pages.

Shapes follow Meta's documentation and real answers:

* ``GET /vXX.0/{ig-user-id}?fields=business_discovery.username(NAME){followers_count,
  follows_count,media_count,media.after(CURSOR).limit(N){id,caption,timestamp,like_count,
  comments_count,media_type,media_product_type,permalink}}``: counts are integers, timestamps
  ``2026-11-20T03:04:05+0000``, ``like_count`` is absent when the owner hides it, paging is
  ``media.paging.cursors.after`` (no ``next`` URL). An unknown or non-professional username is
  400 code 110 subcode 2207013.
* ``GET /vXX.0/{page-id}?fields=id,name,followers_count,fan_count`` and
  ``GET /vXX.0/{page-id}/published_posts?fields=...&since=&limit=&after=``: ids ``PAGE_POST``,
  ``shares`` absent when nobody shared, ``reactions``/``comments`` as ``summary.total_count``;
  ``paging.next`` only while more remain. Unknown page: 400 code 803; an age- or
  country-restricted page: 400 code 10.
* ``GET /vXX.0/?ids=PAGE_POST,...&fields=...`` (multiple-id read, at most 50 ids): the posts keyed by
  id; when one id does not exist (deleted, or removed by ``delete_between_pages``) the whole call is
  400 code 100 subcode 33 "Unsupported get request. Object with ID '...' does not exist, ..." naming
  that id, as Meta answers. ``GET /vXX.0/PAGE_POST?fields=...`` reads one post, with the same error.
* Posts carry only the fields asked for. The ``facebook.removed_fields`` switch emulates a newer
  version: a request asking for one of those fields is 400 code 100
  "(#100) Tried accessing nonexisting field (shares) on node type (Post)".
* ``access_token`` query parameter; an expired one is 400 code 190 subcode 463.
  Throttling is 400 with code 4 (app), 17 (user), 32 (page) or 613; every answer carries
  ``X-App-Usage`` and, for page/IG calls, ``X-Business-Use-Case-Usage``.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from etl.sandbox.mounted import Answer, MountedApi, first
from etl.sandbox.social_data import Post, SocialUniverse

GRAPH_VERSION = "v21.0"
#: The versions the sandbox answers on (the version is a setting of the sources).
GRAPH_VERSIONS = ("v20.0", "v21.0", "v22.0", "v23.0")
MAX_LIMIT = 100
MAX_IDS = 50
_USERNAME = re.compile(r"business_discovery\.username\(([^)]*)\)")
_AFTER = re.compile(r"media\.after\(([^)]*)\)")
_LIMIT = re.compile(r"media(?:\.after\([^)]*\))?\.limit\((\d+)\)")


def graph_error(message: str, code: int, subcode: int | None = None, type_: str = "OAuthException", **extra: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": type_, "code": code, "fbtrace_id": "AsandboxTrace0000"}
    if subcode is not None:
        error["error_subcode"] = subcode
    error.update(extra)
    return {"error": error}


def graph_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


class GraphApi:
    """Routes Graph requests to the Facebook Pages or the Instagram emulation (each with its own fault switches)."""

    def __init__(self, instagram: SocialUniverse, facebook: SocialUniverse, **kw: Any) -> None:
        self.instagram = InstagramGraph(instagram, **kw)
        self.facebook = FacebookGraph(facebook, **kw)

    def __call__(self, request: Any) -> tuple[int, dict[str, str], bytes]:
        parts = request.path.strip("/").split("/")
        node = parts[1].split("_", 1)[0] if len(parts) >= 2 else ""  # a page, or the page of a PAGE_POST id
        # Only the Facebook source reads by ids at the root (business_discovery is asked through our own IG account).
        is_page = request.path.endswith("/published_posts") or self.facebook.universe.knows(node) or (len(parts) == 1 and "ids" in request.query)
        return (self.facebook if is_page else self.instagram)(request)


class _Graph(MountedApi):
    """What Instagram and Facebook share: access_token auth, error bodies, usage headers."""

    def cursor_of(self, query: dict[str, list[str]], body: bytes) -> str | None:
        if first(query, "after") or first(query, "__paging_token"):
            return first(query, "after") or first(query, "__paging_token")
        match = _AFTER.search(first(query, "fields") or "")
        return match.group(1) if match else None

    def _usage(self) -> dict[str, str]:
        return {"X-App-Usage": json.dumps({"call_count": 3, "total_cputime": 1, "total_time": 2})}

    def status_answer(self, status: int) -> Answer:
        if status == 429:
            # Graph throttles with HTTP 400 and an error code, not 429: the burst switch serves the app limit.
            usage = json.dumps({"call_count": 100, "total_cputime": 40, "total_time": 60})
            return 400, {"X-App-Usage": usage}, graph_error("(#4) Application request limit reached", 4, is_transient=True)
        return status, {}, graph_error("An unexpected error has occurred. Please retry your request later.", 2, is_transient=True)

    def expired_answer(self) -> Answer:
        return 400, {}, graph_error(
            "Error validating access token: Session has expired on Friday, 20-Nov-26 23:00:00 PST.", 190, 463
        )

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes) -> Answer:
        if first(query, "access_token") not in self.tokens:
            return 400, {}, graph_error("Invalid OAuth access token - Cannot parse access token", 190)
        if method != "GET":
            return 400, {}, graph_error("Unsupported request - method type: post", 100, type_="GraphMethodException")
        return self.route(path.strip("/").split("/"), query, self.clock())

    def route(self, parts: list[str], query: dict[str, list[str]], now: datetime) -> Answer:
        raise NotImplementedError


class InstagramGraph(_Graph):
    platform = "instagram"

    def endpoint_name(self, path: str) -> str:
        return "instagram.business_discovery"

    def route(self, parts: list[str], query: dict[str, list[str]], now: datetime) -> Answer:
        fields = first(query, "fields") or ""
        if len(parts) == 2 and _USERNAME.search(fields):
            return self._business_discovery(parts[1], fields, now)
        if len(parts) == 2:
            return 400, {}, graph_error("(#803) Some of the aliases you requested do not exist: " + parts[1], 803)
        return 400, {}, graph_error("Unknown path components: /" + "/".join(parts[2:]), 2500)

    def _media(self, post: Post, now: datetime) -> dict[str, Any]:
        u = self.universe
        m = u.metrics(post, now, hide_likes_ratio=self.hide_likes_ratio())
        kind = ("IMAGE", "CAROUSEL_ALBUM", "VIDEO")[int(post.post_id[-1]) % 3]
        media: dict[str, Any] = {
            "id": self.shaped(post.post_id),
            "caption": u.text(post),
            "timestamp": graph_time(post.published),
            "comments_count": m["comments"],
            "media_type": kind,
            "media_product_type": "REELS" if kind == "VIDEO" else "FEED",
            "permalink": f"https://www.instagram.com/p/S{post.post_id[-11:]}/",
        }
        if m["likes"] is not None:
            media["like_count"] = m["likes"]
        return media

    def _business_discovery(self, own_id: str, fields: str, now: datetime) -> Answer:
        username = _USERNAME.search(fields).group(1)  # type: ignore[union-attr]
        account_id = self.universe.by_handle(username)
        if account_id is None or self.universe.is_private(account_id):
            return 400, self._usage(), graph_error(
                "Invalid user id", 110, 2207013, is_transient=False, error_user_title="Cannot find User",
                error_user_msg=f"The user with username: {username} cannot be found.",
            )
        limit_match = _LIMIT.search(fields)
        limit = min(int(limit_match.group(1)) if limit_match else 25, MAX_LIMIT)
        after_match = _AFTER.search(fields)
        posts, next_cursor = self.page(account_id, now, after_match.group(1) if after_match else None, limit)
        media: dict[str, Any] = {"data": [self._media(p, now) for p in posts]}
        if posts:
            cursors = {"before": posts[0].post_id}
            if next_cursor:
                cursors["after"] = next_cursor
            media["paging"] = {"cursors": cursors}
        # Like Graph, answer only the fields asked for (later pages ask for media only).
        asked = set(re.split(r"[{},]", fields.split("{", 1)[1] if "{" in fields else ""))
        discovery: dict[str, Any] = {}
        if "followers_count" in asked:
            discovery["followers_count"] = self.universe.followers(account_id, now)
        if "follows_count" in asked:
            discovery["follows_count"] = self.universe.following(account_id)
        if "media_count" in asked:
            discovery["media_count"] = self.universe.post_count(account_id, now)
        discovery.update(media=media, id=account_id)
        buc = json.dumps({own_id: [{"type": "instagram", "call_count": 2, "total_cputime": 1, "total_time": 1, "estimated_time_to_regain_access": 0}]})
        return 200, {**self._usage(), "X-Business-Use-Case-Usage": buc}, {"business_discovery": discovery, "id": own_id}


class FacebookGraph(_Graph):
    platform = "facebook"

    def endpoint_name(self, path: str) -> str:
        parts = path.strip("/").split("/")
        if path.endswith("/published_posts"):
            return "facebook.published_posts"
        if len(parts) == 1:
            return "facebook.post_lookup"
        return "facebook.post" if "_" in parts[1] else "facebook.page"

    def route(self, parts: list[str], query: dict[str, list[str]], now: datetime) -> Answer:
        refused = self._refused_field(parts, first(query, "fields"))
        if refused is not None:
            return refused
        if len(parts) == 3 and parts[2] == "published_posts":
            return self._published_posts(parts[1], query, now)
        if len(parts) == 1:
            return self._lookup((first(query, "ids") or "").split(","), query, now)
        if "_" in parts[1]:
            return self._lookup([parts[1]], query, now, single=True)
        return self._page(parts[1], now)

    def _refused_field(self, parts: list[str], fields: str | None) -> Answer | None:
        """A newer Graph version without some field (switch ``facebook.removed_fields``) refuses requests asking for it."""
        removed = self.faults.get("facebook.removed_fields") or []
        asked = [f for f in _top_fields(fields or "") if f in removed]
        if not asked:
            return None
        self.count_fault("facebook.removed_fields")
        node = "Page" if len(parts) == 2 and "_" not in parts[1] else "Post"
        return 400, self._usage(), graph_error(f"(#100) Tried accessing nonexisting field ({asked[0]}) on node type ({node})", 100)

    def _lookup(self, ids: list[str], query: dict[str, list[str]], now: datetime, *, single: bool = False) -> Answer:
        ids = [i for i in ids if i]
        if not ids:
            return 400, {}, graph_error("(#100) The parameter ids is required", 100)
        if len(ids) > MAX_IDS:
            return 400, {}, graph_error(f"(#100) Too many IDs. Maximum: {MAX_IDS}. Provided: {len(ids)}.", 100)
        posts = {}
        for post_id in ids:
            post = self._existing(post_id, now)
            if post is None:
                # Meta fails the whole multiple-id read for one object it cannot serve.
                return 400, self._usage(), graph_error(
                    f"Unsupported get request. Object with ID '{post_id}' does not exist, cannot be loaded due to missing "
                    "permissions, or does not support this operation. Please read the Graph API documentation at "
                    "https://developers.facebook.com/docs/graph-api",
                    100, 33, type_="GraphMethodException",
                )
            posts[post_id] = post
        fields = first(query, "fields")
        answers = {post_id: self._post(post, now, fields) for post_id, post in posts.items()}
        return 200, self._usage(), answers[ids[0]] if single else answers

    def _existing(self, post_id: str, now: datetime) -> Post | None:
        page_id, _, raw = post_id.partition("_")
        fb = self.universe
        post = fb.post(raw, now) if fb.knows(page_id) and not fb.is_private(page_id) else None
        if post is None or post.account_id != page_id or not self.visible(raw):
            return None
        return post

    def _page(self, page_id: str, now: datetime) -> Answer:
        fb = self.universe
        if fb.is_private(page_id):
            return 400, self._usage(), graph_error(
                "(#10) This Page is restricted by age or country and its content cannot be read with this token", 10
            )
        followers = fb.followers(page_id, now)
        return 200, self._usage(), {
            "id": page_id, "name": f"{fb.accounts[page_id] or page_id} (sandbox)",
            "followers_count": followers, "fan_count": int(followers * 0.9),
        }

    def _post(self, post: Post, now: datetime, fields: str | None = None) -> dict[str, Any]:
        fb = self.universe
        m = fb.metrics(post, now, hide_likes_ratio=self.hide_likes_ratio())
        item: dict[str, Any] = {
            "id": self.shaped(f"{post.account_id}_{post.post_id}"),
            "created_time": graph_time(post.published),
            "message": fb.text(post),
            "permalink_url": f"https://www.facebook.com/{post.account_id}/posts/{post.post_id}",
            "reactions": {"data": [], "summary": {"total_count": m["likes"] or 0, "viewer_reaction": "NONE"}},
            "comments": {"data": [], "summary": {"order": "ranked", "total_count": m["comments"], "can_comment": False}},
        }
        if m["shares"]:
            item["shares"] = {"count": m["shares"]}
        asked = set(_top_fields(fields)) if fields else None
        return item if asked is None else {k: v for k, v in item.items() if k == "id" or k in asked}

    def _published_posts(self, page_id: str, query: dict[str, list[str]], now: datetime) -> Answer:
        fb = self.universe
        if not fb.knows(page_id):
            return 400, {}, graph_error(f"(#803) Some of the aliases you requested do not exist: {page_id}", 803)
        if fb.is_private(page_id):
            return 400, self._usage(), graph_error(
                "(#10) This Page is restricted by age or country and its content cannot be read with this token", 10
            )
        try:
            limit = min(int(first(query, "limit") or 25), MAX_LIMIT)
            since_value = first(query, "since")
            since = datetime.fromtimestamp(int(since_value), tz=now.tzinfo) if since_value else None
        except ValueError:
            return 400, {}, graph_error("(#100) Invalid parameter", 100, type_="OAuthException")
        posts, next_cursor = self.page(page_id, now, self.cursor_of(query, b""), limit, since)
        payload: dict[str, Any] = {"data": [self._post(p, now, first(query, "fields")) for p in posts]}
        if posts and self.faults.get("facebook.time_paging"):
            # Time-based paging, as Meta pages some edges: ``next`` moves ``until`` back and carries a
            # ``__paging_token``; there are no cursors at all.
            until = int(posts[-1].published.timestamp())
            paging = {"previous": f"https://graph.facebook.com/{GRAPH_VERSION}/{page_id}/published_posts?limit={limit}"
                                  f"&since={int(posts[0].published.timestamp())}&__paging_token={posts[0].post_id}&__previous=1"}
            if next_cursor:
                paging["next"] = (f"https://graph.facebook.com/{GRAPH_VERSION}/{page_id}/published_posts?limit={limit}"
                                  f"&until={until}&__paging_token={next_cursor}")
            payload["paging"] = paging
        elif posts:
            paging: dict[str, Any] = {"cursors": {"before": posts[0].post_id, **({"after": next_cursor} if next_cursor else {})}}
            if next_cursor:
                paging["next"] = f"https://graph.facebook.com/{GRAPH_VERSION}/{page_id}/published_posts?limit={limit}&after={next_cursor}"
            payload["paging"] = paging
        buc = json.dumps({page_id: [{"type": "pages", "call_count": 1, "total_cputime": 1, "total_time": 1, "estimated_time_to_regain_access": 0}]})
        return 200, {**self._usage(), "X-Business-Use-Case-Usage": buc}, payload


def _top_fields(fields: str) -> list[str]:
    """The field names of a Graph ``fields`` value at the top level (``reactions.summary(...).limit(0)`` is ``reactions``)."""
    names, depth, start = [], 0, 0
    for i, char in enumerate(fields + ","):
        if char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
        elif char == "," and depth == 0:
            name = re.match(r"[A-Za-z0-9_]*", fields[start:i]).group(0)  # type: ignore[union-attr]
            if name:
                names.append(name)
            start = i + 1
    return names
