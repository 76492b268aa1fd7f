"""Agency matching: which registered institutions a news text names, where, under which alias and in which role.

One Aho-Corasick automaton (pyahocorasick) holds every alias of the registry,
every head title, unit and regional-office word of the news language files
(``registry/news_*.csv``, ``registry/place_short_forms.csv``) and every place
name, so a text is scanned once whatever their number; matches are then
filtered and resolved in Python:

* word boundaries and case-insensitivity (acronyms such as ``KSP`` or ``BIN``
  must be written in capitals, or "bin" in a person's name would count);
* leftmost-longest ("Kepala BGN" is the head, not the institution; "Wakil Wali
  Kota" is the deputy, not the head);
* an alias or title counts only inside its validity period at the article's
  date ("Kominfo"/"Menkominfo" until 2024-10-20, "Komdigi"/"Menkomdigi" from
  2024-10-21; all KEM-KOMDIGI);
* a **role** per mention: ``institution`` (a name of the agency), ``head``
  (its head's title, former heads included: "Eks Mentan"), ``deputy``
  ("Wamenkeu", "Wakil Bupati") or ``unit`` ("Bareskrim", "Polda Jatim",
  "Kemenag Sleman", "Dinkes DKI"; the unit's words are kept);
* a place ("Kota Batam", "Jaksel", "Bekasi") is where something happened, not
  an institution: it names a regional government only right after a
  regional-office word, and then only a place of that word's level (a bupati
  heads a regency, a wali kota a city, a gubernur a province: "Bupati
  Lampung" names nobody); a place shared by several governments ("Bandung")
  resolves only when the level decides it;
* a generic unit word ("Polda", "Lapas", "Kejari", "Polisi") counts only
  before a place; alone it names nobody, like "Menteri" or "Wali Kota";
* an alias that belongs to several agencies on the article's date credits nobody.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import ahocorasick
import pandas as pd
import structlog

log = structlog.get_logger(__name__)

ROLES = ("institution", "head", "deputy", "unit")
#: The role an (article, agency) row reports when the article names the agency in several roles.
ROLE_PRIORITY = {role: rank for rank, role in enumerate(ROLES)}
#: First words that make a regional alias an institution rather than a place.
INSTITUTION_WORDS = frozenset({"pemerintah", "pemprov", "pemkab", "pemkot", "pemda", "dinas", "diskominfo", "diskominfo-sp", "kominfo"})
#: Words allowed between an office word and its place ("Dinas Kominfo Provinsi Kepri").
_QUALIFIERS = ("provinsi", "prov.", "kabupaten", "kab.", "kota", "pemerintah", "pemprov", "pemkab", "pemkot")
CONFIDENCE = {"name": 1.0, "former_name": 1.0, "short": 0.95, "abbreviation": 0.95, "colloquial": 0.85}
TITLE_CONFIDENCE = 0.9
UNIT_CONFIDENCE = 0.9
OFFICE_PLACE_CONFIDENCE = 0.8
_LEVEL_OF_PREFIX = {"PROV": "province", "KAB": "regency", "KOTA": "city"}
_ODD_SPACE = re.compile(r"[^\S ]|  +")


@dataclass(frozen=True)
class Match:
    """One mention of an agency in a text; positions are character offsets into the original text."""

    agency_code: str
    alias: str  # the registry alias or title, or the text of "<office word> <place>"
    start: int
    end: int
    confidence: float
    method: str  # alias, title, unit, unit+place, alias+place or office+place
    role: str = "institution"  # institution, head, deputy or unit
    unit: str | None = None  # the unit's words ("Bareskrim", "Polda", "Dinkes") for role unit


@dataclass(frozen=True)
class _Entry:
    kind: str  # alias, title, unit, office or place
    agency_code: str | None
    alias: str
    alias_kind: str  # the alias kind; for titles and offices their role; for units "place" when it needs one
    valid_from: date | None
    valid_to: date | None
    case_sensitive: bool
    level: str | None = None  # an office word's level, a place's level
    role: str = "institution"  # what an alias names: a regional office's alias ("Diskominfo Kepri") names a unit

    def valid_on(self, day: date | None) -> bool:
        if day is None:
            return True
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class NewsLanguage:
    """The registry's news language files (all optional: an empty frame adds nothing)."""

    heads: pd.DataFrame
    units: pd.DataFrame
    offices: pd.DataFrame
    short_forms: pd.DataFrame
    foreign_places: pd.DataFrame | None = None

    @classmethod
    def from_registry(cls, registry_dir: Path, agency_codes: set[str]) -> NewsLanguage:
        from etl.registry import (  # noqa: PLC0415
            read_foreign_places,
            read_news_heads,
            read_news_units,
            read_place_short_forms,
            read_regional_offices,
        )

        return cls(
            heads=read_news_heads(registry_dir / "news_heads.csv", agency_codes),
            units=read_news_units(registry_dir / "news_units.csv", agency_codes),
            offices=read_regional_offices(registry_dir / "news_regional_offices.csv"),
            short_forms=read_place_short_forms(registry_dir / "place_short_forms.csv", agency_codes),
            foreign_places=read_foreign_places(registry_dir / "news_foreign_places.csv"),
        )


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


def _acronym(alias: str) -> bool:
    return alias.isupper() and " " not in alias


def _place_level(agency_code: str) -> str | None:
    return _LEVEL_OF_PREFIX.get(agency_code.split("-", 1)[0])


class AgencyMatcher:
    """Finds agency mentions in texts; build once per task from the registry (or dim tables), reuse for every article."""

    def __init__(self, agencies: pd.DataFrame, aliases: pd.DataFrame, language: NewsLanguage | None = None) -> None:
        category = dict(zip(agencies["agency_code"], agencies["category"], strict=True))
        self._category = category
        entries: dict[str, list[_Entry]] = {}

        def add(key: str, entry: _Entry) -> None:
            if len(key) >= 2:
                entries.setdefault(key, []).append(entry)

        office_roles = {}
        if language is not None:
            office_roles = {_key(r.word): r.role for r in language.offices.itertuples(index=False)}
        place_owners: dict[str, set[str]] = {}
        for row in aliases.itertuples(index=False):
            alias = str(row.alias)
            regional = category.get(row.agency_code) in ("provinsi", "kabkota")
            first = _key(alias).split(" ")[0]
            frm, to = _date(row.valid_from), _date(row.valid_to)
            if regional and first not in INSTITUTION_WORDS:
                # "Kota Batam", "Kepri": a place; and "Kabupaten Luwu Timur" also yields the bare "luwu timur".
                add(_key(alias), _Entry("place", row.agency_code, alias, str(row.kind), frm, to, alias.isupper(), _place_level(row.agency_code)))
                for prefix in ("kabupaten ", "kota ", "provinsi "):
                    if _key(alias).startswith(prefix):
                        place_owners.setdefault(_key(alias)[len(prefix) :], set()).add(row.agency_code)
                continue
            # A regional alias that starts with an office word ("Diskominfo Kepri") names that office's role.
            role = next((r for w, r in office_roles.items() if regional and (_key(alias) + " ").startswith(w + " ")), "institution")
            add(_key(alias), _Entry("alias", row.agency_code, alias, str(row.kind), frm, to, _acronym(alias), role=role))
        for bare, owners in place_owners.items():
            # A bare name shared by a regency and a city ("Bandung") keeps both owners: an office word's level decides.
            for owner in sorted(owners):
                if not any(e.kind == "place" and e.agency_code == owner for e in entries.get(bare, [])):
                    add(bare, _Entry("place", owner, bare, "bare_place", None, None, False, _place_level(owner)))
        if language is not None:
            self._add_language(language, add)
        self._automaton = ahocorasick.Automaton()
        for key, values in entries.items():
            self._automaton.add_word(key, (key, tuple(values)))
        self._automaton.make_automaton()
        self.patterns = len(entries)
        log.debug("agency matcher built", patterns=self.patterns, aliases=len(aliases))

    @staticmethod
    def _add_language(language: NewsLanguage, add: Callable[[str, _Entry], None]) -> None:
        for r in language.heads.itertuples(index=False):
            add(_key(r.title), _Entry("title", r.agency_code, r.title, r.role, _date(r.valid_from), _date(r.valid_to), _acronym(r.title)))
        for r in language.units.itertuples(index=False):
            add(_key(r.unit), _Entry("unit", r.agency_code, r.unit, "place" if r.needs_place else "named", None, None, _acronym(r.unit)))
        for r in language.offices.itertuples(index=False):
            add(_key(r.word), _Entry("office", None, r.word, r.role, None, None, _acronym(r.word), r.level))
        for r in language.short_forms.itertuples(index=False):
            add(_key(r.short_form), _Entry("place", r.agency_code, r.short_form, "short_form", None, None, _acronym(r.short_form), _place_level(r.agency_code)))
        if language.foreign_places is not None:
            for r in language.foreign_places.itertuples(index=False):
                add(_key(r.name), _Entry("foreign", None, r.name, "foreign", None, None, _acronym(r.name)))

    @classmethod
    def from_registry(cls, registry_dir: Path) -> AgencyMatcher:
        """The matcher over ``registry_dir``'s agencies, aliases and news language files."""
        from etl.registry import read_agencies, read_aliases  # noqa: PLC0415

        agencies = read_agencies(registry_dir / "agencies.csv")
        codes = set(agencies["agency_code"])
        language = NewsLanguage.from_registry(registry_dir, codes) if (registry_dir / "news_heads.csv").exists() else None
        return cls(agencies, read_aliases(registry_dir / "agency_aliases.csv", codes), language)

    def match(self, text: str, on: date | None = None) -> list[Match]:
        """Every agency mention in ``text`` as of ``on`` (the article's date), in text order."""
        norm, norm_at, shift = _normalise(text)
        hits: list[tuple[int, int, tuple[_Entry, ...]]] = []
        for end_index, (key, values) in self._automaton.iter(norm):
            start, end = end_index - len(key) + 1, end_index + 1
            if (start > 0 and norm[start - 1].isalnum()) or (end < len(norm) and norm[end].isalnum()):
                continue
            original = text[_original(start, norm_at, shift) : _original(end - 1, norm_at, shift) + 1]
            kept = tuple(v for v in values if (not v.case_sensitive or original == v.alias) and v.valid_on(on))
            if kept:
                hits.append((start, end, kept))
        places: dict[int, list[tuple[int, set[str]]]] = {}
        aliases_at: dict[int, tuple[int, set[str]]] = {}
        self._foreign = {start for start, _, values in hits if any(v.kind == "foreign" for v in values)}
        for start, end, values in hits:
            owners = {str(v.agency_code) for v in values if v.kind == "place"}
            if owners:
                places.setdefault(start, []).append((end, owners))
            named = {str(v.agency_code) for v in values if v.kind == "alias"}
            if named:
                aliases_at[start] = (end, named)
        for spans in places.values():
            spans.sort(key=lambda s: -s[0])  # longest first
        spans = sorted(
            ((s, e, v) for s, e, v in hits if any(x.kind not in ("place", "foreign") for x in v)), key=lambda h: (h[0], -(h[1] - h[0]))
        )
        matches: list[Match] = []
        taken_until = -1

        def span(start: int, end: int) -> tuple[int, int]:
            return _original(start, norm_at, shift), _original(end - 1, norm_at, shift) + 1

        for start, end, values in spans:
            if start < taken_until:
                continue
            found = self._resolve(norm, start, end, values, places, aliases_at)
            if not found:
                continue  # an office or generic unit word without its place: names nobody, and blocks nothing
            for code, role, method, last, alias, unit, confidence in found:
                taken_until = max(taken_until, last)
                orig_start, orig_end = span(start, last)
                shown = " ".join(text[orig_start:orig_end].split()) if alias is None else alias
                matches.append(Match(code, shown, orig_start, orig_end, confidence, method, role, unit))
        return matches

    def _resolve(
        self,
        norm: str,
        start: int,
        end: int,
        values: tuple[_Entry, ...],
        places: dict[int, list[tuple[int, set[str]]]],
        aliases_at: dict[int, tuple[int, set[str]]],
    ) -> list[tuple[str, str, str, int, str | None, str | None, float]]:
        """What the word at ``start:end`` names: [(agency, role, method, end, alias or None, unit, confidence)]."""
        # Regional-office words with a place of their level ("Bupati Bekasi", "Dinkes DKI").
        for office in (v for v in values if v.kind == "office"):
            place = self._place_after(norm, end, places, office.level)
            if place is not None:
                last, owner = place
                return [(owner, office.alias_kind, "office+place", last, None, office.alias if office.alias_kind == "unit" else None, OFFICE_PLACE_CONFIDENCE)]
        units = [v for v in values if v.kind == "unit"]
        for unit in units:
            if unit.alias_kind == "place":
                place = self._place_after(norm, end, places, None)
                if place is not None:
                    return [(str(unit.agency_code), "unit", "unit+place", place[0], None, unit.alias, UNIT_CONFIDENCE)]
            else:
                last = self._absorb_own_alias(norm, end, str(unit.agency_code), aliases_at)
                return [(str(unit.agency_code), "unit", "unit", last, None, unit.alias, UNIT_CONFIDENCE)]
        titles = {str(v.agency_code): v for v in values if v.kind == "title"}
        if titles and end + 1 in self._foreign:
            return []  # "Menlu Denmark": a foreign government's minister
        if len(titles) == 1:
            ((code, title),) = titles.items()
            return [(code, title.alias_kind, "title", self._absorb_own_alias(norm, end, code, aliases_at), title.alias, None, TITLE_CONFIDENCE)]
        named = {str(v.agency_code): v for v in values if v.kind == "alias"}
        if len(named) != 1:
            return []  # no alias, or one that several agencies share on that date: credits nobody
        ((code, alias),) = named.items()
        if alias.role != "institution":  # a regional alias that is an office's name ("Diskominfo Kepri")
            return [(code, alias.role, "alias", end, alias.alias, alias.alias, CONFIDENCE.get(alias.alias_kind, 0.8))]
        if self._category.get(code) in ("kementerian", "lembaga"):
            place = self._place_after(norm, end, places, None, qualifiers=False)
            if place is not None:  # "Kemenag Sleman", "BMKG Jatim": the agency's office in that region
                return [(code, "unit", "alias+place", place[0], None, alias.alias, CONFIDENCE.get(alias.alias_kind, 0.8))]
        return [(code, "institution", "alias", end, alias.alias, None, CONFIDENCE.get(alias.alias_kind, 0.8))]

    @staticmethod
    def _absorb_own_alias(norm: str, end: int, code: str, aliases_at: dict[int, tuple[int, set[str]]]) -> int:
        """The end of "Bareskrim Polri", "DJKI Kementerian Hukum": the agency's name after its own unit or title is the same mention."""
        pos = end + 1 if end < len(norm) and norm[end] == " " else end
        nxt = aliases_at.get(pos)
        return nxt[0] if nxt is not None and nxt[1] == {code} else end

    @staticmethod
    def _place_after(
        norm: str, end: int, places: dict[int, list[tuple[int, set[str]]]], level: str | None, qualifiers: bool = True
    ) -> tuple[int, str] | None:
        """The place right after a word (a qualifier such as "Provinsi" and brackets allowed): its end and owner.

        ``level`` None accepts any place (a national agency's unit: the owner does not matter); "any" needs one owner;
        a level keeps the owners of that level and needs exactly one.
        """
        pos = end
        for _ in range(3):
            while pos < len(norm) and norm[pos] in " (-":
                pos += 1
            for place_end, owners in places.get(pos, []):
                if level is None:
                    return place_end, sorted(owners)[0]
                fitting = owners if level == "any" else {o for o in owners if _place_level(o) == level}
                if len(fitting) == 1:
                    return place_end, next(iter(fitting))
            if not qualifiers:
                return None
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


def primary_role(roles: set[str]) -> str:
    """The role an article's row reports when it names the agency in several: institution before head, deputy, unit."""
    return min(roles, key=ROLE_PRIORITY.__getitem__)


def precision_recall(expected: dict[str, set[str]], found: dict[str, set[str]]) -> tuple[float, float, int, int]:
    """Precision, recall, true positives and expected pairs over (document, agency) pairs."""
    tp = sum(len(expected[k] & found.get(k, set())) for k in expected)
    predicted = sum(len(v) for v in found.values())
    relevant = sum(len(v) for v in expected.values())
    return (tp / predicted if predicted else 1.0, tp / relevant if relevant else 1.0, tp, relevant)
