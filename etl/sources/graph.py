"""What the Instagram and Facebook sources share: the Graph API's errors, usage headers and version.

Graph errors arrive as HTTP 400/403 with ``error.code`` in the body, so the
shared client is given :meth:`GraphCalls.classify`:

- codes 4, 17, 32, 613 (app, user, page, custom rate limits), the 80001-80014
  business-use-case limits and code 100 subcode 33 are throttling: retried
  with backoff;
- code 190 is an expired or invalid token: the platform stops at once and its
  accounts are recorded ``token_expired`` with a message naming the connection.

``X-App-Usage`` / ``X-Business-Use-Case-Usage`` (percentages of the limits)
are read from every answer: past :data:`USAGE_STOP` percent the source
stops calling and defers the rest, before Meta starts refusing.
"""

from __future__ import annotations

import json
import os
from typing import Any

import requests
import structlog

from etl.http import ApiClient, BudgetExhausted, FatalApiError
from etl.landing import LandingWriter
from etl.sources.base import EndpointSpec, RateBudget

log = structlog.get_logger(__name__)

CONN_ID = "meta_graph"
DEFAULT_BASE_URL = "https://graph.facebook.com"
THROTTLE_CODES = frozenset({4, 17, 32, 613, *range(80001, 80015)})
PERCENT_COUNTERS = frozenset({"call_count", "total_cputime", "total_time", "acc_id_util_pct"})
USAGE_STOP = 90  # percent of any Graph usage counter past which we defer instead of calling


def graph_version() -> str:
    """The Graph API version (PANTAU_GRAPH_API_VERSION, default v21.0): one setting for both sources."""
    version = os.environ.get("PANTAU_GRAPH_API_VERSION") or "v21.0"
    return version if version.startswith("v") else f"v{version}"


class TokenExpired(FatalApiError):
    """Graph error 190: the token of the connection expired or was revoked."""


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
        self.last_error: tuple[Any, Any] | None = None  # (code, subcode) of the last Graph error body
        client.classify = self.classify

    def classify(self, response: requests.Response) -> tuple[str, str] | None:
        """Throttling is retriable, whatever the HTTP status; everything else is left to the client."""
        self._read_usage(response.headers)
        if response.status_code < 400:
            self.last_error = None
            return None
        error = graph_error(response)
        code, subcode = error.get("code"), error.get("error_subcode")
        self.last_error = (code, subcode)
        if code in THROTTLE_CODES or (code == 100 and subcode == 33) or error.get("is_transient") is True:
            return "retriable", f"Graph throttling code {code}" + (f"/{subcode}" if subcode else "") + f": {error.get('message')}"
        return None

    def _read_usage(self, headers: Any) -> None:
        # The latest answer is the current state: usage falls again as Meta's rolling window moves on.
        seen: list[int] = []
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
                    if (counter.get("estimated_time_to_regain_access") or 0) > 0:
                        seen.append(100)  # Meta already blocks this business use case for some minutes
        if seen:
            self.usage = max(seen)

    def get(
        self, endpoint: EndpointSpec, path: str, params: dict[str, Any], account: str | None, *, since: str | None = None
    ) -> dict[str, Any]:
        """One Graph call; ``since`` (ISO) is landed with it when the answer may hold posts older than the window."""
        if self.usage >= USAGE_STOP:
            raise BudgetExhausted(f"{self.platform}: Graph usage at {self.usage}% of the limit; deferring the rest")
        self.budget.spend(endpoint.cost_units)
        self.landing.context = {"endpoint": endpoint.name, "account": account, **({"since": since} if since else {})}
        try:
            payload = self.client.get_json(self.base_url + path, {**endpoint.params, **params, "access_token": self.token}, account=account)
        except FatalApiError as exc:
            if (self.last_error or (None,))[0] == 190 or exc.status == 401:
                raise TokenExpired(
                    f"the Graph token of connection '{CONN_ID}' expired or was revoked (code 190); renew it",
                    source=self.platform, account=account, status=exc.status,
                ) from None
            raise
        return payload if isinstance(payload, dict) else {}

    def outcome_of(self, exc: Exception, what: str) -> tuple[str, str]:
        """Ledger status and message for an account whose calls failed."""
        code = (self.last_error or (None,))[0]
        if isinstance(exc, FatalApiError) and code in (110, 803):
            return "not_found", f"source={self.platform} {what} not found: {exc}"
        if isinstance(exc, FatalApiError) and code == 10:
            return "private", f"source={self.platform} {what} is restricted (age- or country-gated): {exc}"
        return "api_error", str(exc)
