"""Tone of each mention toward its institution: who does what to whom (issue 16).

One score per article cannot say that "KPK tangkap Bupati Pati" is good news for the KPK and bad news
for the regency. These rules read the words around each mention (its sentence: the headline or the
lead's sentence), with the event words of ``tone_words.tsv``:

1. A fact-check verdict opening the text ("Keliru:", "Menyesatkan:") is about a claim, not about the
   agency: neutral.
2. An **action** word right after the mention (within ``ACTION_WINDOW`` tokens: "KPK tangkap", "Polda
   Riau bongkar", "Bea Cukai gagalkan") is the agency acting: positive.
3. An **inquiry** word right after it ("KPK dalami", "Kejagung usut", "Kemenag respons") is the agency
   investigating or answering: neutral, whatever the case is about.
4. Otherwise a **negative** word in the sentence ("tersangka", "kena OTT", "dikritik") makes it
   negative, unless the agency is the sentence's enforcer (another mention acts on it: then the
   enforcer is positive and the others negative).
5. Otherwise a **positive** word ("salurkan bantuan", "raih penghargaan") makes it positive.
6. Else neutral.

The measured quality of these rules (macro-F1, negative-class F1, on held-back headlines) is in
README and in ``etl_news_tone_quality``; the report shows tone with it and never ranks by it.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache, partial
from itertools import compress
from pathlib import Path

from etl.news.matching import Match

TONE_WORDS = Path(__file__).with_name("tone_words.tsv")
ACTION_WINDOW = 3
_TOKEN = re.compile(r"[a-z0-9]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
TONE_SCORE = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}
METHOD = "rules-v1"
KINDS = ("action", "inquiry", "reveal", "passive", "crime", "shield", "negative", "positive", "hoax")


@dataclass(frozen=True)
class Tone:
    label: str  # negative, neutral or positive
    score: float  # -1, 0 or 1
    reason: str  # the rule that decided, for the error list


@lru_cache(maxsize=2)
def load_tone_words(path: Path = TONE_WORDS) -> tuple[dict[str, str], tuple[tuple[str, str], ...]]:
    """Exact words and prefixes (``korup*``) with their class; errors name the file and line."""
    exact: dict[str, str] = {}
    prefixes: list[tuple[str, str]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        word, sep, kind = line.partition("\t")
        if not sep or kind not in KINDS:
            raise ValueError(f"{path}:{number}: expected word<TAB>{'|'.join(KINDS)}, got {line[:60]!r}")
        if word.endswith("*"):
            prefixes.append((word[:-1], kind))
        else:
            exact[word] = kind
    return exact, tuple(prefixes)


def _kind(token: str, exact: dict[str, str], prefixes: tuple[tuple[str, str], ...]) -> str | None:
    kind = exact.get(token)
    if kind is None:
        kind = next((k for p, k in prefixes if token.startswith(p)), None)
    return kind


def _kinds_of(words: tuple[dict[str, str], tuple[tuple[str, str], ...]]) -> dict[str, str | None]:
    """Token -> tone-word kind for ``words``, kept across articles: a prefix (``korup*``) is looked for once per
    distinct token, not once per article (a 50,000-article day has a few tens of thousands of distinct tokens)."""
    cached = _KINDS.get(id(words))
    if cached is None or cached[0] is not words or len(cached[1]) > _KINDS_MAX_TOKENS:
        cached = _KINDS[id(words)] = (words, {})
    return cached[1]


#: words object id -> (words, token -> kind); bounded, since numbers and names make the vocabulary open-ended.
_KINDS: dict[int, tuple[tuple[dict[str, str], tuple[tuple[str, str], ...]], dict[str, str | None]]] = {}
_KINDS_MAX_TOKENS = 500_000


class _Article:
    """One article's tokens with their tone-word kinds and sentence numbers, analysed once for all its mentions."""

    def __init__(self, text: str, words: tuple[dict[str, str], tuple[tuple[str, str], ...]]) -> None:
        lowered = text.lower()
        self.bounds = bounds = [m.end() for m in _SENTENCE_END.finditer(lowered)]
        # map() over C-level callables, not comprehensions: a 50,000-article night has ~3 million tokens (issue 11).
        found = list(_TOKEN.finditer(lowered))
        self.starts: list[int] = list(map(re.Match.start, found))
        tokens = list(map(re.Match.group, found))
        kinds_of = _kinds_of(words)
        for token in set(tokens).difference(kinds_of):
            kinds_of[token] = _kind(token, *words)
        self.kinds: list[str | None] = list(map(kinds_of.__getitem__, tokens))
        self.sentence: list[int] = list(map(partial(bisect.bisect_right, bounds), self.starts)) if bounds else [0] * len(tokens)
        first = self.kinds[:1]
        self.fact_check = first == ["hoax"] and ":" in text[:40]
        self.sentence_kinds: dict[int, set[str]] = {}
        for k, n in compress(zip(self.kinds, self.sentence, strict=True), self.kinds):  # the tokens with a kind
            self.sentence_kinds.setdefault(n, set()).add(k)

    def after(self, offset: int) -> int:
        """Index of the first token starting at or after ``offset``."""
        return bisect.bisect_left(self.starts, offset)

    def sentence_number(self, offset: int) -> int:
        """Number of the sentence holding ``offset``."""
        return bisect.bisect_right(self.bounds, offset)

    def sentence_of(self, offset: int) -> tuple[int, int, int]:
        """(sentence number, first token index, end token index) of the sentence holding ``offset``."""
        n = self.sentence_number(offset)
        return n, bisect.bisect_left(self.sentence, n), bisect.bisect_right(self.sentence, n)


def tone_of(text: str, own: list[Match], others: list[Match], article: _Article | None = None) -> Tone:
    """The tone of the article toward the agency of ``own`` (its mentions), given all the article's mentions."""
    article = article or _Article(text, load_tone_words())
    if article.fact_check:
        return Tone("neutral", 0.0, "fact-check")
    votes = [_mention_tone(article, m, others) for m in sorted(own, key=lambda m: m.start)]
    # The first mention (the headline's) speaks for the article; a later one decides only when it is neutral.
    decided = [v for v in votes if v.label != "neutral"]
    return votes[0] if votes[0].label != "neutral" or not decided else decided[0]


def tones(text: str, matches: list[Match]) -> dict[str, Tone]:
    """The tone toward every agency among ``matches``, the article analysed once."""
    article = _Article(text, load_tone_words())
    by_agency: dict[str, list[Match]] = {}
    for m in matches:
        by_agency.setdefault(m.agency_code, []).append(m)
    return {code: tone_of(text, own, matches, article) for code, own in by_agency.items()}


def _mention_tone(a: _Article, m: Match, others: list[Match]) -> Tone:
    n, lo, hi = a.sentence_of(m.start)
    sentence = a.sentence_kinds.get(n, set())
    crime = bool({"negative", "passive", "crime"} & sentence)
    role = _agency_act(a, m, hi, crime)
    if role == "acts":
        return Tone("positive", 1.0, "acts")
    if role == "inquires":
        return Tone("neutral", 0.0, "inquires")
    if role == "suffers":
        return Tone("negative", -1.0, "suffers")  # "Wakil Wali Kota Bandung kena OTT"
    first = a.after(m.start)
    if _passive_agent(a.kinds[max(lo, first - 2) : first]):
        return Tone("positive", 1.0, "enforcer (passive)")  # "ditahan KPK", "kena OTT KPK"
    enforcer = (first > lo and a.kinds[first - 1] == "action") or any(  # "OTT Bupati Bekasi"; "KPK telusuri mobil Bupati Bekasi"
        o.agency_code != m.agency_code
        and a.sentence_number(o.start) == n
        and (
            _agency_act(a, o, hi, crime) == "acts"
            or (o.start < m.start and (crime or m.role != "institution") and _agency_act(a, o, hi, crime) == "inquires")
            or _passive_agent(a.kinds[max(lo, a.after(o.start) - 2) : a.after(o.start)])
        )
        for o in others
    )
    if enforcer or _negative(a.kinds[lo:hi]):
        return Tone("negative", -1.0, "acted on" if enforcer else "scandal")
    if "positive" in sentence:
        return Tone("positive", 1.0, "achievement")
    return Tone("neutral", 0.0, "no event")


def _passive_agent(before: list[str | None]) -> bool:
    """The mention follows an enforcement suffered ("ditahan KPK", "kena OTT KPK"): it is the enforcer."""
    return "passive" in before[-2:]


def _negative(kinds: list[str | None]) -> bool:
    """A negative word not cancelled by a shield right before it ("pencegahan korupsi")."""
    return any(k == "negative" and (i == 0 or kinds[i - 1] != "shield") for i, k in enumerate(kinds))


def _agency_act(a: _Article, m: Match, end: int, crime: bool) -> str | None:
    """What the agency does in the words right after it: "acts", "inquires", "suffers" (an enforcement) or nothing."""
    first = a.after(m.end)
    for k in a.kinds[first : min(first + ACTION_WINDOW, end)]:
        if k == "action" or (k == "reveal" and crime):
            return "acts"
        if k in ("inquiry", "reveal"):
            return "inquires"
        if k == "passive":
            return "suffers"
        if k == "negative":
            return None
    return None
