"""Benchmark agency matching and per-mention tone: precision/recall on the seed fixture, time for N synthetic articles.

    python scripts/bench_news_matching.py [--articles 50000] [--seed 7] [--words 60]

Synthetic articles are Indonesian filler words (60: about a title + description,
~570 characters; 330: a full article) with a few registry aliases, head titles,
units, place names and local-office words mixed in, so the automaton sees
realistic hit rates; then the tone of every (article, agency) mention. Prints
wall-clock and CPU seconds (the machine is shared); asserts nothing.
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

from etl.news.matching import AgencyMatcher, NewsLanguage, agency_codes, precision_recall  # noqa: E402
from etl.news.tone import tones  # noqa: E402
from etl.registry import read_agencies, read_aliases  # noqa: E402
from etl.settings import PROJECT_ROOT  # noqa: E402

FILLER = (
    "pemerintah daerah menggelar kegiatan sosialisasi kepada masyarakat terkait program layanan publik yang "
    "dinilai berhasil meningkatkan partisipasi warga dalam pembangunan desa dan kota di seluruh wilayah "
    "kepala dinas mengatakan bahwa anggaran tahun ini difokuskan pada infrastruktur pendidikan kesehatan "
    "media sosial menjadi kanal informasi utama bagi generasi muda sehingga konten harus kreatif dan akurat"
).split()
OFFICES = ["Diskominfo", "Dinas Kominfo", "Kepala Dinas Kominfo", "Bupati", "Gubernur", "Wali Kota", "Pemkot", "Dinkes", "Polda", "Kejari"]
#: Head titles and named units of the news language files, mixed in like aliases.
LANGUAGE = ["Menkeu", "Kapolri", "Wamendagri", "Kepala BGN", "Bareskrim", "Bea Cukai", "SPPG", "Menteri Sosial", "Jaksa Agung"]


def synthetic_articles(count: int, seed: int, aliases: list[str], places: list[str], words_per_article: int = 330) -> list[str]:
    rng = random.Random(seed)
    articles = []
    for _ in range(count):
        words = [rng.choice(FILLER) for _ in range(words_per_article)]
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
    parser.add_argument("--words", type=int, default=60, help="filler words per article (60: a title + description; 330: a full article)")
    args = parser.parse_args()
    registry = PROJECT_ROOT / "registry"
    agencies = read_agencies(registry / "agencies.csv")
    aliases = read_aliases(registry / "agency_aliases.csv", set(agencies["agency_code"]))

    started = time.perf_counter()
    matcher = AgencyMatcher(agencies, aliases, NewsLanguage.from_registry(registry, set(agencies["agency_code"])))
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
    articles = synthetic_articles(args.articles, args.seed, list(aliases["alias"]) + LANGUAGE * 40, places, args.words)
    chars = sum(len(a) for a in articles)
    started, cpu = time.perf_counter(), time.process_time()
    matched = [matcher.match(a, date(2023, 8, 29)) for a in articles]
    elapsed, match_cpu = time.perf_counter() - started, time.process_time() - cpu
    mentions = sum(len(m) for m in matched)
    started = time.perf_counter()
    cpu = time.process_time()
    toned = sum(len(tones(text, found)) for text, found in zip(articles, matched, strict=True))
    tone_elapsed, tone_cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"automaton: {matcher.patterns} patterns from {len(aliases)} aliases, built in {build * 1000:.0f} ms")
    print(
        f"matched {len(articles):,} synthetic articles ({chars / 1e6:.1f} M characters) in {elapsed:.2f} s "
        f"({len(articles) / elapsed:,.0f} articles/s; {match_cpu:.2f} s CPU), {mentions:,} mentions"
    )
    print(f"tone of {toned:,} (article, agency) mentions in {tone_elapsed:.2f} s ({tone_cpu:.2f} s CPU)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
