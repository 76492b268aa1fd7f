"""The labelled headlines (tests/fixtures/news/eval): the set's shape, and floors that matching and tone must keep.

The floors are the figures reached when they were set (README, "News mentions"), rounded down; a change to the
registry's language, the matcher or the tone rules that loses mentions or tone fails here. Timing is not tested
(scripts/bench_news_matching.py prints it).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from etl.news.evaluation import MatchingReport, ToneReport, evaluate, read_gold, read_headlines, score_tone
from etl.news.tone import METHOD
from etl.registry import read_agencies
from etl.settings import PROJECT_ROOT

EVAL = PROJECT_ROOT / "tests" / "fixtures" / "news" / "eval"
HEADLINES = read_headlines(EVAL / "headlines.tsv")
GOLD = read_gold([EVAL / "labels_dev.tsv", EVAL / "labels_held.tsv"])


@pytest.fixture(scope="module")
def results() -> dict[str, tuple[MatchingReport, ToneReport]]:
    return evaluate(PROJECT_ROOT / "registry", EVAL)


def test_the_set_is_real_varied_and_split() -> None:
    outlets = Counter(h.outlet for h in HEADLINES)
    parts = Counter(h.part for h in HEADLINES)
    assert len(HEADLINES) == 1558 and len({h.id for h in HEADLINES}) == 1558
    assert outlets["antara-jogja"] == 360 and len(outlets) == 9  # one regional outlet among nine
    assert parts == {"dev": 1020, "held": 538}  # 34.5 % held back
    codes = set(read_agencies(PROJECT_ROOT / "registry" / "agencies.csv")["agency_code"])
    assert {g.agency_code for g in GOLD} <= codes
    assert {g.id for g in GOLD} <= {h.id for h in HEADLINES}
    assert Counter(g.role for g in GOLD) == {"institution": 389, "head": 184, "unit": 150, "deputy": 25}


@pytest.mark.parametrize(("part", "precision", "institution_head", "with_units"), [("dev", 0.99, 0.99, 0.98), ("held", 0.99, 0.97, 0.95)])
def test_matching_keeps_its_floor(results: dict, part: str, precision: float, institution_head: float, with_units: float) -> None:
    report, _ = results[part]
    assert report.pairs.precision >= precision
    assert report.institution_head.recall >= institution_head
    assert report.pairs.recall >= with_units
    for role in ("institution", "head", "deputy"):
        assert report.by_role[role].precision >= 0.97 and report.by_role[role].recall >= 0.96, role
    assert report.by_role["unit"].precision >= 0.97 and report.by_role["unit"].recall >= 0.85


@pytest.mark.parametrize(("part", "macro", "negative"), [("dev", 0.75, 0.71), ("held", 0.78, 0.82)])
def test_tone_keeps_its_floor_above_always_neutral(results: dict, part: str, macro: float, negative: float) -> None:
    _, tone = results[part]
    assert tone.macro_f1 >= macro and tone.negative_f1 >= negative
    assert tone.accuracy > tone.baseline_accuracy and tone.macro_f1 > tone.baseline_macro_f1 + 0.4


def test_the_lexicon_tone_replaced_loses_to_always_neutral() -> None:
    before = evaluate(PROJECT_ROOT / "registry", EVAL, lexicon=True)["held"][1]
    assert (round(before.macro_f1, 3), round(before.negative_f1, 3), round(before.accuracy, 3)) == (0.307, 0.079, 0.49)
    assert before.accuracy < before.baseline_accuracy


def test_the_warehouse_shows_the_measured_tone_quality(results: dict) -> None:
    # Migration 010 stores the held-back figures the report shows beside tone: they must be the measured ones.
    sql = (PROJECT_ROOT / "sql" / "migrations" / "010_news_mention_roles.sql").read_text(encoding="utf-8")
    row = re.search(r"\('(?P<method>[^']+)', '[^']+', (?P<n>\d+), (?P<values>[0-9., ]+), (?P<met>TRUE|FALSE)\)", sql)
    assert row is not None and row["method"] == METHOD
    accuracy, macro, negative, base_accuracy, base_macro = (float(v) for v in row["values"].split(","))
    _, tone = results["held"]
    assert int(row["n"]) == tone.mentions
    assert (accuracy, macro, negative) == (round(tone.accuracy, 4), round(tone.macro_f1, 4), round(tone.negative_f1, 4))
    assert (base_accuracy, base_macro) == (round(tone.baseline_accuracy, 4), round(tone.baseline_macro_f1, 4))
    assert (row["met"] == "TRUE") == (tone.macro_f1 >= 0.70 and tone.negative_f1 >= 0.70)


def test_tone_scores_by_hand() -> None:
    t = score_tone([("negative", "negative"), ("negative", "neutral"), ("neutral", "neutral"), ("positive", "negative")])
    # negative: P 1/2, R 1/2 -> F1 0.5; neutral: P 1/2, R 1 -> 2/3; positive: 0. Macro (0.5 + 2/3 + 0) / 3.
    assert t.negative_f1 == 0.5 and t.macro_f1 == pytest.approx(7 / 18) and t.accuracy == 0.5
    assert t.baseline_accuracy == 0.25 and t.baseline_macro_f1 == pytest.approx((0 + 0.4 + 0) / 3)


def test_gold_file_errors_name_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "labels.tsv"
    bad.write_text("id\tagency_code\trole\ttone\nx\tLEM-KPK\tboss\tneutral\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"labels\.tsv:2: field role/tone: 'boss'/'neutral' is not a role/tone"):
        read_gold([bad])
