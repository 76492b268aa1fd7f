"""What every mounted sandbox API shares: fault switches, keyset cursors, JSON bodies.

A platform API subclasses :class:`MountedApi` and implements ``handle``
(the happy path and the platform's own errors) plus the platform's shapes for
a throttled answer, a server error and an expired token. The fault switches
of :class:`etl.sandbox.server.Faults` under the platform's prefix are applied
here, identically for every platform:

* ``status_burst``: the next N requests get 429/5xx (with the platform's
  rate-limit headers on 429);
* ``slow_seconds`` x ``slow_count``: sleep before answering;
* ``truncate_count``: cut the next N 200 bodies in half (never one already
  slowed: each fault takes requests of its own);
* ``token_expired`` (true): every request is refused as the platform refuses
  an expired token;
* ``delete_between_pages`` (N): the next N requests that carry a paging
  cursor first delete the last post of the previous page, so it was served
  and then vanished;
* ``hide_likes_ratio``: read by the API when it shapes a post;
* ``removed_fields`` (Facebook only): read by the Graph API, which refuses
  those fields as a newer version would (:mod:`etl.platforms.graph.emulator`);
* ``hostile_text`` (N): the first N posts served get a NUL byte and a lone
  UTF-16 surrogate in their text (JSON-escaped, ``\\u0000`` and ``\\ud83d``, as a
  JSON encoder writes them), in every answer that carries them; their ids
  are in :attr:`MountedApi.hostile`;
* ``time_paging`` (Facebook only): ``published_posts`` pages by ``until`` and
  ``__paging_token`` in ``paging.next``, without cursors;
* ``answer``: the next N requests (to one endpoint, or any) get a recorded
  answer (status, body) instead of the platform's own.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .social_data import SocialUniverse

#: Header a mounted API sets to name the endpoint in the sandbox's stats (stripped before sending).
ENDPOINT_HEADER = "X-Sandbox-Endpoint"
Answer = tuple[int, dict[str, str], Any]


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


#: What ``hostile_text`` appends to a poisoned post's text fields.
HOSTILE_SUFFIX = " \x00 \ud83d"
TEXT_FIELDS = frozenset({"text", "caption", "message", "title", "description", "video_description", "name"})


def _poison(node: Any) -> None:
    """Append :data:`HOSTILE_SUFFIX` to every text field under ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in TEXT_FIELDS and isinstance(value, str):
                node[key] = value + HOSTILE_SUFFIX
            else:
                _poison(value)
    elif isinstance(node, list):
        for value in node:
            _poison(value)


def encode_cursor(published: datetime, post_id: str) -> str:
    """An opaque keyset cursor: stable when posts appear or vanish between pages."""
    return base64.urlsafe_b64encode(f"{published.isoformat()}|{post_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, post_id = raw.split("|", 1)
        return datetime.fromisoformat(when), post_id
    except (ValueError, UnicodeDecodeError):
        return None


class MountedApi:
    """Base of the X, Graph and TikTok sandbox APIs."""

    platform = ""

    def __init__(
        self,
        universe: SocialUniverse,
        tokens: set[str],
        faults: Any,
        clock: Callable[[], datetime],
        count_fault: Callable[[str], None],
    ) -> None:
        self.universe = universe
        self.tokens = tokens
        self.faults = faults
        self.clock = clock
        self.count_fault = count_fault
        self.deleted: set[str] = set()  # posts removed by delete_between_pages
        #: Post ids (as the API spells them) sent in complete 200 answers: what a client could have read.
        self.served: set[str] = set()
        #: Post ids (as served) given hostile text by the ``hostile_text`` fault.
        self.hostile: set[str] = set()
        self._lock = threading.Lock()
        self._local = threading.local()

    # -- to implement per platform
    def endpoint_name(self, path: str) -> str:
        raise NotImplementedError

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes) -> Answer:
        raise NotImplementedError

    def status_answer(self, status: int) -> Answer:
        raise NotImplementedError

    def expired_answer(self) -> Answer:
        raise NotImplementedError

    def cursor_of(self, query: dict[str, list[str]], body: bytes) -> str | None:
        """The paging cursor a request carries (None on a first page)."""
        raise NotImplementedError

    # -- shared
    def shaped(self, post_id: str) -> str:
        """Note that this request's answer carries ``post_id`` (committed to :attr:`served` if it goes out whole)."""
        ids = getattr(self._local, "ids", None)
        if ids is not None:
            ids.append(post_id)
        return post_id

    def hide_likes_ratio(self) -> float | None:
        return self.faults.get(f"{self.platform}.hide_likes_ratio")

    def visible(self, post_id: str) -> bool:
        with self._lock:
            return post_id not in self.deleted

    def page(self, account_id: str, now: datetime, after: str | None, limit: int, since: datetime | None = None) -> tuple[list, str | None]:
        """Up to ``limit`` posts older than cursor ``after``, newest first, and the next cursor (None at the end)."""
        start = decode_cursor(after) if after else None
        out = []
        for post in self.universe.posts(account_id, now):
            if since is not None and post.published < since:
                break
            if start is not None and (post.published, post.post_id) >= start:
                continue
            if not self.visible(post.post_id):
                continue
            if len(out) == limit:
                last = out[-1]
                return out, encode_cursor(last.published, last.post_id)
            out.append(post)
        return out, None

    def __call__(self, request: Any) -> tuple[int, dict[str, str], bytes]:
        endpoint = self.endpoint_name(request.path)
        recorded = self.faults.answer(self.platform, endpoint)
        if recorded is not None:
            self.count_fault(f"{self.platform}.answer")
            return recorded[0], {**recorded[1], ENDPOINT_HEADER: endpoint}, recorded[2]
        faults = self.faults.take(self.platform)
        if "burst" in faults:
            burst = faults["burst"]
            self.count_fault(f"{self.platform}.status_burst")
            status, headers, payload = self.status_answer(burst["status"])
            if burst["retry_after"] is not None and burst["status"] == 429:
                headers = {**headers, **self.retry_headers(burst["retry_after"])}
            return status, {**headers, ENDPOINT_HEADER: endpoint}, dumps(payload)
        if "slow" in faults:
            self.count_fault(f"{self.platform}.slow")
            time.sleep(float(faults["slow"]))
        if self.faults.get(f"{self.platform}.token_expired"):
            status, headers, payload = self.expired_answer()
            return status, {**headers, ENDPOINT_HEADER: endpoint}, dumps(payload)
        self._maybe_delete(self.cursor_of(request.query, request.body), request.body)
        self._local.ids = []
        status, headers, payload = self.handle(request.method, request.path, request.query, request.headers, request.body)
        body = self._hostile(payload) if status == 200 and self.faults.get(f"{self.platform}.hostile_text") else dumps(payload)
        if faults.get("truncate") and status == 200:
            body = body[: len(body) // 2]
            self.count_fault(f"{self.platform}.truncate")
        elif status == 200:
            with self._lock:
                self.served.update(self._local.ids)
        self._local.ids = None
        return status, {**headers, ENDPOINT_HEADER: endpoint}, body

    def _hostile(self, payload: Any) -> bytes:
        """The answer with the chosen posts' text poisoned, JSON-escaped (ASCII) as a real encoder sends it."""
        wanted = int(self.faults.get(f"{self.platform}.hostile_text") or 0)
        found = False

        def walk(node: Any) -> None:
            nonlocal found
            if isinstance(node, dict):
                post_id = node.get("id")
                if isinstance(post_id, str) and post_id in self._local.ids:
                    with self._lock:
                        if post_id not in self.hostile and len(self.hostile) < wanted:
                            self.hostile.add(post_id)
                            self.count_fault(f"{self.platform}.hostile_text")
                        chosen = post_id in self.hostile
                    if chosen:
                        _poison(node)
                        found = True
                        return
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(payload)
        if not found:
            return dumps(payload)
        return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode("ascii")

    def retry_headers(self, seconds: int) -> dict[str, str]:
        return {"Retry-After": str(seconds)}

    def last_served(self, cursor: str, body: bytes) -> str | None:
        """The post served last before ``cursor`` (keyset cursors name it; offset cursors override this)."""
        decoded = decode_cursor(cursor)
        return decoded[1] if decoded else None

    def _maybe_delete(self, cursor: str | None, body: bytes = b"") -> None:
        key = f"{self.platform}.delete_between_pages"
        if int(self.faults.get(key) or 0) <= 0 or not cursor:
            return
        post_id = self.last_served(cursor, body)
        with self._lock:
            left = int(self.faults.get(key) or 0)
            if left <= 0 or post_id is None:
                return
            self.faults[key] = left - 1 if left > 1 else None
            self.deleted.add(post_id)
        self.count_fault(key)


def bearer(headers: dict[str, str]) -> str | None:
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    return value[7:].strip() if value.lower().startswith("bearer ") else None


def first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None
