"""Benchmark the news transform at national scale: clustering, agency matching and sentiment of a day's articles.

    python scripts/bench_news.py [--articles 50000] [--cluster-days 3]

A day of ``--articles`` synthetic articles (a title and a ~60-word summary, the text the pipeline matches and
clusters: RSS items carry no body) is clustered together with ``--cluster-days`` earlier days of as many
articles already in clusters (what ``transform_news`` reads from fact_news_article), then matched against the
registry's aliases and scored for sentiment, as ``etl.news.pipeline.transform_news`` does. Prints seconds per
step; asserts nothing. Measurement only: the news code is etl/news/.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_news_matching import synthetic_articles  # noqa: E402

from etl.news.dedupe import Doc, cluster  # noqa: E402
from etl.news.matching import AgencyMatcher  # noqa: E402
from etl.news.sentiment import load_lexicon, score  # noqa: E402
from etl.registry import read_agencies, read_aliases  # noqa: E402
from etl.settings import PROJECT_ROOT  # noqa: E402

DAY = date(2026, 11, 20)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--cluster-days", type=int, default=int(os.environ.get("PANTAU_NEWS_CLUSTER_DAYS", 3)))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    registry = PROJECT_ROOT / "registry"
    agencies = read_agencies(registry / "agencies.csv")
    aliases = read_aliases(registry / "agency_aliases.csv", set(agencies["agency_code"]))
    places = [a.split(" ", 1)[1] for a in aliases["alias"] if a.startswith(("Kabupaten ", "Kota "))]
    total = args.articles * (args.cluster_days + 1)
    texts = [" ".join(t.split()[:70]) for t in synthetic_articles(total, args.seed, list(aliases["alias"]), places)]
    rng = random.Random(args.seed)
    start = datetime.combine(DAY - timedelta(days=args.cluster_days), datetime.min.time())
    docs = [Doc(f"a{i:07d}", start + timedelta(seconds=i * 86_400 * (args.cluster_days + 1) // total),
                " ".join(t.split()[:10]), " ".join(t.split()[10:])) for i, t in enumerate(texts)]
    for i in range(0, total, 20):  # one article in twenty is another outlet's copy of an earlier one
        j = rng.randrange(max(i, 1))
        docs[i] = Doc(docs[i].article_id, docs[i].published_at, docs[j].title, docs[j].text)
    prior = total - args.articles
    known = {d.article_id: d.article_id for d in docs[:prior]}
    print(f"news: {args.articles:,} articles of {DAY} with {args.cluster_days} earlier days ({prior:,} articles) in the "
          f"clustering window; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)

    started = time.perf_counter()
    clustered = cluster(docs, known=known)
    clustering = time.perf_counter() - started
    today = docs[prior:]
    started = time.perf_counter()
    matcher = AgencyMatcher(agencies, aliases)
    mentions = sum(len(matcher.match(f"{d.title}\n{d.text}", DAY)) for d in today)
    matching = time.perf_counter() - started
    lexicon = load_lexicon(None)
    started = time.perf_counter()
    for d in today:
        score(f"{d.title}\n{d.text}", lexicon)
    sentiment = time.perf_counter() - started
    copies = sum(1 for c in clustered if c.duplicate_of)
    print(f"  clustering {clustering:6.1f}s ({len(docs):,} articles, {copies:,} copies found)")
    print(f"  matching   {matching:6.1f}s ({mentions:,} mentions)")
    print(f"  sentiment  {sentiment:6.1f}s")
    print(f"  total      {clustering + matching + sentiment:6.1f}s (target <= 30 s); peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
