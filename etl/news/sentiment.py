"""Indonesian lexicon sentiment with negation and intensifiers, a score in [-1, 1].

The bundled lexicon (``lexicon_id.tsv``, project licence) is small and
written for government news; a user lexicon in the common
``word<TAB>weight`` format (-5..+5, e.g. InSet's) is loaded on top when
``PANTAU_NEWS_LEXICON`` names one (its weights win).

Scoring: each lexicon word (or phrase of up to three words) contributes its
weight; a negator within the three words before it flips and damps it
("tidak baik" is negative, though less than "buruk"); an intensifier right
before it (or "sekali" right after) scales it.  The sum is squashed with
``s / sqrt(s^2 + 15)`` (as VADER does) so one strong word does not saturate
the scale and long texts do not all end at +-1.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)

BUNDLED_LEXICON = Path(__file__).with_name("lexicon_id.tsv")
NEGATORS = frozenset({"tidak", "tak", "bukan", "belum", "tanpa", "jangan", "enggak", "nggak", "gak", "tiada"})
#: Multipliers of the next sentiment word.
INTENSIFIERS = {
    "sangat": 1.5, "amat": 1.5, "paling": 1.6, "terlalu": 1.4, "sungguh": 1.4, "begitu": 1.3, "makin": 1.2,
    "semakin": 1.2, "benar-benar": 1.4, "cukup": 0.8, "agak": 0.7, "sedikit": 0.7, "kurang": -0.5,
}
#: Multipliers of the previous sentiment word ("baik sekali").
POST_INTENSIFIERS = {"sekali": 1.5, "banget": 1.5}
NEGATION_FACTOR = -0.74  # "tidak baik" is bad, but milder than "buruk" (VADER's constant)
NEGATION_WINDOW = 3
ALPHA = 15.0
MAX_PHRASE = 3
_TOKEN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


class LexiconError(ValueError):
    """A lexicon file that cannot be read as word<TAB>weight."""


def read_lexicon(path: Path) -> dict[str, float]:
    """``word<TAB>weight`` lines (weights -5..+5); '#' starts a comment. Errors name the file, line and field."""
    lexicon: dict[str, float] = {}
    with Path(path).open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            line = line.rstrip("\n\r")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            word, sep, weight = line.rpartition("\t")
            if not sep or not word.strip():
                raise LexiconError(f"{path}:{number}: expected word<TAB>weight, got {line[:60]!r}")
            try:
                value = float(weight)
            except ValueError:
                raise LexiconError(f"{path}:{number}: field weight: {weight!r} is not a number") from None
            if not -5 <= value <= 5:
                raise LexiconError(f"{path}:{number}: field weight: {value} is outside -5..+5")
            lexicon[" ".join(_TOKEN.findall(word.lower()))] = value
    return lexicon


@lru_cache(maxsize=4)
def load_lexicon(user_lexicon: Path | None = None) -> Mapping[str, float]:
    """The bundled lexicon, with ``user_lexicon`` (if given) loaded over it."""
    lexicon = read_lexicon(BUNDLED_LEXICON)
    if user_lexicon is not None:
        user = read_lexicon(user_lexicon)
        lexicon.update(user)
        log.info("user sentiment lexicon loaded", file=str(user_lexicon), words=len(user))
    return lexicon


@dataclass(frozen=True)
class Sentiment:
    score: float  # in [-1, 1]
    positive_words: int
    negative_words: int


_FIRST_WORDS: dict[int, tuple[Mapping[str, float], int, frozenset[str]]] = {}


def _first_words(lexicon: Mapping[str, float]) -> frozenset[str]:
    """The words a lexicon entry starts with: at any other word no phrase can start (most words of a text)."""
    cached = _FIRST_WORDS.get(id(lexicon))
    if cached is None or cached[0] is not lexicon or cached[1] != len(lexicon):
        cached = (lexicon, len(lexicon), frozenset(key.split(" ")[0] for key in lexicon))
        _FIRST_WORDS[id(lexicon)] = cached
    return cached[2]


def score(text: str, lexicon: Mapping[str, float] | None = None) -> Sentiment:
    """The sentiment of ``text`` in [-1, 1]; 0.0 when no lexicon word is found."""
    lexicon = lexicon if lexicon is not None else load_lexicon()
    first_words = _first_words(lexicon)
    tokens = _TOKEN.findall(text.lower())
    total, pos, neg = 0.0, 0, 0
    i = 0
    while i < len(tokens):
        if tokens[i] not in first_words:
            i += 1
            continue
        length, weight = 0, None
        for n in range(MAX_PHRASE, 0, -1):
            phrase = " ".join(tokens[i : i + n])
            if i + n <= len(tokens) and phrase in lexicon:
                length, weight = n, lexicon[phrase]
                break
        if weight is None:
            i += 1
            continue
        value = weight
        before = tokens[max(0, i - NEGATION_WINDOW) : i]
        if i > 0 and tokens[i - 1] in INTENSIFIERS:
            value *= INTENSIFIERS[tokens[i - 1]]
        if any(t in NEGATORS for t in before):
            value *= NEGATION_FACTOR
        after = i + length
        if after < len(tokens) and tokens[after] in POST_INTENSIFIERS:
            value *= POST_INTENSIFIERS[tokens[after]]
        total += value
        pos += value > 0
        neg += value < 0
        i += length
    squashed = total / math.sqrt(total * total + ALPHA) if total else 0.0
    return Sentiment(round(max(-1.0, min(1.0, squashed)), 4), pos, neg)


def sentences_around(text: str, positions: list[tuple[int, int]]) -> str:
    """The sentences of ``text`` that contain any of the (start, end) spans: a mention's context."""
    return " ".join(part for start, end, part in _sentences(text) if any(s < end and e > start for s, e in positions))


@lru_cache(maxsize=4)
def _sentences(text: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, text) of each sentence; kept for the last few texts, since every agency an article names asks
    for its own sentences of the same text."""
    spans = []
    offset = 0
    for part in _SENTENCE.split(text):
        start = text.find(part, offset)
        end = start + len(part)
        offset = end
        spans.append((start, end, part))
    return tuple(spans)
