"""Draw the labelled news set's headlines from two public repositories (clones given on the command line).

Reproduces tests/fixtures/news/eval/headlines.tsv from:

* avrianpradiptya/esp32-new-feed (an hourly GitHub Action kept each outlet's latest RSS title in
  data/latest.json; every version in its history is read): detik, kompas, antaranews, ANTARA Jogja
  (regional), republika, jpnn, tempo, viva, times.co.id headlines;
* adlandwijaka/tempo-rss (a daily GitHub Action copies five Tempo RSS feeds): Tempo title + lead.

Per outlet, a fixed share of the drawn headlines contains a government word (so the set has mentions)
and the rest are drawn from the others (negatives); the order is a SHA-1 of the text, so the draw is
deterministic. Each row's ``part`` is ``dev`` or ``held`` from the same hash (35 % held back).

Usage: python scripts/build_news_eval_set.py ESP32_CLONE TEMPO_RSS_CLONE > tests/fixtures/news/eval/headlines.tsv
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

#: outlet in the source -> (outlet code, how many to draw)
ESP32_OUTLETS = {
    "antaranews Jogja": ("antara-jogja", 360), "antaranews.com": ("antara", 180), "detik.com": ("detik", 180),
    "kompas.com": ("kompas", 180), "republika.co.id": ("republika", 120), "jpnn.com": ("jpnn", 120),
    "tempo.co": ("tempo", 100), "times.co.id": ("times", 60), "viva.co": ("viva", 60),
}
TEMPO_RSS_DRAW = 200
GOVERNMENT_SHARE = 0.7
HELD_BACK_PERCENT = 35
_GOVERNMENT = re.compile(
    r"\b(kementerian|kemen\w*|kem\w+|menteri|men[a-z]{2,6}|wamen\w*|polri|polisi|polda|polres\w*|polsek|kapol\w+|bareskrim|"
    r"kpk|kejaksaan|kejagung|kejati|kejari|jaksa|pemprov|pemkab|pemkot|pemda|gubernur|bupati|wali ?kota|dinas|dinkes|dishub|"
    r"disdik|satpol|bpbd|basarnas|bnpb|bmkg|bps|brin|bpom|bgn|sppg|tni|bnn|kpu|bawaslu|ombudsman|komnas|ksp|istana|pemerintah)\b",
    re.I,
)


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False).stdout


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def esp32_headlines(repo: Path) -> dict[str, list[tuple[str, str, str]]]:
    """outlet -> [(title, first seen (ISO), commit)] over every version of the latest-titles file."""
    seen: dict[str, tuple[str, str, str]] = {}
    for line in reversed(_git(repo, "log", "--format=%H", "--", "data/latest.json", "latest.json").split()):
        for name in ("data/latest.json", "latest.json"):
            raw = _git(repo, "show", f"{line}:{name}")
            if not raw:
                continue
            try:
                data = json.loads(raw)
            except ValueError:
                continue
            for feed in data.get("feeds", []):
                title = " ".join(str(feed.get("title", "")).split())
                if title and title not in seen:
                    seen[title] = (str(feed.get("source")), str(data.get("updated", ""))[:10], line)
    by_outlet: dict[str, list[tuple[str, str, str]]] = {}
    for title, (source, day, commit) in seen.items():
        by_outlet.setdefault(source, []).append((title, day, commit))
    return by_outlet


def tempo_items(repo: Path) -> list[tuple[str, str, str]]:
    """[(title + lead, pubDate, commit)] of every item in the feeds' history, first sighting."""
    seen: dict[str, tuple[str, str, str]] = {}
    for commit in reversed(_git(repo, "log", "--format=%H").split()):
        for name in _git(repo, "ls-tree", "--name-only", commit).split():
            if not name.endswith(".xml"):
                continue
            try:
                root = ET.fromstring(_git(repo, "show", f"{commit}:{name}"))
            except ET.ParseError:
                continue
            for item in root.iter("item"):
                link = (item.findtext("link") or "").strip()
                title = " ".join((item.findtext("title") or "").split())
                lead = " ".join(re.sub(r"<[^>]+>", " ", item.findtext("description") or "").split())
                if link and title and link not in seen:
                    seen[link] = (f"{title}. {lead}".strip(), (item.findtext("pubDate") or "").strip(), commit)
    return list(seen.values())


def draw(items: list[tuple[str, str, str]], n: int) -> list[tuple[str, str, str]]:
    ordered = sorted(items, key=lambda i: _digest(i[0]))
    gov = [i for i in ordered if _GOVERNMENT.search(i[0])]
    other = [i for i in ordered if not _GOVERNMENT.search(i[0])]
    k = min(len(gov), round(n * GOVERNMENT_SHARE))
    return gov[:k] + other[: n - k]


def main(esp32: Path, tempo: Path) -> None:
    rows = []
    for source, items in esp32_headlines(esp32).items():
        if source not in ESP32_OUTLETS:
            continue
        outlet, n = ESP32_OUTLETS[source]
        rows += [(outlet, "headline", "avrianpradiptya/esp32-new-feed", c, d, t) for t, d, c in draw(items, n)]
    rows += [("tempo", "headline+lead", "adlandwijaka/tempo-rss", c, d, t) for t, d, c in draw(tempo_items(tempo), TEMPO_RSS_DRAW)]
    print("id\tpart\toutlet\tkind\tsource_repo\tsource_commit\tseen_on\ttext")
    printed = set()
    for outlet, kind, repo, commit, day, text in sorted(rows, key=lambda r: _digest(r[5])):
        digest = _digest(text)
        if digest in printed:
            continue  # the same headline from both repositories
        printed.add(digest)
        part = "held" if int(digest[:8], 16) % 100 < HELD_BACK_PERCENT else "dev"
        print("\t".join((digest[:10], part, outlet, kind, repo, commit[:12], day, text.replace("\t", " "))))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
