"""Agency matching on the real seed articles (fixture written by reading them) and on hand-made sentences."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from etl.news.matching import AgencyMatcher, agency_codes, precision_recall, primary_role
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


def _roles(matcher: AgencyMatcher, text: str, day: date = date(2025, 6, 1)) -> list[tuple[str, str, str | None]]:
    return [(m.agency_code, m.role, m.unit) for m in matcher.match(text, day)]


def test_heads_and_deputies_by_title(matcher: AgencyMatcher) -> None:
    [m] = matcher.match("Menkeu Purbaya Catatkan Defisit APBN", date(2025, 12, 1))
    assert (m.agency_code, m.role, m.method, m.alias, m.start, m.end, m.confidence) == (
        "KEM-KEMENKEU", "head", "title", "Menkeu", 0, 6, 0.9
    )
    assert _roles(matcher, "Wamenkeu dan Wakil Menteri Keuangan hadir") == [("KEM-KEMENKEU", "deputy", None)] * 2
    assert _roles(matcher, "Kapolri dan Wakapolri") == [("LEM-POLRI", "head", None), ("LEM-POLRI", "deputy", None)]
    # "Kepala BGN" is the head, not the institution; "Eks Mentan" is a (former) head.
    assert _roles(matcher, "Kepala BGN: menu diganti; Eks Mentan diperiksa") == [("LEM-BGN", "head", None), ("KEM-KEMENTAN", "head", None)]
    # A foreign minister names no Indonesian ministry; a title without its field names nobody.
    assert _roles(matcher, "Menlu Denmark terkejut, Menteri Agus dan Wali Kota menolak") == []


def test_head_titles_follow_renames(matcher: AgencyMatcher) -> None:
    assert _roles(matcher, "Menkominfo membuka acara", date(2024, 10, 20)) == [("KEM-KOMDIGI", "head", None)]
    assert _roles(matcher, "Menkominfo membuka acara", date(2024, 10, 21)) == []
    assert _roles(matcher, "Menkomdigi membuka acara", date(2024, 10, 21)) == [("KEM-KOMDIGI", "head", None)]


def test_units_named_or_with_their_place(matcher: AgencyMatcher) -> None:
    assert _roles(matcher, "Bareskrim Polri Ungkap Modus") == [("LEM-POLRI", "unit", "Bareskrim")]  # one mention
    assert _roles(matcher, "Polda Jatim dan Kejari Sleman") == [("LEM-POLRI", "unit", "Polda"), ("LEM-KEJAKSAAN", "unit", "Kejari")]
    assert _roles(matcher, "Polda tangkap pelaku; Polisi Buru Pemotor; Lapas penuh") == []  # generic unit words without a place
    assert _roles(matcher, "Kemenag Sleman kukuhkan tim") == [("KEM-KEMENAG", "unit", "Kemenag")]
    assert _roles(matcher, "Kantah Kota Yogyakarta permudah layanan") == [("KEM-ATRBPN", "unit", "Kantah")]


def test_regional_offices_resolve_to_the_right_level(matcher: AgencyMatcher) -> None:
    assert _roles(matcher, "KPK Dalami Kasus Bupati Lampung Ardito") == [("LEM-KPK", "institution", None)]  # no regency "Lampung"
    assert _roles(matcher, "Bupati Lampung Selatan hadir") == [("KAB-18.01", "head", None)]
    assert _roles(matcher, "Bupati Bandung dan Wali Kota Bandung") == [("KAB-32.04", "head", None), ("KOTA-32.73", "head", None)]
    assert _roles(matcher, "Wakil Wali Kota Bandung Kena OTT") == [("KOTA-32.73", "deputy", None)]
    assert _roles(matcher, "Gubernur Jabar dan Gubernur Bandung") == [("PROV-32", "head", None)]
    assert _roles(matcher, "Pemda Bandung menolak") == []  # any level: a regency and a city share the name
    assert _roles(matcher, "Dinkes DKI dan Sudinkes Jakbar") == [("PROV-31", "unit", "Dinkes"), ("KOTA-31.73", "unit", "Sudinkes")]
    assert _roles(matcher, "Pemkot Jaksel, Pemkot Tangsel, Satpol PP Makassar") == [
        ("KOTA-31.74", "institution", None), ("KOTA-36.74", "institution", None), ("KOTA-73.71", "unit", "Satpol PP")
    ]


def test_places_as_places_never_count(matcher: AgencyMatcher) -> None:
    assert _roles(matcher, "Banjir di Bekasi, Jaksel dan Bandung; warga DIY mengungsi") == []


def test_pemprov_dki_counts_after_the_rename(matcher: AgencyMatcher) -> None:
    assert _roles(matcher, "Pemprov DKI tanggung biaya korban", date(2025, 12, 1)) == [("PROV-31", "institution", None)]


def test_a_name_shared_by_two_agencies_credits_nobody() -> None:
    agencies = pd.DataFrame({"agency_code": ["LEM-A", "LEM-B"], "category": ["lembaga", "lembaga"]})
    aliases = pd.DataFrame({
        "agency_code": ["LEM-A", "LEM-B", "LEM-A"], "alias": ["BSN", "BSN", "Badan A"], "kind": ["short"] * 3,
        "valid_from": [None] * 3, "valid_to": [None] * 3,
    })
    matcher = AgencyMatcher(agencies, aliases)
    assert [m.agency_code for m in matcher.match("BSN dan Badan A")] == ["LEM-A"]


def test_primary_role_prefers_the_institution() -> None:
    assert primary_role({"unit", "head"}) == "head"
    assert primary_role({"unit", "institution", "deputy"}) == "institution"
    assert primary_role({"unit"}) == "unit"
