"""Benchmark: what the hostile-input guards cost per row.

Prints rows per second of the shared row builder with and without hostile text (NUL bytes and lone
surrogates in 1 % of the rows), of the staging guard that refuses unrepaired text, and of the strict feed
date reader.

    .venv/bin/python scripts/bench_hostile_text.py [--rows 200000]
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from etl.news.dates import parse_feed_date
from etl.sources.frames import row
from etl.warehouse import refuse_unstorable_text


def _items(rows: int, hostile_every: int) -> list[dict]:
    items = []
    for n in range(rows):
        text = f"Rapat koordinasi layanan publik nomor {n} #aseanmatters"
        if hostile_every and n % hostile_every == 0:
            text += " \x00 \ud83d"
        items.append({"id": str(n), "author_id": "9", "text": text, "created_at": "2026-11-20T02:15:07.000Z"})
    return items


def _rate(label: str, count: int, seconds: float) -> None:
    print(f"{label:<58} {count / seconds:>12,.0f} rows/s  ({seconds:.2f} s for {count:,})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()

    for label, every in (("row() clean text", 0), ("row() with hostile text in 1 % of rows", 100)):
        items = _items(args.rows, every)
        start = time.perf_counter()
        built = [row({"platform": "x", "platform_post_id": i["id"], "text": i["text"]}, {"published_at": lambda: None}, i) for i in items]
        _rate(label, len(built), time.perf_counter() - start)
    repaired = sum(1 for b in built if b["text_repairs"])
    print(f"{'rows repaired':<58} {repaired:>12,}")

    frame = pd.DataFrame([{k: b[k] for k in ("platform", "platform_post_id", "text")} for b in built], dtype=object)
    start = time.perf_counter()
    refuse_unstorable_text("posts", frame)
    _rate("staging guard (refuse_unstorable_text), 3 text columns", len(frame), time.perf_counter() - start)

    dates = ["Senin, 5 Agt 2019 10.30 WIB", "Sat, Dec 16 2023 02:02:33 PM", "Mon, 05 Aug 2019 03:30:00 +0000",
             "2019-08-05T10:30:00+07:00"] * (args.rows // 4)
    start = time.perf_counter()
    read = [parse_feed_date(d) for d in dates]
    _rate("parse_feed_date (four formats)", len(read), time.perf_counter() - start)


if __name__ == "__main__":
    main()
