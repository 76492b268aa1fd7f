"""Near-duplicate clustering: syndicated copies of one story (same release, small edits) share a cluster.

Each article is reduced to word 3-gram shingles of its title and text; a
MinHash LSH index (datasketch) proposes candidates among the earlier
articles, and the exact Jaccard similarity of the shingle sets decides (LSH
only narrows the search, it never decides alone).  The earliest article of
a cluster is its original: every later copy gets ``duplicate_of`` = the
original's article id, and ``cluster_id`` = the original's id for all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from datasketch import MinHash, MinHashLSH

SHINGLE_WORDS = 3
NUM_PERM = 128
#: Jaccard similarity of shingle sets from which two articles are one story.
DEFAULT_THRESHOLD = 0.5
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Doc:
    """What clustering needs of an article."""

    article_id: str
    published_at: datetime | None
    title: str
    text: str


@dataclass(frozen=True)
class Clustered:
    article_id: str
    cluster_id: str
    duplicate_of: str | None
    similarity: float | None  # Jaccard with the original, for copies


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[str]:
    """Word ``size``-grams of the lower-cased text (the words themselves when it is shorter)."""
    words = _WORD.findall(text.lower())
    if len(words) < size:
        return set(words)
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def _minhash(items: set[str]) -> MinHash:
    mh = MinHash(num_perm=NUM_PERM, seed=1)
    mh.update_batch([s.encode("utf-8") for s in items])
    return mh


def cluster(docs: Iterable[Doc], *, threshold: float = DEFAULT_THRESHOLD, known: Mapping[str, str] | None = None) -> list[Clustered]:
    """Cluster ``docs`` (earliest first decides the original).

    ``known`` maps article ids already in the warehouse to their cluster: such
    docs are indexed (so new copies join their cluster) but keep their cluster
    and are not returned.  Deterministic: articles are taken by
    (published_at, article_id), so a rerun gives the same clusters.
    """
    known = dict(known or {})
    # LSH is tuned a little below the threshold so that pairs near it are still proposed.
    lsh = MinHashLSH(threshold=max(0.1, threshold - 0.15), num_perm=NUM_PERM)
    sets: dict[str, set[str]] = {}
    cluster_of: dict[str, str] = dict(known)
    ordered = sorted(docs, key=lambda d: (d.published_at or datetime.max, d.article_id))
    out: list[Clustered] = []
    for doc in ordered:
        items = shingles(f"{doc.title}\n{doc.text}")
        if doc.article_id in sets or not items:
            if not items:
                out.append(Clustered(doc.article_id, doc.article_id, None, None))
            continue
        mh = _minhash(items)
        if doc.article_id in known:
            sets[doc.article_id] = items
            lsh.insert(doc.article_id, mh)
            continue
        best_id, best = None, 0.0
        for candidate in sorted(lsh.query(mh)):
            other = sets[candidate]
            similarity = len(items & other) / len(items | other)
            if similarity > best:
                best_id, best = candidate, similarity
        if best_id is not None and best >= threshold:
            original = cluster_of.get(best_id, best_id)
            cluster_of[doc.article_id] = original
            out.append(Clustered(doc.article_id, original, original, round(best, 4)))
        else:
            cluster_of[doc.article_id] = doc.article_id
            out.append(Clustered(doc.article_id, doc.article_id, None, None))
        sets[doc.article_id] = items
        lsh.insert(doc.article_id, mh)
    return out
