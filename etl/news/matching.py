"""Agency matching: which registered institutions a news text names, where, under which alias.

One Aho-Corasick automaton (pyahocorasick) holds every alias of the registry
and every place name of the regions, so a text is scanned once whatever the
number of aliases; matches are then filtered and resolved in Python:

* word boundaries and case-insensitivity (acronyms such as ``KSP`` or ``BIN``
  must be written in capitals, or "bin" in a person's name would count);
* longest match wins ("Kementerian Kominfo" over "Kominfo");
* an alias counts only inside its validity period at the article's date
  ("Kominfo" until 2024-10-20, "Komdigi" from 2024-10-21; both are KEM-KOMDIGI);
* a place name ("Kota Batam", "Kepri", "Luwu Timur") is where something
  happened, not an institution: it names a regional agency only right after a
  local-office word ("Diskominfo Kabupaten Luwu Timur", "Kadis Kominfo
  Kepulauan Riau"), and a local-office word without a place names nobody
  ("Diskominfo" alone is every regency's office).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import ahocorasick
import pandas as pd
import structlog

log = structlog.get_logger(__name__)

#: First words that make a regional alias an institution rather than a place.
INSTITUTION_WORDS = frozenset({"pemerintah", "pemprov", "pemkab", "pemkot", "pemda", "dinas", "diskominfo", "diskominfo-sp", "kominfo"})
#: Local-office words: followed by a place they name that region's agency; alone they name none.
OFFICE_WORDS = (
    "diskominfo", "diskominfo-sp", "diskominfotik", "diskominfo sp", "dinas kominfo", "dinas kominfotik", "kominfotik",
    "dinas komunikasi dan informatika", "dinas komunikasi informatika", "dinas komunikasi, informatika dan statistik",
    "dinas komunikasi informatika dan statistik", "dinas komunikasi, informatika, statistik dan persandian",
    "dinas komunikasi", "kadis kominfo", "kedis kominfo", "kepala dinas kominfo", "dinas", "pemda", "pemerintah daerah",
    "bupati", "wakil bupati", "wali kota", "walikota", "wakil wali kota", "gubernur", "wakil gubernur", "sekda",
    "sekretariat daerah", "kominfo",
)
#: Words allowed between an office word and its place ("Dinas Kominfo Provinsi Kepri").
_QUALIFIERS = ("provinsi", "prov.", "kabupaten", "kab.", "kota", "pemerintah", "pemprov", "pemkab", "pemkot")
CONFIDENCE = {"name": 1.0, "former_name": 1.0, "short": 0.95, "abbreviation": 0.95, "colloquial": 0.85}
OFFICE_PLACE_CONFIDENCE = 0.8
_ODD_SPACE = re.compile(r"[^\S ]|  +")


@dataclass(frozen=True)
class Match:
    """One mention of an agency in a text; positions are character offsets into the original text."""

    agency_code: str
    alias: str  # the registry alias, or "<office word> <place>" for a resolved local office
    start: int
    end: int
    confidence: float
    method: str  # "alias" or "office+place"


@dataclass(frozen=True)
class _Entry:
    kind: str  # "alias", "place" or "office"
    agency_code: str | None
    alias: str
    alias_kind: str
    valid_from: date | None
    valid_to: date | None
    case_sensitive: bool

    def valid_on(self, day: date | None) -> bool:
        if day is None:
            return True
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)


def _fold(text: str) -> str:
    """Lower case without changing the length (positions must map back to the original)."""
    text = text.replace("\u0130", "I")
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def _normalise(text: str) -> tuple[str, list[int], list[int]]:
    """Text with whitespace runs as one space, folded; plus breakpoints mapping offsets back to ``text``."""
    norm_at: list[int] = []  # offset in the normalised text where a shift starts
    shift: list[int] = []  # characters removed before that offset, cumulated
    pieces: list[str] = []
    last = removed = 0
    for m in _ODD_SPACE.finditer(text):
        pieces.append(text[last : m.start()])
        pieces.append(" ")
        removed += len(m.group()) - 1
        if len(m.group()) > 1:
            norm_at.append(m.start() - (removed - (len(m.group()) - 1)) + 1)
            shift.append(removed)
        last = m.end()
    pieces.append(text[last:])
    return _fold("".join(pieces)), norm_at, shift


def _original(offset: int, norm_at: list[int], shift: list[int]) -> int:
    i = bisect.bisect_right(norm_at, offset)
    return offset + (shift[i - 1] if i else 0)


def _key(alias: str) -> str:
    return _fold(re.sub(r"\s+", " ", alias.strip()))


def _date(value: object) -> date | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value) or value == "":
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


class AgencyMatcher:
    """Finds agency mentions in texts; build once per task from the registry (or dim tables), reuse for every article."""

    def __init__(self, agencies: pd.DataFrame, aliases: pd.DataFrame) -> None:
        category = dict(zip(agencies["agency_code"], agencies["category"], strict=True))
        entries: dict[str, list[_Entry]] = {}

        def add(key: str, entry: _Entry) -> None:
            if len(key) >= 2:
                entries.setdefault(key, []).append(entry)

        place_owners: dict[str, set[str]] = {}
        for row in aliases.itertuples(index=False):
            alias = str(row.alias)
            regional = category.get(row.agency_code) in ("provinsi", "kabkota")
            first = _key(alias).split(" ")[0]
            frm, to = _date(row.valid_from), _date(row.valid_to)
            if regional and first not in INSTITUTION_WORDS:
                # "Kota Batam", "Kepri": a place; and "Kabupaten Luwu Timur" also yields the bare "luwu timur".
                add(_key(alias), _Entry("place", row.agency_code, alias, str(row.kind), frm, to, alias.isupper()))
                for prefix in ("kabupaten ", "kota ", "provinsi "):
                    if _key(alias).startswith(prefix):
                        place_owners.setdefault(_key(alias)[len(prefix) :], set()).add(row.agency_code)
                continue
            add(
                _key(alias),
                _Entry("alias", row.agency_code, alias, str(row.kind), frm, to, alias.isupper() and " " not in alias),
            )
        for bare, owners in place_owners.items():
            # A bare name shared by a regency and a city ("Bandung") or a province is ambiguous: left out.
            if len(owners) == 1 and not any(e.kind == "place" for e in entries.get(bare, [])):
                (owner,) = owners
                add(bare, _Entry("place", owner, bare, "bare_place", None, None, False))
        for word in OFFICE_WORDS:
            add(word, _Entry("office", None, word, "office", None, None, False))
        self._automaton = ahocorasick.Automaton()
        for key, values in entries.items():
            self._automaton.add_word(key, (key, tuple(values)))
        self._automaton.make_automaton()
        self.patterns = len(entries)
        log.debug("agency matcher built", patterns=self.patterns, aliases=len(aliases))

    @classmethod
    def from_registry(cls, registry_dir: Path) -> AgencyMatcher:
        """The matcher over ``registry_dir``'s agencies.csv and agency_aliases.csv."""
        from etl.registry import read_agencies, read_aliases  # noqa: PLC0415

        agencies = read_agencies(registry_dir / "agencies.csv")
        return cls(agencies, read_aliases(registry_dir / "agency_aliases.csv", set(agencies["agency_code"])))

    def match(self, text: str, on: date | None = None) -> list[Match]:
        """Every agency mention in ``text`` as of ``on`` (the article's date), in text order."""
        norm, norm_at, shift = _normalise(text)
        hits: list[tuple[int, int, tuple[_Entry, ...]]] = []
        for end_index, (key, values) in self._automaton.iter(norm):
            start, end = end_index - len(key) + 1, end_index + 1
            if (start > 0 and norm[start - 1].isalnum()) or (end < len(norm) and norm[end].isalnum()):
                continue
            original = text[_original(start, norm_at, shift) : _original(end - 1, norm_at, shift) + 1]
            kept = tuple(v for v in values if not v.case_sensitive or original == v.alias)
            if kept:
                hits.append((start, end, kept))
        places = {}
        for start, end, values in hits:
            for v in values:
                if v.kind == "place" and v.valid_on(on):
                    if start not in places or end > places[start][0]:
                        places[start] = (end, v)
        # Leftmost-longest over institutions and office words; places only serve office words.
        spans = sorted(
            ((s, e, v) for s, e, v in hits if any(x.kind != "place" for x in v)), key=lambda h: (h[0], -(h[1] - h[0]))
        )
        matches: list[Match] = []
        taken_until = -1
        for start, end, values in spans:
            if start < taken_until:
                continue
            taken_until = end
            resolved = self._after_office(norm, end, places) if any(v.kind == "office" for v in values) else None
            orig_start = _original(start, norm_at, shift)
            if resolved is not None:
                place_end, place = resolved
                taken_until = place_end
                orig_end = _original(place_end - 1, norm_at, shift) + 1
                matches.append(
                    Match(
                        str(place.agency_code),
                        " ".join(text[orig_start:orig_end].split()),
                        orig_start,
                        orig_end,
                        OFFICE_PLACE_CONFIDENCE,
                        "office+place",
                    )
                )
                continue
            valid = [v for v in values if v.kind == "alias" and v.valid_on(on)]
            for v in sorted(valid, key=lambda v: (str(v.agency_code))):
                matches.append(
                    Match(
                        str(v.agency_code),
                        v.alias,
                        orig_start,
                        _original(end - 1, norm_at, shift) + 1,
                        CONFIDENCE.get(v.alias_kind, 0.8),
                        "alias",
                    )
                )
        return matches

    @staticmethod
    def _after_office(norm: str, end: int, places: dict[int, tuple[int, _Entry]]) -> tuple[int, _Entry] | None:
        """The place that directly follows an office word, allowing a qualifier ("Provinsi") and brackets."""
        pos = end
        for _ in range(3):
            while pos < len(norm) and norm[pos] in " (-":
                pos += 1
            if pos in places:
                return places[pos]
            for word in _QUALIFIERS:
                if norm.startswith(word, pos) and (pos + len(word) == len(norm) or not norm[pos + len(word)].isalnum()):
                    pos += len(word)
                    break
            else:
                return None
        return None


def agency_codes(matches: list[Match]) -> set[str]:
    """The distinct agencies among ``matches``."""
    return {m.agency_code for m in matches}


def precision_recall(expected: dict[str, set[str]], found: dict[str, set[str]]) -> tuple[float, float, int, int]:
    """Precision, recall, true positives and expected pairs over (document, agency) pairs."""
    tp = sum(len(expected[k] & found.get(k, set())) for k in expected)
    predicted = sum(len(v) for v in found.values())
    relevant = sum(len(v) for v in expected.values())
    return (tp / predicted if predicted else 1.0, tp / relevant if relevant else 1.0, tp, relevant)
