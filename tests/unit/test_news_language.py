"""The registry's news language files: readers stop at the first bad line, naming file, line and field."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from etl.news.matching import AgencyMatcher, Match, NewsLanguage
from etl.news.pipeline import MENTION_COLUMNS, mention_rows
from etl.registry import (
    RegistryError,
    read_agencies,
    read_foreign_places,
    read_news_heads,
    read_news_units,
    read_place_short_forms,
    read_regional_offices,
)
from etl.settings import PROJECT_ROOT

REGISTRY = PROJECT_ROOT / "registry"
CODES = set(read_agencies(REGISTRY / "agencies.csv")["agency_code"])


def test_the_shipped_files_load() -> None:
    language = NewsLanguage.from_registry(REGISTRY, CODES)
    assert len(language.heads) == 294 and set(language.heads["role"]) == {"head", "deputy"}
    assert len(language.units) == 103 and language.units["needs_place"].sum() == 44
    assert len(language.offices) == 77 and set(language.offices["level"]) == {"province", "regency", "city", "any"}
    assert len(language.short_forms) == 44 and len(language.foreign_places) == 40
    renamed = language.heads[language.heads["title"] == "Menkominfo"].iloc[0]
    assert (renamed["agency_code"], renamed["valid_from"], renamed["valid_to"]) == ("KEM-KOMDIGI", None, date(2024, 10, 20))


@pytest.mark.parametrize(
    ("name", "reader", "text", "message"),
    [
        ("news_heads.csv", lambda p: read_news_heads(p, CODES), "agency_code,title,role,valid_from,valid_to,source\nKEM-KEMENKEU,Menkeu,boss,,,x\n",
         "news_heads.csv:2: field role: 'boss' is not one of head, deputy"),
        ("news_heads.csv", lambda p: read_news_heads(p, CODES), "agency_code,title,role,valid_from,valid_to,source\nKEM-X,Menx,head,,,x\n",
         "news_heads.csv:2: field agency_code: 'KEM-X' is not in agencies.csv"),
        ("news_heads.csv", lambda p: read_news_heads(p, CODES),
         "agency_code,title,role,valid_from,valid_to,source\nKEM-KEMENKEU,Menkeu,head,2025-01-02,2025-01-01,x\n",
         "news_heads.csv:2: field valid_to: 2025-01-01 is before valid_from 2025-01-02"),
        ("news_units.csv", lambda p: read_news_units(p, CODES), "agency_code,unit,needs_place,source\nLEM-POLRI,Polda,yes,x\n",
         "news_units.csv:2: field needs_place: 'yes' is not one of true, false"),
        ("offices.csv", read_regional_offices, "word,level,role,source\nBupati,village,head,x\n",
         "offices.csv:2: field level: 'village' is not one of province, regency, city, any"),
        ("short.csv", lambda p: read_place_short_forms(p, CODES), "agency_code,short_form,source\nKOTA-31.74,,x\n",
         "short.csv:2: field short_form is empty"),
        ("foreign.csv", read_foreign_places, "name\nDenmark\n", "foreign.csv: missing column(s) source"),
    ],
)
def test_bad_lines_name_file_line_and_field(tmp_path: Path, name: str, reader, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RegistryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        reader(path)


def test_mention_rows_carry_the_first_role_all_roles_units_and_tone() -> None:
    matcher = AgencyMatcher.from_registry(REGISTRY)
    text = "KPK Tangkap Kajari Sleman\nJaksa Agung dan Kejaksaan Agung menanggapi OTT itu."
    rows = mention_rows("a1", date(2025, 12, 1), text, matcher.match(text, date(2025, 12, 1)), {})
    assert [list(r) for r in rows] == [MENTION_COLUMNS, MENTION_COLUMNS]
    kejaksaan, kpk = rows
    assert (kejaksaan["agency_code"], kejaksaan["mention_role"], kejaksaan["roles"], kejaksaan["unit_words"], kejaksaan["mentions"]) == (
        "LEM-KEJAKSAAN", "institution", "institution,head,unit", "Kajari", 3
    )
    assert (kejaksaan["tone"], kejaksaan["tone_score"], kejaksaan["tone_method"]) == ("negative", -1.0, "rules-v1")
    assert (kpk["agency_code"], kpk["mention_role"], kpk["roles"], kpk["unit_words"], kpk["tone"]) == (
        "LEM-KPK", "institution", "institution", None, "positive"
    )
    assert isinstance(matcher.match(text)[0], Match)


def test_registry_sync_reads_the_language_files(tmp_path: Path) -> None:
    from etl.registry import read_registry  # noqa: PLC0415

    for name in ("agencies.csv", "agency_aliases.csv", "campaigns.csv", "accounts.csv"):
        (tmp_path / name).write_bytes((REGISTRY / name).read_bytes())
    (tmp_path / "news_units.csv").write_text("agency_code,unit,needs_place,source\nLEM-NOPE,Polda,true,x\n", encoding="utf-8")
    with pytest.raises(RegistryError, match=r"news_units\.csv:2: field agency_code: 'LEM-NOPE' is not in agencies\.csv"):
        read_registry(tmp_path, tmp_path / "accounts.csv")
