"""What the Instagram and Facebook sources share: the Graph API's errors, usage headers and version.

Graph errors arrive as HTTP 400/403 with ``error.code`` in the body - and
sometimes as HTTP 200 with an ``error`` object, which is an error too, never
an empty success - so the shared client is given :meth:`GraphCalls.classify`:

- codes 4, 17, 32, 613 (app, user, page, custom rate limits) and the
  80001-80014 business-use-case limits are throttling: retried with backoff;
  a call still throttled after the client's whole retry cycle blocks the
  connection for an hour in ``etl_rate_limit`` (as a usage header past 90%
  does) and defers the rest of the platform - and of the other Graph
  platform, which shares the app - instead of five calls per page;
- code 190 is an expired or invalid token: the platform stops at once and its
  accounts are recorded ``token_expired`` with a message naming the connection;
- code 10 ("Application does not have permission for this action") and
  200-299 (a missing permission) are app-wide: the platform stops as on a
  refused token (:class:`PermissionRefused`, ledger ``token_expired``, the
  message names the connection and the permissions the platform needs); only
  a code 10 about one restricted page ("restricted by age or country") is
  that page's ``private``;
- code 100 subcode 33 ("Object with ID ... does not exist, cannot be loaded
  due to missing permissions, or does not support this operation") is Meta's
  answer about that object, not throttling: never retried; a page is recorded
  ``not_found``, a post in a lookup by id is :class:`ObjectGone`;
- code 100 "Tried accessing nonexisting field (X) on node type (...)" is
  version drift: field X is dropped for the rest of the run and the call sent
  again without it (:meth:`GraphCalls.get`); the parser writes its metric NULL
  with the reason ``not served by Graph API <version>``.

``X-App-Usage`` / ``X-Business-Use-Case-Usage`` (percentages of the limits)
are read from every answer: past :data:`USAGE_STOP` percent the source
stops calling and defers the rest, before Meta starts refusing.
"""

from __future__ import annotations

import json
import os
import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import structlog

from etl.http import ApiClient, BudgetExhausted, CredentialsRejected, FatalApiError, RetriableApiError, error_text
from etl.landing import LandingWriter
from etl.sources.base import QUOTA, EndpointSpec, RateBudget

log = structlog.get_logger(__name__)

CONN_ID = "meta_graph"
DEFAULT_BASE_URL = "https://graph.facebook.com"
BASE_ENV = "META_GRAPH_BASE"  # Instagram and Facebook share the app and its token
SECRET_ENV = "META_GRAPH_TOKEN"
THROTTLE_CODES = frozenset({4, 17, 32, 613, *range(80001, 80015)})
#: Graph codes of a permission the app or token lacks (10 "Application does not have permission for this action",
#: 200-299 "Requires ... permission"): app-wide, not about one page.
PERMISSION_CODES = frozenset({10, *range(200, 300)})
#: What each Graph platform needs of the Meta app and token (named when Meta refuses a permission).
NEEDED_PERMISSIONS = {
    "facebook": "pages_read_engagement and the Page Public Content Access feature",
    "instagram": "instagram_basic and instagram_manage_insights (business_discovery)",
}
#: How long a throttled connection is left alone when Meta sent no usage header saying when it recovers
#: (Meta's rate-limit windows roll over an hour).
THROTTLE_BLOCK = timedelta(hours=1)
PERCENT_COUNTERS = frozenset({"call_count", "total_cputime", "total_time", "acc_id_util_pct"})
USAGE_STOP = 90  # percent of any Graph usage counter past which we defer instead of calling


def graph_version() -> str:
    """The Graph API version (PANTAU_GRAPH_API_VERSION, default v21.0): one setting for both sources."""
    version = os.environ.get("PANTAU_GRAPH_API_VERSION") or "v21.0"
    return version if version.startswith("v") else f"v{version}"


class TokenExpired(CredentialsRejected):
    """Graph error 190: the token of the connection expired or was revoked."""


class PermissionRefused(CredentialsRejected):
    """Graph code 10 ("Application does not have permission for this action") or 200-299 (a missing permission):
    the app or token cannot read this kind of object at all, so the platform stops as on a refused token."""


class ObjectGone(FatalApiError):
    """A lookup by id answered code 100 subcode 33: the object was deleted or can no longer be read."""


#: (code, subcode) of "Unsupported get request. Object with ID '...' does not exist, cannot be loaded due to
#: missing permissions, or does not support this operation".
GONE = (100, 33)
_NONEXISTING_FIELD = re.compile(r"Tried accessing nonexisting field \(([A-Za-z0-9_]+)\)")


def refused_field(exc: FatalApiError) -> str | None:
    """The field named by Meta's "(#100) Tried accessing nonexisting field (shares) on node type (Post)", if that is the error."""
    if exc.status != 400:
        return None
    match = _NONEXISTING_FIELD.search(str(exc))
    return match.group(1) if match else None


def _split_top(fields: str) -> list[str]:
    """``fields`` split at the commas outside any () or {}."""
    items, depth, start = [], 0, 0
    for i, char in enumerate(fields):
        if char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(fields[start:i])
            start = i + 1
    items.append(fields[start:])
    return [item for item in items if item]


def without_fields(fields: str, removed: set[str] | frozenset[str]) -> tuple[str, list[str]]:
    """``fields`` (Graph field expansion) without the fields named in ``removed``, at any depth; and the names left out.

    ``reactions.summary(total_count).limit(0)`` is the field ``reactions``;
    ``business_discovery.username(x){media{id,like_count}}`` is searched inside its braces.
    """
    kept: list[str] = []
    dropped: list[str] = []
    for item in _split_top(fields):
        name = re.match(r"[A-Za-z0-9_]*", item).group(0)  # type: ignore[union-attr]
        if name in removed:
            dropped.append(name)
            continue
        depth = 0
        for i, char in enumerate(item):
            if char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
            elif char == "{" and depth == 0 and item.endswith("}"):
                inner, inner_dropped = without_fields(item[i + 1 : -1], removed)
                item = f"{item[: i + 1]}{inner}}}"
                dropped += inner_dropped
                break
        kept.append(item)
    return ",".join(kept), dropped


def graph_error(response: requests.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        return {}
    error = payload.get("error") if isinstance(payload, dict) else None
    return error if isinstance(error, dict) else {}


class GraphCalls:
    """Graph API calls for one source: auth, classification, usage tracking, landing context."""

    def __init__(self, platform: str, client: ApiClient, base_url: str, token: str, budget: RateBudget, landing: LandingWriter) -> None:
        self.platform = platform
        self.client = client
        self.base_url = f"{base_url.rstrip('/')}/{graph_version()}"
        self.token = token
        self.budget = budget
        self.landing = landing
        self.usage = 0  # highest usage percentage seen in the headers
        self._local = threading.local()  # the source's workers (etl.sources.concurrency) each have their last error
        self.removed_fields: set[str] = set()  # fields the configured Graph version refused: left out for the rest of the run
        client.classify = self.classify

    @property
    def last_error(self) -> tuple[Any, Any] | None:
        """(code, subcode) of this thread's last Graph error body; None after a success."""
        return getattr(self._local, "last_error", None)

    @last_error.setter
    def last_error(self, value: tuple[Any, Any] | None) -> None:
        self._local.last_error = value

    def classify(self, response: requests.Response) -> tuple[str, str] | None:
        """Throttling is retriable, whatever the HTTP status; everything else is left to the client."""
        self._read_usage(response.headers)
        error = graph_error(response)
        if response.status_code < 400 and not error:
            self.last_error = None
            return None
        code, subcode = error.get("code"), error.get("error_subcode")
        self.last_error = (code, subcode)
        # Not 100/33, which the issue listed as throttling: Meta means "object does not exist, cannot be loaded due
        # to missing permissions, or does not support this operation" - retrying it only wastes calls.
        if code in THROTTLE_CODES or error.get("is_transient") is True:
            return "retriable", f"Graph throttling code {code}" + (f"/{subcode}" if subcode else "") + f": {error.get('message')}"
        if response.status_code < 400:
            # Meta sometimes answers 200 with an ``error`` object: an error, never an empty success.
            return "fatal", error_text(response.text) or f"Graph error in an HTTP {response.status_code} answer"
        return None

    def _read_usage(self, headers: Any) -> None:
        # The latest answer is the current state: usage falls again as Meta's rolling window moves on.
        seen: list[int] = []
        regain_minutes = 0
        for name in ("X-App-Usage", "X-Business-Use-Case-Usage"):
            raw = headers.get(name)
            if not raw:
                continue
            try:
                value = json.loads(raw)
            except ValueError:
                log.warning("unreadable usage header", **{"source": self.platform, "header": name})
                continue
            counters = [value] if name == "X-App-Usage" else [c for v in value.values() if isinstance(v, list) for c in v]
            for counter in counters:
                if isinstance(counter, dict):
                    seen += [int(v) for k, v in counter.items() if k in PERCENT_COUNTERS and isinstance(v, int | float)]
                    regain = counter.get("estimated_time_to_regain_access") or 0
                    if regain > 0:
                        seen.append(100)  # Meta already blocks this business use case for some minutes
                        regain_minutes = max(regain_minutes, int(regain))
        if seen:
            self.usage = max(seen)
            self.budget.observe(QUOTA, usage=self.usage)
            if self.usage >= USAGE_STOP:
                # Shared with the other shards and with the other Graph platform (one Meta app): they defer too.
                # Meta's window rolls over an hour; it says how long when it already blocks.
                until = datetime.now(UTC) + timedelta(minutes=regain_minutes or 60)
                self.budget.block(QUOTA, until, f"{self.platform}: Graph usage at {self.usage}% of the limit; deferring the rest")
            else:
                # The latest answer is the current state: a throttled call that the client retried may be followed by room again.
                self.budget.lift(QUOTA)

    def get(
        self,
        endpoint: EndpointSpec,
        path: str,
        params: dict[str, Any],
        account: str | None,
        *,
        since: str | None = None,
        ids: list[str] | None = None,
    ) -> dict[str, Any]:
        """One Graph call; ``since`` (ISO) is landed with it when the answer may hold posts older than the window.

        ``ids`` marks a lookup by id and is landed with it (the parser pairs a
        refusal with the id it was about); Meta's "does not exist" answer to a
        lookup raises :class:`ObjectGone` at once instead of being retried.

        A field the configured Graph version no longer has (400, code 100,
        "Tried accessing nonexisting field (shares) ...") is dropped from this
        and every later request of the run, and the call is sent again once
        without it; the landed line names the dropped fields and the version.
        """
        request = {**endpoint.params, **params}
        while True:
            dropped: list[str] = []
            if self.removed_fields and isinstance(request.get("fields"), str):
                request["fields"], dropped = without_fields(request["fields"], self.removed_fields)
            try:
                return self._send(endpoint, path, request, account, since=since, ids=ids, dropped=dropped)
            except ObjectGone:
                raise
            except FatalApiError as exc:
                field = refused_field(exc)
                if field is None or not without_fields(str(request.get("fields") or ""), {field})[1]:
                    raise  # not version drift, or dropping the field cannot help: the caller records the failure
                if field in self.removed_fields:
                    continue  # another worker of the shard dropped it while this request was under way
                self.removed_fields.add(field)
                log.warning(
                    "field no longer served; dropped for the rest of the run",
                    **{"source": self.platform, "field": field, "graph_version": self.version, "endpoint": endpoint.name},
                )

    @property
    def version(self) -> str:
        return self.base_url.rsplit("/", 1)[-1]

    def _send(
        self, endpoint: EndpointSpec, path: str, request: dict[str, Any], account: str | None, *,
        since: str | None, ids: list[str] | None, dropped: list[str],
    ) -> dict[str, Any]:
        # Usage past USAGE_STOP (seen here or by another shard) is a block on QUOTA: spend() defers.
        self.budget.spend(endpoint.cost_units)
        self.landing.context = {
            "endpoint": endpoint.name, "account": account, **({"since": since} if since else {}),
            **({"ids": ids} if ids is not None else {}),
            **({"dropped_fields": dropped, "graph_version": self.version} if dropped else {}),
        }
        try:
            payload = self.client.get_json(self.base_url + path, {**request, "access_token": self.token}, account=account)
        except RetriableApiError as exc:
            exc.graph_error = self.last_error  # type: ignore[attr-defined]  # outcome_of() may run in another thread
            code = (self.last_error or (None,))[0]
            if code in THROTTLE_CODES:
                # A whole retry cycle was throttled and Meta sent no usage header saying when it recovers: block the
                # connection (both Graph platforms, every shard) and defer the rest instead of five calls per page.
                message = (f"{self.platform}: Graph throttling (code {code}) persisted through {self.client.max_attempts} "
                           f"attempts; connection '{CONN_ID}' left alone for {THROTTLE_BLOCK.seconds // 60} min, deferring the rest")
                self.budget.block(QUOTA, datetime.now(UTC) + THROTTLE_BLOCK, message)
                raise BudgetExhausted(message) from exc
            raise
        except FatalApiError as exc:
            exc.graph_error = self.last_error  # type: ignore[attr-defined]  # outcome_of() may run in another thread
            code = (self.last_error or (None,))[0]
            if code == 190 or exc.status == 401:
                raise TokenExpired(
                    f"the Graph token of connection '{CONN_ID}' expired or was revoked (code 190); renew it",
                    source=self.platform, account=account, status=exc.status,
                ) from None
            if code in PERMISSION_CODES and "restricted" not in str(exc).lower():
                meta = str(exc).split(": ", 1)[-1]
                raise PermissionRefused(
                    f"Meta refuses a permission to the token of connection '{CONN_ID}' ({meta}); {self.platform} needs "
                    f"{NEEDED_PERMISSIONS.get(self.platform, 'the permissions in README')}: grant it to the app and token",
                    source=self.platform, account=account, status=exc.status,
                ) from None
            if ids is not None and self.last_error == GONE:
                gone = ObjectGone(str(exc).split(": ", 1)[-1], source=self.platform, account=account, status=exc.status)
                gone.graph_error = self.last_error  # type: ignore[attr-defined]
                raise gone from None
            raise
        return payload if isinstance(payload, dict) else {}

    def outcome_of(self, exc: Exception, what: str) -> tuple[str, str]:
        """Ledger status and message for an account whose calls failed (its Graph error travels with it)."""
        last_error = getattr(exc, "graph_error", self.last_error)
        code = (last_error or (None,))[0]
        if isinstance(exc, FatalApiError) and (code in (110, 803) or last_error == GONE):
            return "not_found", f"source={self.platform} {what} not found: {exc}"
        if isinstance(exc, FatalApiError) and code == 10:
            # Only a page-specific restriction gets here: an app-wide code 10 raised PermissionRefused.
            return "private", f"source={self.platform} {what} is restricted (age- or country-gated): {exc}"
        return "api_error", str(exc)
