"""JSON on the hot paths: every API answer, every landed line and every raw record of a night go through here.

msgspec's C decoder and encoder are ~1.8x and ~7x faster than the standard library's on these payloads (a national night
decodes ~20,000 answers twice: from the API, then from the landing file; and encodes ~1,000,000 records). Where
msgspec is stricter than :mod:`json` (a lone surrogate escaped as ``\\ud83d``, which hostile posts carry; ``NaN``;
an exponent past a double), the standard library reads it, so what was accepted before still is.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec


def loads(data: str | bytes) -> Any:
    """The decoded JSON document; ``ValueError`` when it is not JSON."""
    try:
        return msgspec.json.decode(data)
    except msgspec.MsgspecError:
        return json.loads(data)


def record_json(item: Any) -> str:
    """``item`` as compact JSON text with sorted keys, UTF-8 as is; lone surrogates JSON-escaped (``\\ud83d``), so
    the text can be stored (UTF-8 cannot carry them)."""
    try:
        return msgspec.json.encode(item, order="sorted").decode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(item, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
