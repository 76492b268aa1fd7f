"""Benchmark the news transform at national scale: clustering, agency matching, tone and sentiment of a day's articles.

    python scripts/bench_news.py [--articles 50000] [--cluster-days 3] [--text realistic|templated|narrow] [--seed 7]

A day of ``--articles`` synthetic articles (a title and a summary, the text the pipeline matches and clusters:
RSS items carry no body) is clustered together with ``--cluster-days`` earlier days of as many articles already
in clusters (what ``transform_news`` reads from fact_news_article), with the sketches those nights kept (read
from a Parquet file, and today's written, inside the timed step), then matched against the registry, each
mention toned and scored, and each article scored, as ``etl.news.pipeline.transform_news`` does. Prints CPU and
wall seconds per step, the load average, and what clustering compared; asserts nothing.

``--text`` chooses the texts (deterministic for a seed):

* ``realistic``: words drawn (Zipf-like) from the Indonesian stopwords (tests/fixtures/news/stopwords-id) and the
  words of the registry (agency names and aliases, regions, head titles, units, regional offices, tone and
  lexicon words), with agency aliases (about two an article) and numbers mixed in. One article in ten is another outlet's copy
  of an earlier one (a popular story is copied more often): a quarter unchanged, the others under a new headline,
  with a few words changed, or rewritten (about 40% of the words new, so mostly below the threshold). Prints
  how many copies are at least as similar as the threshold to their source and how many clustering joined to it.
* ``templated``: the same, but every summary is one of eight boilerplate paragraphs with five words changed
  (outlets whose feeds repeat a summary): every pair of them is about 0.35 similar, below the threshold and
  proposed by most bands; the stress of candidate pairs.
* ``narrow``: the texts before issue 11 (a 60-word filler vocabulary, one article in twenty an unchanged copy).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_news_matching import synthetic_articles  # noqa: E402

from etl.news.dedupe import DEFAULT_THRESHOLD, ClusterStats, Doc, SketchCache, Sketches, cluster, shingles  # noqa: E402
from etl.news.matching import AgencyMatcher  # noqa: E402
from etl.news.pipeline import mention_rows  # noqa: E402
from etl.news.sentiment import load_lexicon, score  # noqa: E402
from etl.registry import read_agencies, read_aliases  # noqa: E402
from etl.settings import PROJECT_ROOT  # noqa: E402

DAY = date(2026, 11, 20)
STOPWORDS = PROJECT_ROOT / "tests" / "fixtures" / "news" / "stopwords-id" / "stopwords-id.txt"
COPY_SHARE = 0.1
#: How copies differ from their source: unchanged, new headline, new headline and a few words, rewritten.
EDITS = {"unchanged": 0.25, "retitled": 0.30, "edited": 0.30, "rewritten": 0.15}
#: Sentences (a title, two in the summary) that name an agency by one of its registry aliases: about two names
#: an article, as in a day of news fetched for the agencies (the labelled headlines name 0.5 on average).
ALIAS_SHARE = 0.65


class Words:
    """The realistic texts' vocabulary: stopwords, the registry's words, aliases and places, Zipf-weighted."""

    def __init__(self, registry: Path, aliases: pd.DataFrame, rng: np.random.Generator) -> None:
        import csv
        import re

        word = re.compile(r"[A-Za-z][A-Za-z-]+")
        content: set[str] = set()
        sources = [
            ("agencies.csv", ["name", "short_name"]), ("agency_aliases.csv", ["alias"]), ("regions/provinces.csv", ["nama"]),
            ("regions/regencies_cities.csv", ["nama"]), ("news_heads.csv", ["title"]), ("news_units.csv", ["unit"]),
            ("news_regional_offices.csv", ["word"]),
        ]
        for name, columns in sources:
            with (registry / name).open(encoding="utf-8", newline="") as fh:
                for row in csv.DictReader(fh):
                    for column in columns:
                        content.update(word.findall(row[column] or ""))
        for name in ("lexicon_id.tsv", "tone_words.tsv"):
            for line in (PROJECT_ROOT / "etl" / "news" / name).read_text(encoding="utf-8").splitlines():
                if line and not line.startswith("#"):
                    content.update(word.findall(line.split("\t")[0].lower()))
        stop = STOPWORDS.read_text(encoding="utf-8").split()
        self.function = np.array(rng.permutation(stop), dtype=object)
        self.content = np.array(rng.permutation(sorted(content)), dtype=object)
        self.function_p = self._zipf(len(self.function))
        self.content_p = self._zipf(len(self.content))
        self.entities = np.array(sorted(set(aliases["alias"])), dtype=object)
        self.rng = rng

    @staticmethod
    def _zipf(n: int) -> np.ndarray:
        weights = 1.0 / np.arange(1, n + 1) ** 1.0
        return weights / weights.sum()

    def draw(self, count: int) -> list[str]:
        """``count`` words, about half of them stopwords."""
        rng = self.rng
        content = self.content[rng.choice(len(self.content), count, p=self.content_p)]
        function = self.function[rng.choice(len(self.function), count, p=self.function_p)]
        return np.where(rng.random(count) < 0.55, content, function).tolist()

    def sentences(self, lengths: np.ndarray, names: float = ALIAS_SHARE) -> list[str]:
        """A sentence of each length, each with a number and, ``names`` of them, an agency alias."""
        words = self.draw(int(lengths.sum()))
        ends = np.cumsum(lengths)
        for end, length in zip(ends.tolist(), lengths.tolist(), strict=True):
            at = end - length
            if self.rng.random() < names:
                words[at + int(self.rng.integers(length))] = self.entities[self.rng.integers(len(self.entities))]
            words[at + int(self.rng.integers(length))] = str(self.rng.integers(2, 2027))
        return [" ".join(words[end - length : end]) for end, length in zip(ends.tolist(), lengths.tolist(), strict=True)]

    def change(self, text: str, share: float) -> str:
        words = text.split()
        changed = np.flatnonzero(self.rng.random(len(words)) < share)
        for i, word in zip(changed.tolist(), self.draw(len(changed)), strict=True):
            words[i] = word
        return " ".join(words)


def realistic_texts(total: int, seed: int, registry: Path, aliases: pd.DataFrame, *, templated: bool = False) -> tuple[list[tuple[str, str]], list[tuple[int, int, str]]]:
    """``total`` (title, summary) pairs and the planted copies (copy, source, edit)."""
    rng = np.random.default_rng(seed)
    words = Words(registry, aliases, rng)
    titles = words.sentences(rng.integers(7, 13, total))
    first, second = words.sentences(rng.integers(18, 28, total)), words.sentences(rng.integers(18, 28, total))
    templates = [f"{a}. {b}." for a, b in zip(words.sentences(np.full(8, 22)), words.sentences(np.full(8, 23)), strict=True)]
    texts: list[tuple[str, str]] = []
    planted: list[tuple[int, int, str]] = []
    popular: list[int] = []  # sources and copies so far: drawing from it copies popular stories more often
    edits, weights = list(EDITS), list(EDITS.values())
    for i in range(total):
        if i and rng.random() < COPY_SHARE:
            source = popular[rng.integers(len(popular))] if popular and rng.random() < 0.5 else int(rng.integers(i))
            edit = edits[rng.choice(len(edits), p=weights)]
            title, text = texts[source]
            if edit != "unchanged":
                title = titles[i]
            if edit == "edited":
                text = words.change(text, 0.06)
            elif edit == "rewritten":
                text = words.change(text, 0.4)
            texts.append((title, text))
            planted.append((i, source, edit))
            popular += [source, i]
        elif templated:
            texts.append((titles[i], words.change(templates[int(rng.integers(len(templates)))], 5 / 45)))
        else:
            texts.append((titles[i], f"{first[i]}. {second[i]}."))
    return texts, planted


def narrow_texts(total: int, seed: int, aliases: pd.DataFrame) -> tuple[list[tuple[str, str]], list[tuple[int, int, str]]]:
    """The benchmark's texts before issue 11: 60 filler words, one article in twenty an unchanged copy."""
    places = [a.split(" ", 1)[1] for a in aliases["alias"] if a.startswith(("Kabupaten ", "Kota "))]
    words = [t.split()[:70] for t in synthetic_articles(total, seed, list(aliases["alias"]), places)]
    texts = [(" ".join(w[:10]), " ".join(w[10:])) for w in words]
    rng = random.Random(seed)
    planted = []
    for i in range(0, total, 20):
        j = rng.randrange(max(i, 1))
        texts[i] = texts[j]
        if i != j:
            planted.append((i, j, "unchanged"))
    return texts, planted


class Stage:
    """CPU and wall seconds of a block."""

    def __enter__(self) -> Stage:
        self.cpu, self.wall = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *_: object) -> None:
        self.cpu, self.wall = time.process_time() - self.cpu, time.perf_counter() - self.wall


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--cluster-days", type=int, default=int(os.environ.get("PANTAU_NEWS_CLUSTER_DAYS", 3)))
    parser.add_argument("--text", choices=["realistic", "templated", "narrow"], default="realistic")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    registry = PROJECT_ROOT / "registry"
    agencies = read_agencies(registry / "agencies.csv")
    aliases = read_aliases(registry / "agency_aliases.csv", set(agencies["agency_code"]))
    total = args.articles * (args.cluster_days + 1)
    if args.text == "narrow":
        texts, planted = narrow_texts(total, args.seed, aliases)
    else:
        texts, planted = realistic_texts(total, args.seed, registry, aliases, templated=args.text == "templated")
    start = datetime.combine(DAY - timedelta(days=args.cluster_days), datetime.min.time())
    docs = [Doc(f"a{i:07d}", start + timedelta(seconds=i * 86_400 * (args.cluster_days + 1) // total), title, text)
            for i, (title, text) in enumerate(texts)]
    prior = total - args.articles
    # The window's clusters and sketches as the earlier nights left them (not timed).
    window = SketchCache()
    known = {c.article_id: c.cluster_id for c in cluster(docs[:prior], cache=window)}
    scratch = Path(tempfile.mkdtemp(prefix="bench-news-"))
    with (scratch / "window.parquet").open("wb") as fh:
        window.computed.write(fh)
    print(f"news ({args.text} texts): {args.articles:,} articles of {DAY} with {args.cluster_days} earlier days "
          f"({prior:,} articles) in the clustering window; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)

    stats = ClusterStats()
    with Stage() as clustering:  # as transform_news does: read the window's sketches, cluster, write today's
        with (scratch / "window.parquet").open("rb") as fh:
            cache = SketchCache([Sketches.read(fh)])
        clustered = cluster(docs, known=known, stats=stats, cache=cache)
        with (scratch / "today.parquet").open("wb") as fh:
            cache.computed.write(fh)
    shutil.rmtree(scratch)
    today = docs[prior:]
    with Stage() as building:
        matcher = AgencyMatcher.from_registry(registry)
    lexicon = load_lexicon(None)
    with Stage() as matching:
        matches = [matcher.match(f"{d.title}\n{d.text}", DAY) for d in today]
    with Stage() as toning:
        mentions = sum(len(mention_rows(d.article_id, DAY, f"{d.title}\n{d.text}", m, lexicon)) for d, m in zip(today, matches, strict=True))
    with Stage() as sentiment:
        for d in today:
            score(f"{d.title}\n{d.text}", lexicon)
    stages = {"clustering": clustering, "matching": matching, "mention tone": toning, "sentiment": sentiment}
    copies = sum(1 for c in clustered if c.duplicate_of)
    print(f"  {'stage':<13} {'CPU s':>7} {'wall s':>7}")
    for name, stage in stages.items():
        print(f"  {name:<13} {stage.cpu:7.1f} {stage.wall:7.1f}")
    cpu = sum(s.cpu for s in stages.values())
    print(f"  {'total':<13} {cpu:7.1f} {sum(s.wall for s in stages.values()):7.1f}   target <= 30 s: {cpu / 30:.2f}x of it in CPU "
          f"(building the matcher: {building.cpu:.1f} s, not counted); load average now {os.getloadavg()[0]:.2f}")
    print(f"  clustering: {len(docs):,} articles, {copies:,} of today's joined an earlier one; {stats.identical:,} identical "
          f"to an earlier article, {stats.band_pairs:,} band pairs, {stats.candidates:,} candidate pairs, {stats.verified:,} verified; "
          f"{stats.sketched:,} sketched, {len(docs) - stats.sketched:,} sketches of the window's nights reused, "
          f"{stats.verified_sets:,} articles shingled for the verification")
    print(f"  matching: {mentions:,} mentions; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    _planted_report(docs, clustered, known, planted, prior)
    return 0


def _planted_report(docs: list[Doc], clustered: list, known: dict[str, str], planted: list[tuple[int, int, str]], prior: int) -> None:
    """Of today's planted copies: how similar to their source, and whether clustering joined them to its cluster."""
    cluster_of = dict(known) | {c.article_id: c.cluster_id for c in clustered}
    by_edit: dict[str, list[int]] = {}
    for copy, source, edit in planted:
        if copy < prior:
            continue
        a, b = docs[copy], docs[source]
        sa, sb = shingles(f"{a.title}\n{a.text}"), shingles(f"{b.title}\n{b.text}")
        similar = len(sa & sb) / len(sa | sb) >= DEFAULT_THRESHOLD
        joined = cluster_of[a.article_id] == cluster_of[b.article_id]
        counts = by_edit.setdefault(edit, [0, 0, 0, 0])
        counts[0] += 1
        counts[1] += similar
        counts[2] += similar and joined
        counts[3] += joined and not similar
    for edit, (n, similar, joined, other) in by_edit.items():
        print(f"  planted {edit:<9} copies today: {n:6,}; at least {DEFAULT_THRESHOLD} similar to their source: {similar:6,}, "
              f"of them joined to its cluster: {joined:6,}; less similar yet joined (through another article): {other:,}")


if __name__ == "__main__":
    raise SystemExit(main())
