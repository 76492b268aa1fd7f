"""Precision/recall of agency matching per role and per category, and tone figures, on the labelled headlines.

    python scripts/eval_news_matching.py [--part dev|held|all] [--errors N]

Reads tests/fixtures/news/eval (headlines.tsv, labels_dev.tsv, labels_held.tsv). Prints figures for the
development part (the rules were written from it) and the held-back part (not read while writing them),
then the errors of the chosen part. Asserts nothing; tests/unit/test_news_evaluation.py keeps the floors.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etl.news.evaluation import MatchingReport, ToneReport, evaluate  # noqa: E402
from etl.news.matching import ROLES  # noqa: E402
from etl.settings import PROJECT_ROOT  # noqa: E402

EVAL = PROJECT_ROOT / "tests" / "fixtures" / "news" / "eval"


def _matching(name: str, r: MatchingReport) -> None:
    print(f"\n== {name}: {r.headlines} headlines, {r.gold_mentions} gold mentions")
    print(f"{'':24}{'precision':>10}{'recall':>8}{'tp':>6}{'found':>7}{'gold':>6}")
    for role in ROLES:
        s = r.by_role[role]
        print(f"role {role:19}{s.precision:>10.3f}{s.recall:>8.3f}{s.tp:>6}{s.predicted:>7}{s.relevant:>6}")
    for category, s in r.by_category.items():
        print(f"category {category:15}{s.precision:>10.3f}{s.recall:>8.3f}{s.tp:>6}{s.predicted:>7}{s.relevant:>6}")
    s = r.institution_head
    print(f"{'institution + head':24}{r.pairs.precision:>10.3f}{s.recall:>8.3f}{s.tp:>6}{r.pairs.predicted:>7}{s.relevant:>6}")
    s = r.pairs
    print(f"{'with units (all roles)':24}{s.precision:>10.3f}{s.recall:>8.3f}{s.tp:>6}{s.predicted:>7}{s.relevant:>6}")


def _tone(name: str, t: ToneReport) -> None:
    print(
        f"tone {name} ({t.mentions} mentions found): macro-F1 {t.macro_f1:.3f}, negative F1 {t.negative_f1:.3f} "
        f"(P {t.negative_precision:.3f} R {t.negative_recall:.3f}), accuracy {t.accuracy:.3f}; "
        f"always-neutral: accuracy {t.baseline_accuracy:.3f}, macro-F1 {t.baseline_macro_f1:.3f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", choices=["dev", "held", "all"], default="dev", help="whose errors to list")
    parser.add_argument("--errors", type=int, default=60, help="how many false positives/negatives to list")
    args = parser.parse_args()
    reports = evaluate(PROJECT_ROOT / "registry", EVAL)
    before = evaluate(PROJECT_ROOT / "registry", EVAL, lexicon=True)
    for part, (matching, tone) in reports.items():
        _matching(part, matching)
        _tone(part, tone)
        _tone(f"{part}, lexicon sentiment (the method tone replaced)", before[part][1])
    r = reports[args.part][0]
    print(f"\n-- {args.part}: false positives ({len(r.false_positives)})")
    for i, code, role, text in r.false_positives[: args.errors]:
        print(f"FP {i} {code} {role}: {text[:150]}")
    print(f"\n-- {args.part}: false negatives ({len(r.false_negatives)})")
    for i, code, role, text in r.false_negatives[: args.errors]:
        print(f"FN {i} {code} {role}: {text[:150]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
