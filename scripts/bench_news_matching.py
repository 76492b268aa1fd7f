"""Benchmark agency matching: precision/recall on the seed fixture, time for N synthetic articles.

    python scripts/bench_news_matching.py [--articles 50000] [--seed 7]

Synthetic articles are ~2,500 characters of Indonesian filler words with a few
registry aliases, place names and local-office words mixed in, so the
automaton sees realistic hit rates. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etl.news.matching import AgencyMatcher, agency_codes, precision_recall  # noqa: E402
from etl.registry import read_agencies, read_aliases  # noqa: E402
from etl.settings import PROJECT_ROOT  # noqa: E402

FILLER = (
    "pemerintah daerah menggelar kegiatan sosialisasi kepada masyarakat terkait program layanan publik yang "
    "dinilai berhasil meningkatkan partisipasi warga dalam pembangunan desa dan kota di seluruh wilayah "
    "kepala dinas mengatakan bahwa anggaran tahun ini difokuskan pada infrastruktur pendidikan kesehatan "
    "media sosial menjadi kanal informasi utama bagi generasi muda sehingga konten harus kreatif dan akurat"
).split()
OFFICES = ["Diskominfo", "Dinas Kominfo", "Kepala Dinas Kominfo", "Bupati", "Gubernur", "Wali Kota"]


def synthetic_articles(count: int, seed: int, aliases: list[str], places: list[str]) -> list[str]:
    rng = random.Random(seed)
    articles = []
    for _ in range(count):
        words = [rng.choice(FILLER) for _ in range(330)]
        for _ in range(rng.randint(1, 6)):
            words.insert(rng.randrange(len(words)), rng.choice(aliases))
        for _ in range(rng.randint(0, 3)):
            words.insert(rng.randrange(len(words)), f"{rng.choice(OFFICES)} {rng.choice(places)}")
        articles.append(" ".join(words))
    return articles


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    registry = PROJECT_ROOT / "registry"
    agencies = read_agencies(registry / "agencies.csv")
    aliases = read_aliases(registry / "agency_aliases.csv", set(agencies["agency_code"]))

    started = time.perf_counter()
    matcher = AgencyMatcher(agencies, aliases)
    build = time.perf_counter() - started

    fixtures = PROJECT_ROOT / "tests" / "fixtures" / "news"
    expected_spec = json.loads((fixtures / "seed_matches.json").read_text(encoding="utf-8"))
    expected, found = {}, {}
    for name, spec in expected_spec.items():
        text = (fixtures / "seeds" / name).read_text(encoding="utf-8")
        found[name] = agency_codes(matcher.match(text, date.fromisoformat(spec["published_on"])))
        expected[name] = set(spec["agencies"])
    precision, recall, tp, relevant = precision_recall(expected, found)
    print(f"seed fixture: precision {precision:.3f}, recall {recall:.3f} ({tp} of {relevant} article-agency pairs)")

    places = [a.split(" ", 1)[1] for a in aliases["alias"] if a.startswith(("Kabupaten ", "Kota "))]
    articles = synthetic_articles(args.articles, args.seed, list(aliases["alias"]), places)
    chars = sum(len(a) for a in articles)
    started = time.perf_counter()
    mentions = sum(len(matcher.match(a, date(2023, 8, 29))) for a in articles)
    elapsed = time.perf_counter() - started
    print(f"automaton: {matcher.patterns} patterns from {len(aliases)} aliases, built in {build * 1000:.0f} ms")
    print(
        f"matched {len(articles):,} synthetic articles ({chars / 1e6:.1f} M characters) in {elapsed:.2f} s "
        f"({len(articles) / elapsed:,.0f} articles/s), {mentions:,} mentions"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
