"""Per-mention tone: who does what to whom, on hand-made headlines built like the labelled ones."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from etl.news.matching import AgencyMatcher
from etl.news.tone import load_tone_words, tone_of
from etl.settings import PROJECT_ROOT


@pytest.fixture(scope="module")
def matcher() -> AgencyMatcher:
    return AgencyMatcher.from_registry(PROJECT_ROOT / "registry")


def _tones(matcher: AgencyMatcher, text: str) -> dict[str, tuple[str, str]]:
    found = matcher.match(text, date(2025, 12, 1))
    codes = sorted({m.agency_code for m in found})
    out = {}
    for code in codes:
        t = tone_of(text, [m for m in found if m.agency_code == code], found)
        out[code] = (t.label, t.reason)
    return out


def test_the_enforcer_and_the_subject_get_opposite_tones(matcher: AgencyMatcher) -> None:
    assert _tones(matcher, "KPK Tangkap Bupati Pati Sudewo") == {"LEM-KPK": ("positive", "acts"), "KAB-33.18": ("negative", "acted on")}
    assert _tones(matcher, "Bupati Pati Resmi Ditahan KPK") == {
        "KAB-33.18": ("negative", "suffers"), "LEM-KPK": ("positive", "enforcer (passive)")
    }
    assert _tones(matcher, "KPK sita Rp500 juta saat OTT Bupati Ponorogo") == {
        "LEM-KPK": ("positive", "acts"), "KAB-35.02": ("negative", "acted on")
    }


def test_investigating_is_neutral_for_the_investigator(matcher: AgencyMatcher) -> None:
    assert _tones(matcher, "KPK Telusuri Mobil Milik Bupati Bekasi") == {
        "LEM-KPK": ("neutral", "inquires"), "KAB-32.16": ("negative", "acted on")
    }
    # "Ungkap" is an act only when the sentence is about a crime.
    assert _tones(matcher, "Bareskrim Ungkap Modus Penipuan Kripto") == {"LEM-POLRI": ("positive", "acts")}
    assert _tones(matcher, "BNPB Ungkap Progres Hunian Tetap") == {"LEM-BNPB": ("neutral", "inquires")}


def test_scandal_aid_fact_check_and_shield(matcher: AgencyMatcher) -> None:
    assert _tones(matcher, "Menkeu akui registrasi Coretax masih alami kendala") == {"KEM-KEMENKEU": ("negative", "scandal")}
    assert _tones(matcher, "Kemensos Salurkan Bantuan Banjir ke Rumah Warga") == {"KEM-KEMENSOS": ("positive", "achievement")}
    assert _tones(matcher, "Keliru: TNI Lumpuhkan Tujuh Pos Militer") == {"LEM-TNI": ("neutral", "fact-check")}
    assert _tones(matcher, "Kementerian ATR/BPN Perkuat Jajaran dalam Pencegahan Korupsi") == {"KEM-ATRBPN": ("positive", "achievement")}
    assert _tones(matcher, "Menhub Minta Stakeholder Bersiap Hadapi Arus Balik") == {"KEM-KEMENHUB": ("neutral", "no event")}


def test_tone_words_file_errors_name_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "words.tsv"
    bad.write_text("# comment\ntangkap\taction\nkorupsi negative\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"words\.tsv:3: expected word<TAB>action\|inquiry\|reveal\|passive\|crime\|shield\|negative\|positive\|hoax, got 'korupsi negative'"):
        load_tone_words(bad)


def test_token_kinds_are_kept_across_articles_within_a_bound(matcher: AgencyMatcher, monkeypatch: pytest.MonkeyPatch) -> None:
    """A token's kind (a prefix search over the tone words) is found once for many articles (issue 11: per article it
    was a third of the news night's tone stage), and the kept tokens are bounded: names and numbers never run out."""
    from etl.news import tone

    words = load_tone_words()
    monkeypatch.setattr(tone, "_KINDS", {})
    _tones(matcher, "KPK Tangkap Bupati Pati Sudewo")
    kept = tone._KINDS[id(words)][1]
    assert kept["tangkap"] == "action" and kept["kpk"] is None and len(kept) == 5
    searched = []
    monkeypatch.setattr(tone, "_kind", lambda token, *w: searched.append(token))
    assert _tones(matcher, "KPK Tangkap Bupati Pati") == {"LEM-KPK": ("positive", "acts"), "KAB-33.18": ("negative", "acted on")}
    assert searched == []  # every token already known
    monkeypatch.setattr(tone, "_KINDS_MAX_TOKENS", 4)
    tone._Article("Bupati Pati Resmi Ditahan KPK", words)  # over the bound: started afresh for these words
    assert sorted(tone._KINDS[id(words)][1]) == ["bupati", "ditahan", "kpk", "pati", "resmi"]
    assert sorted(searched) == ["bupati", "ditahan", "kpk", "pati", "resmi"]
