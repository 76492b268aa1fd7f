"""Agency matching on the real seed articles (fixture written by reading them) and on hand-made sentences."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from etl.news.matching import AgencyMatcher, agency_codes, precision_recall
from etl.settings import PROJECT_ROOT

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "news"
EXPECTED = json.loads((FIXTURES / "seed_matches.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def matcher() -> AgencyMatcher:
    return AgencyMatcher.from_registry(PROJECT_ROOT / "registry")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_seed_article_matches_exactly_the_fixture(matcher: AgencyMatcher, name: str) -> None:
    text = (FIXTURES / "seeds" / name).read_text(encoding="utf-8")
    found = matcher.match(text, date.fromisoformat(EXPECTED[name]["published_on"]))
    assert sorted(agency_codes(found)) == EXPECTED[name]["agencies"]
    for m in found:  # positions point at the matched words in the original text
        assert text[m.start : m.end].split()[-1].lower() in m.alias.lower()


def test_seed_precision_and_recall(matcher: AgencyMatcher) -> None:
    found, expected = {}, {}
    for name, spec in EXPECTED.items():
        text = (FIXTURES / "seeds" / name).read_text(encoding="utf-8")
        found[name] = agency_codes(matcher.match(text, date.fromisoformat(spec["published_on"])))
        expected[name] = set(spec["agencies"])
    assert precision_recall(expected, found) == (1.0, 1.0, 16, 16)


def test_venue_regions_are_not_agencies(matcher: AgencyMatcher) -> None:
    for name in ("003_e3e175cec2787feb.txt", "004_e4004f19beb5a104.txt"):
        text = (FIXTURES / "seeds" / name).read_text(encoding="utf-8")
        assert "Batam" in text
        assert "KOTA-21.71" not in agency_codes(matcher.match(text, date(2022, 8, 25)))


def _codes(matcher: AgencyMatcher, text: str, day: date = date(2023, 1, 1)) -> list[str]:
    return [m.agency_code for m in matcher.match(text, day)]


def test_validity_periods_follow_the_article_date(matcher: AgencyMatcher) -> None:
    assert _codes(matcher, "Kominfo memblokir situs judi.", date(2024, 10, 20)) == ["KEM-KOMDIGI"]
    assert _codes(matcher, "Kominfo memblokir situs judi.", date(2024, 10, 21)) == []
    assert _codes(matcher, "Komdigi memblokir situs judi.", date(2025, 3, 1)) == ["KEM-KOMDIGI"]
    assert _codes(matcher, "Komdigi memblokir situs judi.", date(2023, 3, 1)) == []


def test_local_office_needs_its_region(matcher: AgencyMatcher) -> None:
    assert _codes(matcher, "Diskominfo menggelar pelatihan.") == []
    [m] = matcher.match("Rapat di Diskominfo Kabupaten Luwu Timur kemarin.", date(2023, 1, 1))
    assert (m.agency_code, m.alias, m.start, m.end, m.confidence, m.method) == (
        "KAB-73.24", "Diskominfo Kabupaten Luwu Timur", 9, 40, 0.8, "office+place"
    )
    assert _codes(matcher, "Warga Kabupaten Luwu Timur dan Kota Batam.") == []
    assert _codes(matcher, "Kadis Kominfo Kepulauan Riau hadir.") == ["PROV-21"]


def test_longest_match_word_boundaries_case_and_acronyms(matcher: AgencyMatcher) -> None:
    [m] = matcher.match("Menurut KEMENTERIAN   KOMINFO,\nhal itu", date(2023, 1, 1))
    assert (m.agency_code, m.alias, m.start, m.end, m.confidence) == ("KEM-KOMDIGI", "Kementerian Kominfo", 8, 29, 1.0)
    assert _codes(matcher, "Dinas Kominfotik se-Indonesia hadir.") == []
    assert _codes(matcher, "Ahmad bin Umar dari BIN.") == ["LEM-BIN"]
    assert _codes(matcher, "Kemenkeu dan Kementerian Keuangan RI") == ["KEM-KEMENKEU", "KEM-KEMENKEU"]
