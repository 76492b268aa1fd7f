"""Matching and tone measured against the labelled headlines of tests/fixtures/news/eval (see LABELLING.md there).

A gold mention is (headline, agency, role, tone). Matching is scored on two levels:

* **per role**: a predicted (headline, agency, role) is right when the gold has exactly that triple;
* **per agency** (what ``news_mentions`` counts): a predicted (headline, agency) pair is right when the gold
  names that agency in any role; recall is reported over the pairs named as institution, head or deputy
  ("institution + head") and over all pairs ("with units"), and per agency category.

Tone is scored per gold mention found by the matcher (the tone of a pair nobody found is not the tone
layer's error): macro-F1 over negative/neutral/positive, the negative class's F1, and accuracy, beside
the always-neutral baseline.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from email.utils import parsedate_to_datetime
from pathlib import Path

from etl.news.matching import ROLES, AgencyMatcher, Match

TONES = ("negative", "neutral", "positive")
INSTITUTION_AND_HEAD = frozenset({"institution", "head", "deputy"})


@dataclass(frozen=True)
class Headline:
    id: str
    part: str  # dev or held
    outlet: str
    text: str
    day: date | None


@dataclass(frozen=True)
class Gold:
    id: str
    agency_code: str
    role: str
    tone: str


@dataclass
class Score:
    tp: int = 0
    predicted: int = 0
    relevant: int = 0

    @property
    def precision(self) -> float:
        return self.tp / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.tp / self.relevant if self.relevant else 1.0


@dataclass
class MatchingReport:
    headlines: int
    gold_mentions: int
    by_role: dict[str, Score]
    by_category: dict[str, Score]
    pairs: Score  # (headline, agency), any role: precision over all predictions, recall over all gold pairs
    institution_head: Score  # recall over gold pairs named as institution, head or deputy
    false_positives: list[tuple[str, str, str, str]] = field(default_factory=list)  # (id, agency, role, text)
    false_negatives: list[tuple[str, str, str, str]] = field(default_factory=list)


def _day(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value).date()
    except (TypeError, ValueError):
        return None


def read_headlines(path: Path) -> list[Headline]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [
            Headline(r["id"], r["part"], r["outlet"], r["text"], _day(r["seen_on"]))
            for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        ]


def read_gold(paths: list[Path]) -> list[Gold]:
    gold: list[Gold] = []
    for path in paths:
        if not path.exists():
            continue
        with path.open(encoding="utf-8", newline="") as fh:
            for number, r in enumerate(csv.DictReader(fh, delimiter="\t"), start=2):
                if r["role"] not in ROLES or r["tone"] not in TONES:
                    raise ValueError(f"{path}:{number}: field role/tone: {r['role']!r}/{r['tone']!r} is not a role/tone")
                gold.append(Gold(r["id"], r["agency_code"], r["role"], r["tone"]))
    return gold


def predict(matcher: AgencyMatcher, headlines: list[Headline]) -> dict[str, list[Match]]:
    return {h.id: matcher.match(h.text, h.day) for h in headlines}


def score_matching(
    headlines: list[Headline], gold: list[Gold], predicted: dict[str, list[Match]], categories: dict[str, str]
) -> MatchingReport:
    ids = {h.id for h in headlines}
    text = {h.id: h.text for h in headlines}
    gold = [g for g in gold if g.id in ids]
    gold_triples = {(g.id, g.agency_code, g.role) for g in gold}
    found_triples = {(i, m.agency_code, m.role) for i, ms in predicted.items() if i in ids for m in ms}
    by_role = {}
    for role in ROLES:
        g = {t for t in gold_triples if t[2] == role}
        f = {t for t in found_triples if t[2] == role}
        by_role[role] = Score(len(g & f), len(f), len(g))
    gold_pairs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for i, code, role in gold_triples:
        gold_pairs[(i, code)].add(role)
    found_pairs = {(i, code) for i, code, _ in found_triples}
    pairs = Score(len(found_pairs & gold_pairs.keys()), len(found_pairs), len(gold_pairs))
    head_pairs = {p for p, roles in gold_pairs.items() if roles & INSTITUTION_AND_HEAD}
    institution_head = Score(len(head_pairs & found_pairs), len(found_pairs), len(head_pairs))
    by_category: dict[str, Score] = {}
    for category in ("kementerian", "lembaga", "provinsi", "kabkota"):
        g = {p for p in gold_pairs if categories.get(p[1]) == category}
        f = {p for p in found_pairs if categories.get(p[1]) == category}
        by_category[category] = Score(len(g & f), len(f), len(g))
    report = MatchingReport(len(headlines), len(gold), by_role, by_category, pairs, institution_head)
    for i, code, role in sorted(found_triples - gold_triples):
        report.false_positives.append((i, code, role + ("" if (i, code) not in gold_pairs else f" (gold: {','.join(sorted(gold_pairs[(i, code)]))})"), text[i]))
    for i, code, role in sorted(gold_triples - found_triples):
        report.false_negatives.append((i, code, role, text[i]))
    return report


@dataclass
class ToneReport:
    mentions: int
    accuracy: float
    macro_f1: float
    negative_f1: float
    negative_precision: float
    negative_recall: float
    baseline_accuracy: float  # always neutral
    baseline_macro_f1: float
    confusion: dict[tuple[str, str], int]  # (gold, predicted) -> count


def _f1(gold: list[str], pred: list[str], label: str) -> tuple[float, float, float]:
    tp = sum(g == label and p == label for g, p in zip(gold, pred, strict=True))
    predicted = sum(p == label for p in pred)
    relevant = sum(g == label for g in gold)
    precision = tp / predicted if predicted else 0.0
    recall = tp / relevant if relevant else 0.0
    return precision, recall, (2 * precision * recall / (precision + recall) if precision + recall else 0.0)


def score_tone(pairs: list[tuple[str, str]]) -> ToneReport:
    """``pairs`` of (gold tone, predicted tone)."""
    gold = [g for g, _ in pairs]
    pred = [p for _, p in pairs]
    n = len(pairs)
    f1s = [_f1(gold, pred, t)[2] for t in TONES]
    neg_p, neg_r, neg_f1 = _f1(gold, pred, "negative")
    neutral = ["neutral"] * n
    confusion: dict[tuple[str, str], int] = defaultdict(int)
    for g, p in pairs:
        confusion[(g, p)] += 1
    return ToneReport(
        mentions=n,
        accuracy=sum(g == p for g, p in pairs) / n if n else 0.0,
        macro_f1=sum(f1s) / len(TONES),
        negative_f1=neg_f1,
        negative_precision=neg_p,
        negative_recall=neg_r,
        baseline_accuracy=sum(g == "neutral" for g in gold) / n if n else 0.0,
        baseline_macro_f1=sum(_f1(gold, neutral, t)[2] for t in TONES) / len(TONES),
        confusion=dict(confusion),
    )


def tone_pairs(headlines: list[Headline], gold: list[Gold], predicted: dict[str, list[Match]], lexicon: bool = False) -> ToneReport:
    """Tone of every gold mention the matcher found (same headline and agency), scored against its gold tone.

    ``lexicon`` scores the method tone replaced instead: the lexicon sentiment of the mention's sentences,
    below -0.05 negative and above 0.05 positive (as ``news_negative_share`` used it before migration 010).
    """
    from etl.news.sentiment import score, sentences_around  # noqa: PLC0415
    from etl.news.tone import tone_of  # noqa: PLC0415

    text = {h.id: h.text for h in headlines}
    pairs = []
    for g in gold:
        if g.id not in text:
            continue
        own = [m for m in predicted.get(g.id, []) if m.agency_code == g.agency_code]
        if not own:
            continue
        if lexicon:
            value = score(sentences_around(text[g.id], [(m.start, m.end) for m in own])).score
            pairs.append((g.tone, "negative" if value < -0.05 else "positive" if value > 0.05 else "neutral"))
        else:
            pairs.append((g.tone, tone_of(text[g.id], own, predicted[g.id]).label))
    return score_tone(pairs)


def evaluate(registry_dir: Path, eval_dir: Path, lexicon: bool = False) -> dict[str, tuple[MatchingReport, ToneReport]]:
    """Matching and tone reports for the dev, held and all parts of the labelled headlines in ``eval_dir``."""
    from etl.registry import read_agencies  # noqa: PLC0415

    categories = dict(read_agencies(registry_dir / "agencies.csv")[["agency_code", "category"]].itertuples(index=False))
    headlines = read_headlines(eval_dir / "headlines.tsv")
    gold = read_gold([eval_dir / "labels_dev.tsv", eval_dir / "labels_held.tsv"])
    predicted = predict(AgencyMatcher.from_registry(registry_dir), headlines)
    out = {}
    for part in ("dev", "held", "all"):
        chosen = [h for h in headlines if part == "all" or h.part == part]
        out[part] = (score_matching(chosen, gold, predicted, categories), tone_pairs(chosen, gold, predicted, lexicon))
    return out
