"""Canonical URLs and article ids: the same story seen in several feeds and in GDELT is one article.

The canonical form folds what differs between copies of one URL and never
what tells two stories apart: scheme (https), host case, ``www.``/``m.``/
``amp.``/``mobile.`` prefixes, default ports, fragments, tracking
parameters, AMP path markers, trailing slashes and the order of the
remaining query parameters.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

#: Query parameters that only say where a click came from.
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "gclsrc", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "ocid", "cmpid"}
)
#: Query parameters that only ask for the AMP or mobile rendering.
VARIANT_PARAMS = frozenset({"amp", "outputtype", "output", "mobile", "m", "page", "single"})
_HOST_PREFIXES = ("www.", "m.", "amp.", "mobile.", "wap.")
_AMP_SEGMENTS = re.compile(r"(?:/amp)+(?=/|$)|\.amp(?=$|/)", re.IGNORECASE)


class UrlError(ValueError):
    """A URL that cannot name an article (no host, not http)."""


def canonical_url(url: str) -> str:
    """The canonical form of an article URL; raises :class:`UrlError` for a URL without an http(s) host."""
    raw = (url or "").strip()
    if raw.startswith("//"):
        raw = "https:" + raw
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise UrlError(f"not an http(s) article URL: {url!r}")
    host = parts.hostname.lower().rstrip(".")
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix) :]
            break
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    path = re.sub(r"/{2,}", "/", parts.path or "/")
    path = _AMP_SEGMENTS.sub("", path) or "/"
    if path.startswith("/amp/"):
        path = path[4:]
    path = quote(unquote(path), safe="/:@!$&'()*+,;=-._~%")
    if len(path) > 1:
        path = path.rstrip("/")
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in TRACKING_PARAMS and k.lower() not in VARIANT_PARAMS
    )
    return urlunsplit(("https", host, path, urlencode(query), ""))


def article_id(canonical: str) -> str:
    """A stable 16-hex-digit id of a canonical URL (SHA-256 prefix; collisions are negligible at news volumes)."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
