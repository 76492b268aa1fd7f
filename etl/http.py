"""One HTTP client for every source.

Every platform call goes through :class:`ApiClient` so that timeouts, retries,
rate-limit handling, call accounting and secret redaction are written once.
Errors come out as two types: :class:`RetriableApiError` (the request may
succeed later: 429, 5xx, timeouts, broken bodies) and :class:`FatalApiError`
(it will not: bad key, not found, quota spent).  Both carry the source, the
account and the status so a failed task explains itself.
"""

from __future__ import annotations

import html
import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import msgspec
import requests
import structlog

from etl.jsontext import loads

log = structlog.get_logger(__name__)

#: Query parameters and JSON keys whose values are secrets on some platform.
SECRET_KEYS = frozenset(
    {
        "key",
        "api_key",
        "apikey",
        "access_token",
        "client_secret",
        "client_key",
        "token",
        "refresh_token",
        "password",
        "secret",
        "authorization",
        "appsecret_proof",
    }
)
REDACTED = "***"
RETRIABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class ApiError(Exception):
    """A platform call that did not give a usable answer."""

    def __init__(
        self,
        message: str,
        *,
        source: str,
        account: str | None = None,
        status: int | None = None,
        reason: str | None = None,
        url: str | None = None,
    ) -> None:
        self.source = source
        self.account = account
        self.status = status
        self.reason = reason
        self.url = url
        self.reasons: frozenset[str] = frozenset()
        where = f"source={source}" + (f" account={account}" if account else "")
        what = f" status={status}" if status is not None else ""
        why = f" reason={reason}" if reason else ""
        super().__init__(f"{where}{what}{why}: {message}")


class RetriableApiError(ApiError):
    """The call may succeed if tried again later (429, 5xx, timeout, bad body)."""

    def __init__(self, message: str, *, wait_seconds: float | None = None, **kw: Any) -> None:
        self.wait_seconds = wait_seconds
        super().__init__(message, **kw)


class FatalApiError(ApiError):
    """Trying again will not help (bad credentials, not found, quota spent)."""


class CredentialsRejected(FatalApiError):
    """The platform refuses our credentials for every call: fail the platform's tasks without retrying them."""


class BudgetExhausted(Exception):
    """The platform's rate budget for this run is spent; defer the rest."""


class CallsStopped(Exception):
    """Another worker of the shard met refused credentials or a spent budget: this one calls no more (see etl.sources.concurrency)."""


def redact_url(url: str) -> str:
    """Return ``url`` with the values of secret query parameters masked."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [(k, REDACTED if k.lower() in SECRET_KEYS else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(query, safe=",:")))


def secret_forms(secret: str) -> list[str]:
    """The ways a server may echo ``secret`` into a body: as sent, JSON-escaped (``\\/``, ``\\u002f``), URL-encoded."""
    def escaped(fmt: str) -> str:
        # What JSON encoders may write as \\uXXXX: the slash, quotes, HTML-unsafe characters, non-ASCII, controls.
        return "".join(fmt % ord(c) if c in "/\\\"'<>&" or not c.isascii() or not c.isprintable() else c for c in secret)

    forms = [
        secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1], secret.replace("/", "\\/"),
        escaped("\\u%04x"), escaped("\\u%04X"), quote(secret, safe=""), quote(secret, safe="").replace("%", "%25"),
    ]
    return list(dict.fromkeys(f for f in forms if f))


#: A secret's prefix this long or longer is masked where a server echoes it cut short ("EAAGm0PX4ZCps..." in an error).
SECRET_PREFIX = 8


def mask_secrets(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every known secret masked: whole, JSON-escaped or URL-encoded, or cut to a prefix of 8+ characters.

    Servers echo a token back in error bodies (Meta's "Invalid OAuth access token - Cannot parse access token"
    variants, a reflected query string), sometimes escaped ("a\\/b") and sometimes cut short; all of those land
    in the raw files, so all are masked. A secret shorter than the prefix length is masked only whole.
    """
    short_forms, long_forms, heads = _masks(tuple(s for s in secrets if s))
    for form in short_forms:
        text = text.replace(form, REDACTED)
    if not heads:
        return text
    out: list[str] = []
    start = 0
    while True:
        found = [(i, h) for h in heads if (i := text.find(h, start)) >= 0]
        if not found:
            break
        at, head = min(found)
        # The longest stretch of any form of the secret that the server echoed from here.
        end = max(at + _common(text, at, form) for form in long_forms if form.startswith(head))
        out += [text[start:at], REDACTED]
        start = end
    return "".join(out) + text[start:]


@lru_cache(maxsize=64)
def _masks(secrets: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...], frozenset[str]]:
    """The forms of ``secrets`` masked whole (shorter than the prefix), those masked from a prefix, and the prefixes.

    Every answer a client lands passes through :func:`mask_secrets` with the same few secrets: their forms are
    worked out once (issue 11: rebuilt per answer, they were a tenth of the client's CPU per call).
    """
    forms = [f for secret in secrets for f in secret_forms(secret)]
    long_forms = tuple(f for f in forms if len(f) >= SECRET_PREFIX)
    return tuple(f for f in forms if len(f) < SECRET_PREFIX), long_forms, frozenset(f[:SECRET_PREFIX] for f in long_forms)


def _common(text: str, at: int, form: str) -> int:
    n = 0
    while n < len(form) and at + n < len(text) and text[at + n] == form[n]:
        n += 1
    return n


def redact(value: Any, secrets: Iterable[str] = ()) -> Any:
    """Mask secrets in a JSON-like value: secret keys, and any known secret string (see :func:`mask_secrets`)."""
    known = [s for s in secrets if s]
    if isinstance(value, Mapping):
        return {k: (REDACTED if str(k).lower() in SECRET_KEYS else redact(v, known)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, known) for v in value]
    if isinstance(value, str):
        return mask_secrets(value, known)
    return value


_SECRET_QUERY = re.compile(r"(?i)\b(" + "|".join(sorted(SECRET_KEYS)) + r")=([^&\s\"']+)")


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """Mask known secret strings (whole, escaped or cut to 8+ characters) and ``key=``-style query values inside free text."""
    text = mask_secrets(text, secrets)
    # Every response body passes here. Most hold no "=" at all (one scan in C); the others are lowered once and
    # searched for each "key=": ~9x cheaper than the regex scan they rule out.
    if "=" not in text:
        return text
    lowered = text.lower()
    if not any(f"{key}=" in lowered for key in SECRET_KEYS):
        return text
    return _SECRET_QUERY.sub(lambda m: f"{m.group(1)}={REDACTED}", text)


@lru_cache(maxsize=256)
def _prepared_base(url: str) -> str:
    """``url`` as requests sends it (host IDNA-encoded, path re-quoted); the sources call a handful of endpoints."""
    return requests.Request("GET", url).prepare().url or url


def with_query(url: str, params: Mapping[str, Any] | None) -> str:
    """The URL to send for ``url`` and ``params``: requests' own, except that ``,`` and ``:`` stay literal in the query.

    Both are allowed in a query (RFC 3986) and mean the same to every API here (``part=snippet,statistics``, ``id=``
    50 video ids, ``tweet.fields=...``); the landed URL (:func:`redact_url`) always showed them so. Escaped, they
    sent every URL through urllib3's character-by-character re-encoding twice per call, a tenth of a YouTube
    night's client time; so did preparing a whole request just for its URL (issue 11). None values are dropped
    and lists repeated, as requests does; requests' re-quoting of the result changes nothing.
    """
    if "#" in url:  # a fragment goes after the query: left to requests
        return requests.Request("GET", url, params=params).prepare().url or url
    base = _prepared_base(url)
    query = _encode_query(params) if params else ""
    if not query:
        return base
    return f"{base}{'&' if urlsplit(base).query else '?'}{query}"


def _encode_query(params: Mapping[str, Any]) -> str:
    pairs = []
    for key, values in params.items():
        for value in [values] if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__") else values:
            if value is not None:
                pairs.append((key, value))
    return urlencode(pairs, safe=",:")


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait as the server asked: Retry-After (seconds or HTTP date) or x-rate-limit-reset."""
    value = headers.get("Retry-After")
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            when = parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError):
            return None
        return max(0.0, when - (now if now is not None else time.time()))
    reset = headers.get("x-rate-limit-reset")
    if reset and reset.strip().isdigit():
        return max(0.0, float(reset) - (now if now is not None else time.time()))
    return None


@dataclass
class CallRecord:
    """What one HTTP exchange looked like, redacted, for the raw landing."""

    method: str
    url: str
    status: int
    body: str
    elapsed_ms: int
    attempt: int


@dataclass(frozen=True)
class RawResponse:
    """A successful (or 304) answer with its body undecoded, for sources that parse bytes themselves."""

    status: int
    content: bytes
    text: str
    headers: Mapping[str, str]

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass
class ApiClient:
    """A retrying HTTP client shared by every source.

    ``secrets`` are masked from every URL, body and message the client hands
    out; ``on_response`` receives a redacted :class:`CallRecord` for each
    exchange (the raw landing hooks in here, so bodies land before parsing).
    """

    source: str
    timeout: float = 30.0
    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 60.0
    max_wait: float = 300.0
    secrets: tuple[str, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    on_response: Callable[[CallRecord], None] | None = None
    sleep: Callable[[float], None] = time.sleep
    classify: Callable[[requests.Response], tuple[str, str] | None] | None = None
    session: requests.Session = field(default_factory=requests.Session)
    calls: int = 0
    retries: int = 0
    #: Calls a shard may have in flight at once (PANTAU_<PLATFORM>_CONCURRENCY); the sources' per-account work runs
    #: on that many threads (etl.sources.concurrency.Lanes), each with its own session.
    concurrency: int = 1

    def __post_init__(self) -> None:
        self._counting = threading.Lock()
        self._local = threading.local()
        self._owner = threading.get_ident()  # the thread that uses ``session``; others get their own
        self._halt: threading.Event | None = None
        self._lane_sessions: list[requests.Session] = []
        # requests reads the proxy variables, the CA bundle variables and ~/.netrc again on every call when a session
        # trusts the environment: ~11% of the pipeline process's busy samples in a demo night. The sessions here don't; the proxies,
        # CA bundle and client certificate the environment gives an origin are resolved once (_environment) and passed
        # with each call. ~/.netrc is never read: every source sends its own credentials.
        self.session.trust_env = False
        self._environments: dict[tuple[str, str], dict[str, Any]] = {}
        # Slow start: until a first call has been answered, one thread calls and the others wait. A refused secret, a
        # missing permission, a throttled app or a field the API version dropped is learnt from that thread's calls
        # (it keeps the probe until one succeeds or its work item ends), not from N calls at once.
        self._first_answer = threading.Condition(self._counting)
        self._answered = False
        self._prober: int | None = None

    @property
    def last_headers(self) -> Mapping[str, str]:
        """Headers of this thread's last answer (rate-limit windows, usage counters), for the source's budget."""
        return getattr(self._local, "last_headers", {})

    @last_headers.setter
    def last_headers(self, headers: Mapping[str, str]) -> None:
        self._local.last_headers = headers

    def _session(self) -> requests.Session:
        if threading.get_ident() == self._owner:
            return self.session
        session = getattr(self._local, "session", None)
        if session is None:
            # requests documents no thread safety for a Session: one per worker thread, closed with the lanes.
            session = self._local.session = requests.Session()
            session.trust_env = False
            with self._counting:
                self._lane_sessions.append(session)
        return session

    def _prepared(
        self, session: requests.Session, method: str, full_url: str, headers: Mapping[str, str] | None, json_body: Mapping[str, Any] | None
    ) -> requests.PreparedRequest:
        """The request ``session.request`` would send, from a URL already prepared (:func:`with_query`).

        ``Session.request`` prepares the URL again and merges settings the sessions here never set (auth, params,
        hooks): that merge was ~15% of a YouTube night's client time (issue 11). The session's headers and cookies
        are merged as it would.
        """
        prepared = requests.PreparedRequest()
        prepared.method = method
        prepared.url = full_url
        prepared.headers = requests.structures.CaseInsensitiveDict(session.headers)
        prepared.headers.update({**self.headers, **(headers or {})})
        for name in [name for name, value in prepared.headers.items() if value is None]:
            del prepared.headers[name]  # as requests merges them: None unsets a header
        prepared.prepare_cookies(session.cookies)
        prepared.prepare_body(None, None, json_body)
        prepared.hooks = requests.hooks.default_hooks()
        return prepared

    def _environment(self, url: str) -> dict[str, Any]:
        """What the environment says for ``url``'s origin (proxies honouring NO_PROXY, verify, cert), resolved once."""
        parts = urlsplit(url)
        origin = (parts.scheme, parts.netloc)
        settings = self._environments.get(origin)
        if settings is None:
            with requests.Session() as probe:
                merged = probe.merge_environment_settings(f"{parts.scheme}://{parts.netloc}/", {}, None, None, None)
            settings = {k: merged[k] for k in ("proxies", "verify", "cert")}
            if parts.scheme == "http":
                # No TLS: a CA bundle path (REQUESTS_CA_BUNDLE) would only make requests stat it on every call.
                settings.update(verify=True, cert=None)
            self._environments[origin] = settings
        return settings

    @contextmanager
    def stopped_by(self, halt: threading.Event) -> Iterator[None]:
        """While the block runs, no call starts once ``halt`` is set (:class:`CallsStopped`); then close the threads' sessions."""
        self._halt = halt
        self.release_probe()  # a probe the caller's thread held one call at a time must not hold up the workers
        try:
            yield
        finally:
            self._halt = None
            with self._counting:
                sessions, self._lane_sessions = self._lane_sessions, []
            for session in sessions:
                session.close()

    def _probe_first(self) -> None:
        """Before a call: wait while another thread holds the slow start's probe, then check the stop."""
        me = threading.get_ident()
        with self._first_answer:
            while not self._answered and self._prober not in (None, me):
                self._first_answer.wait()
            if not self._answered:
                self._prober = me
        if self._halt is not None and self._halt.is_set():
            raise CallsStopped(f"source={self.source}: the shard stopped calling (refused credentials or a spent budget)")

    def _probe_answered(self) -> None:
        with self._first_answer:
            if not self._answered:
                self._answered, self._prober = True, None
                self._first_answer.notify_all()

    def release_probe(self) -> None:
        """This thread's work item ended without a usable answer: the next waiting thread probes (after any stop is set)."""
        with self._first_answer:
            if self._prober == threading.get_ident():
                self._prober = None
                self._first_answer.notify_all()

    def _count(self, *, retry: bool = False) -> None:
        with self._counting:
            if retry:
                self.retries += 1
            else:
                self.calls += 1

    def get_json(
        self, url: str, params: Mapping[str, Any] | None = None, *, account: str | None = None, headers: Mapping[str, str] | None = None,
        reads: Any = None,
    ) -> Any:
        """GET ``url`` and return the decoded JSON body, retrying what can be retried (``headers``: this request's own).

        ``reads``: what the caller reads of a successful answer, as a ``TypedDict`` (see :func:`decode_reading`); the
        answer is checked as JSON whole, but only those members are built. None: the whole answer.
        """
        return self._request(url, params, account, headers, raw=False, reads=reads)

    def get_raw(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        *,
        account: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> RawResponse:
        """GET ``url`` and return the body undecoded (feeds, plain-text APIs), retrying what can be retried.

        ``headers`` are sent with this request only (conditional GET: If-None-Match,
        If-Modified-Since); a 304 Not Modified is an answer, not an error.
        """
        return self._request(url, params, account, headers, raw=True)

    def post_json(
        self, url: str, body: Mapping[str, Any], params: Mapping[str, Any] | None = None, *, account: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """POST a JSON body (query APIs such as TikTok Research) and return the decoded JSON answer, with the same retries."""
        return self._request(url, params, account, headers, raw=False, json_body=body)

    def _request(
        self,
        url: str,
        params: Mapping[str, Any] | None,
        account: str | None,
        headers: Mapping[str, str] | None,
        *,
        raw: bool,
        json_body: Mapping[str, Any] | None = None,
        reads: Any = None,
    ) -> Any:
        full_url = with_query(url, params)
        safe_url = redact_url(full_url)
        attempt = 0
        while True:
            attempt += 1
            try:
                answer = self._attempt(full_url, safe_url, attempt, account, headers, raw, json_body, reads)
                self._probe_answered()
                return answer
            except RetriableApiError as exc:
                if attempt >= self.max_attempts:
                    raise RetriableApiError(
                        f"gave up after {attempt} attempts: {exc.args[0].split(': ', 1)[-1]}",
                        source=self.source,
                        account=account,
                        status=exc.status,
                        reason=exc.reason,
                        url=safe_url,
                    ) from exc
                wait = self._backoff(attempt, exc.wait_seconds)
                self._count(retry=True)
                log.warning(
                    "retrying",
                    **{
                        "source": self.source,
                        "account": account,
                        "status": exc.status,
                        "attempt": attempt,
                        "wait_s": round(wait, 2),
                        "url": safe_url,
                    },
                )
                self.sleep(wait)

    def _backoff(self, attempt: int, asked: float | None) -> float:
        if asked is not None:
            if asked > self.max_wait:
                raise RetriableApiError(
                    f"server asked to wait {asked:.0f}s, more than the {self.max_wait:.0f}s allowed",
                    source=self.source,
                    wait_seconds=asked,
                )
            return asked
        # Full jitter keeps mapped tasks that hit the same limit from retrying in step.
        return random.uniform(0, min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1)))

    def _attempt(
        self,
        full_url: str,
        safe_url: str,
        attempt: int,
        account: str | None,
        headers: Mapping[str, str] | None = None,
        raw: bool = False,
        json_body: Mapping[str, Any] | None = None,
        reads: Any = None,
    ) -> Any:
        self._probe_first()
        started = time.perf_counter()
        self._count()
        method = "GET" if json_body is None else "POST"
        try:
            session = self._session()
            response = session.send(
                self._prepared(session, method, full_url, headers, json_body), timeout=self.timeout,
                allow_redirects=True, **self._environment(full_url),
            )
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise RetriableApiError(
                f"{type(exc).__name__} calling {safe_url}", source=self.source, account=account, url=safe_url
            ) from None
        elapsed_ms = int((time.perf_counter() - started) * 1000)
        self.last_headers = response.headers
        body = response.text
        if self.on_response is not None:
            self.on_response(
                CallRecord(method, safe_url, response.status_code, redact_text(body, self.secrets), elapsed_ms, attempt)
            )
        status = response.status_code
        # Decoded once: the reasons, the classifier's verdict and the caller all read this one payload (a national
        # night's ~20,000 answers were each decoded three times). An answer read in part (``reads``) is decoded whole
        # again only for an error's reasons: errors are few and small.
        whole = reads is None or status >= 400
        payload = _decode(body) if whole else decode_reading(body, reads)

        def error(error_type: type[ApiError], message: str, **extra: Any) -> ApiError:
            decoded = payload if whole else _decode(body)
            reasons = _reasons(None if decoded is _NOT_JSON else decoded)
            made = error_type(
                message, source=self.source, account=account, status=status, reason=reasons[0] if reasons else None, url=safe_url, **extra
            )
            made.reasons = frozenset(reasons)
            return made

        if self.classify is not None:
            verdict = self.classify(response)
            if verdict is not None:
                kind, why = verdict
                raise error(RetriableApiError if kind == "retriable" else FatalApiError, redact_text(why, self.secrets))
        if status in RETRIABLE_STATUSES:
            raise error(
                RetriableApiError,
                _error_message(body, self.secrets) or _empty(response),
                wait_seconds=retry_after_seconds(response.headers),
            )
        if status >= 400:
            raise error(FatalApiError, _error_message(body, self.secrets) or _empty(response))
        if raw:
            return RawResponse(status, response.content, body, dict(response.headers))
        if payload is _NOT_JSON:
            # A cut-off body is a transport accident, not the platform's answer.
            raise RetriableApiError(
                f"response body is not valid JSON ({len(body)} bytes)",
                source=self.source,
                account=account,
                status=status,
                reason="invalid_json",
                url=safe_url,
            )
        return payload


#: What :func:`_decode` returns for a body that is not JSON (``None`` is JSON's ``null``).
_NOT_JSON = object()


def _decode(body: str) -> Any:
    try:
        return loads(body)
    except ValueError:
        return _NOT_JSON


@lru_cache(maxsize=64)
def _decoder(reads: Any) -> msgspec.json.Decoder:
    return msgspec.json.Decoder(reads)


def decode_reading(body: str, reads: Any) -> Any:
    """``body`` decoded as ``reads``, a ``TypedDict`` (``total=False``) of the members a caller reads: the others are
    checked as JSON and skipped, never built; what is read comes back as plain dicts and lists.

    An answer that does not fit (a member of another JSON type, a top level that is not an object, text msgspec
    refuses) is decoded whole, as without ``reads``: the caller's own checks then see it as they always did.
    Building a YouTube night's videos.list answers (descriptions, tags, thumbnails no source reads) was half of
    the client's CPU in its worker threads (issue 11).
    """
    try:
        return _decoder(reads).decode(body)
    except msgspec.MsgspecError:
        return _decode(body)


def _json_body(body: str) -> Any:
    payload = _decode(body)
    return None if payload is _NOT_JSON else payload


def error_reasons(body: str) -> list[str]:
    """Every machine-readable reason in an error body, in the order given.

    Google: ``error.errors[].reason``, ``error.details[].reason``, ``error.status``; TikTok: ``error.code``
    (a string); X problem details: ``reason`` and the last part of ``type``
    (``https://api.x.com/2/problems/client-forbidden`` -> ``client-forbidden``).
    """
    return _reasons(_json_body(body))


def _reasons(payload: Any) -> list[str]:
    found = payload.get("error") if isinstance(payload, dict) else None
    error = found if isinstance(found, dict) else {}
    reasons = [str(e["reason"]) for e in error.get("errors") or [] if isinstance(e, dict) and e.get("reason")]
    reasons += [str(d["reason"]) for d in error.get("details") or [] if isinstance(d, dict) and d.get("reason")]
    if error.get("status"):
        reasons.append(str(error["status"]))
    if isinstance(error.get("code"), str) and error["code"] != "ok":
        reasons.append(error["code"])
    if isinstance(payload, dict) and not error:
        if payload.get("reason"):
            reasons.append(str(payload["reason"]))
        if isinstance(payload.get("type"), str) and "/problems/" in payload["type"]:
            reasons.append(payload["type"].rstrip("/").rsplit("/", 1)[-1])
    return list(dict.fromkeys(reasons))


#: Characters of a plain-text or unknown body kept in a message.
MESSAGE_CHARS = 300
_TAGS = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]+>", re.IGNORECASE | re.DOTALL)


def _plain(text: str) -> str:
    """Text without HTML tags (and without script/style contents), whitespace collapsed."""
    return " ".join(html.unescape(_TAGS.sub(" ", text)).split())


def _trimmed(text: str) -> str:
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 1].rstrip() + "…"


def _facts(*pairs: tuple[str, Any]) -> str:
    """`` (code 10; subcode 2069007)`` from the pairs that have a value."""
    shown = [f"{name} {value}" if name else str(value) for name, value in pairs if value not in (None, "", [], "ok")]
    return f" ({'; '.join(shown)})" if shown else ""


def _nested_error(error: dict[str, Any]) -> str:
    """Graph (message, code, error_subcode, error_user_title/_msg), Google (message, errors[].reason, status,
    details[].reason) and TikTok (message, code, log_id) under one ``error`` object."""
    message = _plain(str(error.get("message") or error.get("error_user_title") or ""))
    user_msg = _plain(str(error.get("error_user_msg") or ""))
    if user_msg and user_msg not in message:
        message = f"{message}: {user_msg}" if message else user_msg
    google = [str(e["reason"]) for e in error.get("errors") or [] if isinstance(e, dict) and e.get("reason")]
    google += [str(d["reason"]) for d in error.get("details") or [] if isinstance(d, dict) and d.get("reason")]
    return (message or "no message") + _facts(
        ("code", error.get("code")), ("subcode", error.get("error_subcode")),
        ("status", error.get("status")), ("reason", ", ".join(dict.fromkeys(google))), ("log_id", error.get("log_id")),
    )


def _error_list(errors: list[Any]) -> str:
    """X v1.1 ``errors[].message`` + ``code``, or v2 ``errors[]`` (title, detail, message, parameters)."""
    parts = []
    for item in errors:
        if isinstance(item, dict):
            text = _plain(str(item.get("message") or item.get("detail") or item.get("title") or ""))
            parts.append((text or "no message") + _facts(("code", item.get("code")), ("reason", item.get("reason"))))
        elif item:
            parts.append(_plain(str(item)))
    return "; ".join(dict.fromkeys(parts))


def error_text(body: str) -> str | None:
    """The platform's own words in an error body, whatever its shape; None for an empty body.

    Read, in this order: an ``error`` object (Graph, Google, TikTok); an OAuth ``error`` string with its
    ``error_description``; X problem details (``title``, ``detail``, ``reason``, ``type``, with the
    ``errors[]`` of an invalid request); a bare ``errors[]`` list (X v1.1 ``message`` + ``code``); a top-level
    ``message``; anything else is shown as text, HTML tags removed and trimmed to 300 characters.
    """
    payload = _json_body(body)
    if isinstance(payload, dict):
        error = payload.get("error")
        if isinstance(error, dict):
            return _trimmed(_nested_error(error))
        if isinstance(error, str) and error:
            return _trimmed(_plain(f"{error}: {payload.get('error_description') or payload.get('message') or ''}").rstrip(": "))
        if payload.get("title") or payload.get("detail") or payload.get("type"):
            title, detail = _plain(str(payload.get("title") or "")), _plain(str(payload.get("detail") or ""))
            text = ": ".join(p for p in (title, detail) if p) or "no message"
            listed = _error_list(payload.get("errors") or []) if isinstance(payload.get("errors"), list) else ""
            return _trimmed(text + (f" [{listed}]" if listed else "") + _facts(("reason", payload.get("reason")), ("type", payload.get("type"))))
        if isinstance(payload.get("errors"), list) and payload["errors"]:
            return _trimmed(_error_list(payload["errors"]))
        if payload.get("message"):
            return _trimmed(_plain(str(payload["message"])) + _facts(("code", payload.get("code"))))
    text = _plain(body) if payload is None else " ".join(body.split())
    return _trimmed(text) if text else None


def _empty(response: requests.Response) -> str:
    return f"HTTP {response.status_code} {response.reason or ''}".rstrip() + " with an empty body"


def _error_message(body: str, secrets: Iterable[str]) -> str | None:
    text = error_text(body)
    return redact_text(text, secrets) if text else None
