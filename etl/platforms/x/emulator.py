"""X API v2 in the sandbox: user lookup, user timeline, tweet lookup.

Shapes follow the v2 documentation and real answers:

* ``GET /2/users?ids=`` and ``GET /2/users/by?usernames=`` (at most 100):
  ``data`` with ``public_metrics``; unknown users come back in ``errors``
  (``resource-not-found``) next to ``data`` with status 200.
* ``GET /2/users/:id/tweets`` with ``start_time``, ``end_time``,
  ``max_results`` (5-100) and ``pagination_token``; ``meta.next_token`` while
  more remain; a protected account answers 200 with only an
  ``Authorization Error`` in ``errors``.
* ``GET /2/tweets?ids=`` (at most 100): missing tweets are ``errors``
  entries with ``resource_type: tweet`` next to ``data``.
* A tweet of a layer 1-3 account may be a retweet or a quote of an official
  tweet of the same agency (:meth:`SocialUniverse.reference`): ``referenced_tweets``
  says which (``retweeted`` / ``quoted`` and the id). A retweet's text is
  ``RT @handle: `` and the original's text (so it carries the original's
  hashtags), and its public_metrics are X's for a retweet: the original's
  retweet count, every other count 0.
* Bearer token auth; 401 ``Unauthorized`` (problem JSON) for a bad token;
  every answer carries ``x-rate-limit-limit/-remaining/-reset`` and a 429
  carries no Retry-After, only ``x-rate-limit-reset`` (epoch seconds).
"""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime
from typing import Any

from etl.sandbox.mounted import Answer, MountedApi, bearer, first
from etl.sandbox.social_data import Post, rfc3339

MAX_IDS = 100
_TIMELINE = re.compile(r"^/2/users/(\d+)/tweets$")
RATE_LIMIT = 1500
WINDOW_SECONDS = 900


def problem(status: int, title: str, detail: str, type_: str = "about:blank") -> dict[str, Any]:
    return {"title": title, "detail": detail, "type": type_, "status": status}


class XApi(MountedApi):
    platform = "x"
    _window_lock = threading.Lock()
    _local = threading.local()

    def endpoint_name(self, path: str) -> str:
        if _TIMELINE.match(path):
            return "x.user_tweets"
        return {"/2/users": "x.users", "/2/users/by": "x.users_by", "/2/tweets": "x.tweets"}.get(path, "x.other")

    def cursor_of(self, query: dict[str, list[str]], body: bytes) -> str | None:
        return first(query, "pagination_token")

    #: Requests per endpoint per 15-minute window (X's limits are per endpoint); tests may lower it.
    rate_limit = RATE_LIMIT

    def _window(self, endpoint: str) -> tuple[int, int]:
        """Count a request against the endpoint's window: (requests left, epoch second the window resets)."""
        # The window is real time (15 minutes), whatever the sandbox clock says.
        now = int(time.time())
        with self._window_lock:
            windows = self.__dict__.setdefault("_windows", {})
            start, used = windows.get(endpoint, (now, 0))
            if now >= start + WINDOW_SECONDS:
                start, used = now, 0
            windows[endpoint] = (start, used + 1)
        return self.rate_limit - used - 1, start + WINDOW_SECONDS

    def _limits(self, remaining: int | None = None) -> dict[str, str]:
        left, reset = getattr(self._local, "window", (self.rate_limit - 1, int(time.time()) + WINDOW_SECONDS))
        return {
            "x-rate-limit-limit": str(self.rate_limit),
            "x-rate-limit-remaining": str(max(0, left) if remaining is None else remaining),
            "x-rate-limit-reset": str(reset),
        }

    def status_answer(self, status: int) -> Answer:
        if status == 429:
            # No Retry-After: X only says when the window resets.
            headers = {**self._limits(0), "x-rate-limit-reset": str(int(time.time()) + 1)}
            return 429, headers, problem(429, "Too Many Requests", "Too Many Requests")
        return status, {}, problem(status, "Service Unavailable" if status == 503 else "Internal Server Error", "Something went wrong.")

    def retry_headers(self, seconds: int) -> dict[str, str]:
        return {"x-rate-limit-reset": str(int(time.time()) + seconds)}

    def expired_answer(self) -> Answer:
        return 401, {}, problem(401, "Unauthorized", "Unauthorized")

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes) -> Answer:
        if bearer(headers) not in self.tokens:
            return self.expired_answer()
        if method != "GET":
            return 405, {}, problem(405, "Method Not Allowed", f"{method} is not allowed")
        left, reset = self._window(self.endpoint_name(path))
        self._local.window = (left, reset)
        if left < 0:
            return 429, self._limits(0), problem(429, "Too Many Requests", "Too Many Requests")
        now = self.clock()
        match = _TIMELINE.match(path)
        if match:
            return self._timeline(match.group(1), query, now)
        if path == "/2/users":
            return self._users([i for v in query.get("ids", []) for i in v.split(",") if i], now, by="ids")
        if path == "/2/users/by":
            names = [n for v in query.get("usernames", []) for n in v.split(",") if n]
            return self._users(names, now, by="usernames")
        if path == "/2/tweets":
            return self._tweets([i for v in query.get("ids", []) for i in v.split(",") if i], now, query)
        return 404, {}, problem(404, "Not Found Error", f"no route {path}")

    # ---------------------------------------------------------------- users
    def _username(self, account_id: str) -> str:
        return self.universe.accounts[account_id] or f"user{account_id[-6:]}"

    def _user(self, account_id: str, now: datetime) -> dict[str, Any]:
        u = self.universe
        return {
            "id": account_id,
            "username": self._username(account_id),
            "name": f"{u.accounts[account_id] or account_id} (sandbox)",
            "protected": u.is_private(account_id),
            "verified": False,
            "created_at": "2015-03-01T00:00:00.000Z",
            "public_metrics": {
                "followers_count": u.followers(account_id, now),
                "following_count": u.following(account_id),
                "tweet_count": u.post_count(account_id, now),
                "listed_count": 3,
                "like_count": 12,
            },
        }

    def _users(self, wanted: list[str], now: datetime, *, by: str) -> Answer:
        if not wanted or len(wanted) > MAX_IDS:
            return 400, {}, {"errors": [{"parameters": {by: wanted}, "message": f"The `{by}` query parameter value must have 1 to {MAX_IDS} items"}],
                             "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
                             "type": "https://api.twitter.com/2/problems/invalid-request"}
        data, errors = [], []
        for value in wanted:
            account_id = value if by == "ids" else self.universe.by_handle(value)
            if account_id is None or not self.universe.knows(account_id):
                errors.append({
                    "value": value, "detail": f"Could not find user with {by}: [{value}].", "title": "Not Found Error",
                    "resource_type": "user", "parameter": by, "resource_id": value,
                    "type": "https://api.twitter.com/2/problems/resource-not-found",
                })
            else:
                data.append(self._user(account_id, now))
        return 200, self._limits(), _partial(data, errors)

    # --------------------------------------------------------------- tweets
    def _tweet(self, post: Post, now: datetime) -> dict[str, Any]:
        reference = self.universe.reference(post)
        retweeted = reference.post if reference is not None and reference.kind == "repost" else None
        entities: dict[str, Any] = {}
        if retweeted is None:
            text = self.universe.text(post)
            m = self.universe.metrics(post, now, hide_likes_ratio=self.hide_likes_ratio())
            metrics = {
                "retweet_count": m["shares"], "reply_count": m["comments"], "quote_count": m["quotes"],
                "bookmark_count": m["saves"], "impression_count": m["views"],
            }
            if m["likes"] is not None:
                metrics["like_count"] = m["likes"]
        else:
            # A retweet is the original's text behind "RT @handle: "; X counts only the original's retweets on it.
            mention = self._username(retweeted.account_id)
            text = f"RT @{mention}: {self.universe.text(retweeted)}"
            entities["mentions"] = [{"start": 3, "end": 4 + len(mention), "username": mention, "id": retweeted.account_id}]
            metrics = {"retweet_count": self.universe.metrics(retweeted, now)["shares"], "reply_count": 0, "like_count": 0,
                       "quote_count": 0, "bookmark_count": 0, "impression_count": 0}
        entities["hashtags"] = _hashtag_entities(text)
        tweet: dict[str, Any] = {
            "id": self.shaped(post.post_id),
            "author_id": post.account_id,
            "created_at": rfc3339(post.published).replace("Z", ".000Z"),
            "text": text,
            "lang": "in",
            "edit_history_tweet_ids": [post.post_id],
            "public_metrics": metrics,
            "entities": entities,
        }
        if reference is not None:
            x_type = "retweeted" if reference.kind == "repost" else "quoted"
            tweet["referenced_tweets"] = [{"type": x_type, "id": reference.post.post_id}]
        return tweet

    def _timeline(self, account_id: str, query: dict[str, list[str]], now: datetime) -> Answer:
        if not self.universe.knows(account_id):
            return 200, self._limits(), {"errors": [{
                "value": account_id, "detail": f"Could not find user with id: [{account_id}].", "title": "Not Found Error",
                "resource_type": "user", "parameter": "id", "resource_id": account_id,
                "type": "https://api.twitter.com/2/problems/resource-not-found"}]}
        if self.universe.is_private(account_id):
            return 200, self._limits(), {"errors": [{
                "value": account_id, "detail": f"Sorry, you are not authorized to see the user with id: [{account_id}].",
                "title": "Authorization Error", "resource_type": "user", "parameter": "id", "resource_id": account_id,
                "type": "https://api.twitter.com/2/problems/not-authorized-for-resource"}]}
        try:
            limit = int(first(query, "max_results") or 10)
        except ValueError:
            limit = 0
        if not 5 <= limit <= 100:
            return 400, {}, {"errors": [{"parameters": {"max_results": [str(limit)]}, "message": "The `max_results` query parameter value is not between 5 and 100"}],
                             "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
                             "type": "https://api.twitter.com/2/problems/invalid-request"}
        since = _time(first(query, "start_time"))
        until = _time(first(query, "end_time")) or now
        posts, next_token = self.page(account_id, min(now, until), first(query, "pagination_token"), limit, since)
        meta: dict[str, Any] = {"result_count": len(posts)}
        payload: dict[str, Any] = {}
        if posts:
            payload["data"] = [self._tweet(p, now) for p in posts]
            meta["newest_id"], meta["oldest_id"] = posts[0].post_id, posts[-1].post_id
        if next_token:
            meta["next_token"] = next_token
        payload["meta"] = meta
        return 200, self._limits(), payload

    def _tweets(self, ids: list[str], now: datetime, query: dict[str, list[str]]) -> Answer:
        if not ids or len(ids) > MAX_IDS:
            return 400, {}, {"errors": [{"parameters": {"ids": ids}, "message": f"The `ids` query parameter value must have 1 to {MAX_IDS} items"}],
                             "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
                             "type": "https://api.twitter.com/2/problems/invalid-request"}
        data, errors = [], []
        for tweet_id in ids:
            post = self.universe.post(tweet_id, now)
            if post is None or not self.visible(tweet_id):
                errors.append({
                    "value": tweet_id, "detail": f"Could not find tweet with ids: [{tweet_id}].", "title": "Not Found Error",
                    "resource_type": "tweet", "parameter": "ids", "resource_id": tweet_id,
                    "type": "https://api.twitter.com/2/problems/resource-not-found",
                })
            elif self.universe.is_private(post.account_id):
                errors.append({
                    "value": tweet_id, "detail": f"Sorry, you are not authorized to see the Tweet with ids: [{tweet_id}].",
                    "title": "Authorization Error", "resource_type": "tweet", "parameter": "ids", "resource_id": tweet_id,
                    "type": "https://api.twitter.com/2/problems/not-authorized-for-resource",
                })
            else:
                data.append(self._tweet(post, now))
        return 200, self._limits(), _partial(data, errors)


def _hashtag_entities(text: str) -> list[dict[str, Any]]:
    """X's ``entities.hashtags``: each hashtag of ``text`` with its offsets."""
    hashtags, start = [], 0
    for tag in re.findall(r"#(\w+)", text):
        at = text.index("#" + tag, start)
        hashtags.append({"start": at, "end": at + len(tag) + 1, "tag": tag})
        start = at + 1
    return hashtags


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _partial(data: list[dict[str, Any]], errors: list[dict[str, Any]]) -> dict[str, Any]:
    """X's lookup answer: ``data`` and ``errors`` side by side, each only when non-empty."""
    payload: dict[str, Any] = {}
    if data:
        payload["data"] = data
    if errors:
        payload["errors"] = errors
    return payload
