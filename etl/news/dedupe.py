"""Near-duplicate clustering: syndicated copies of one story (same release, small edits) share a cluster.

Each article is reduced to the word 3-gram shingles of its title and text.  Articles are taken by
(published_at, article_id); an article joins the cluster of the earlier article most similar to it (the
Jaccard similarity of their shingle sets, computed exactly; ties go to the smallest article id) when that
similarity is at least the threshold, and starts its own cluster otherwise.  The earliest article of a
cluster is its original: every later copy gets ``duplicate_of`` = the original's article id, and
``cluster_id`` = the original's id for all.

A night compares ~50,000 new articles with ~200,000 (its own and the window's), so the earlier articles are
not all compared; they are found in three steps, each vectorised over the whole batch with numpy:

1. Articles with the same shingle set (a release carried unchanged) form one group: a later member's best
   match is an earlier member (similarity 1), found without hashing; only each group's first article goes on.
2. Those get a MinHash signature by one-permutation hashing (each shingle hashed once; its hash picks one of
   ``BINS`` bins and the bin keeps its smallest value; an empty bin takes the next filled bin's value), cut
   into ``BANDS`` bands of ``BAND_ROWS`` bins.  Two articles whose signatures agree on a whole band are
   candidates: at similarity s that happens with probability about 1 - (1 - s**2)**64, 1 - 1e-8 at 0.5,
   0.93 at 0.2, 0.006 at 0.01, so every pair near the threshold is proposed and unrelated ones rarely.
   (Three bins a band would propose a hundredth of the unrelated pairs, but miss 1-2% of the pairs at
   0.5-0.55: most of a short text's bins are empty and borrowed, so bins are less independent than that
   formula assumes.  Measured on the benchmark's planted copies, scripts/bench_news.py.)
3. A bucket (the articles agreeing on one band) offers an article the ``BUCKET_LIMIT`` articles right
   before it, not all of them, and an article verifies at most ``CANDIDATE_LIMIT`` candidates, those sharing
   the most bands: thousands of articles over one boilerplate summary (about 0.35 similar to each other,
   every pair proposed) cost a bounded number of comparisons per article instead of one per pair.  Only in
   such floods can a pair at the threshold be missed (scripts/bench_news.py --text templated counts them;
   120 days of the sandbox's seven story templates clustered at once: 9 of 2,160 articles differ from
   comparing every pair, 73 with the bands before issue 11); on the realistic benchmark, and for the
   sandbox's stories of a night and its window, the limits change nothing.

The candidates are then verified exactly: MinHash only narrows the search, it never decides.  Shingles are
identified exactly (by their words, not by a hash), and the hashes are of the words themselves, so the
candidates of an article do not depend on what else is in the batch.

That independence lets a night reuse what the earlier nights computed (:class:`SketchCache`): an article's
*sketch* (its shingle count, the fingerprint of its shingle set and its band keys) is a function of its text
alone, kept with a digest of that text.  The window's articles whose sketch is at hand and whose text has
the same digest are not shingled again for the bands; only those that an identical group or a candidate pair
puts in front of the exact verification are (with the new articles, in one batch, numbered exactly as above).
A sketch never decides anything either: a missing, stale or unreadable one is computed again, and the
clusters are the same with or without them (tests/unit/test_news_dedupe.py compares both).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from itertools import chain
from typing import BinaryIO

import numpy as np
import pandas as pd

SHINGLE_WORDS = 3
#: Jaccard similarity of shingle sets from which two articles are one story.
DEFAULT_THRESHOLD = 0.5
#: MinHash bins per article, bins per band, bands (the last BINS % BAND_ROWS bins are not banded).
BINS = 128
BAND_ROWS = 2
BANDS = BINS // BAND_ROWS
#: Articles of a bucket offered as candidates to the next one in it (the latest before it), and candidates
#: verified for an article at most (a flood of similar-but-not-enough texts costs a bounded amount per article).
BUCKET_LIMIT = 16
CANDIDATE_LIMIT = 64
_WORD = re.compile(r"\w+", re.UNICODE)
_MASK32 = np.uint64(0xFFFFFFFF)
#: Shingle keys are packed word numbers while they fit below this; beyond, they are numbered first.
_PACK_LIMIT = 2**63
_CHUNK = 2_000_000  # shingles compared at once when verifying candidates
#: Densification: the bins an empty bin looks at, in order (a fixed function of the bin and the attempt).
_DONOR_ATTEMPTS = 8 * BINS


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


@dataclass
class ClusterStats:
    """What one :func:`cluster` call compared (for benchmarks and tests; clustering does not read it)."""

    articles: int = 0
    sketched: int = 0  # articles whose sketch was computed (the others' came from the cache)
    verified_sets: int = 0  # articles shingled for the exact verification, beyond those sketched
    identical: int = 0  # articles whose shingle set an earlier article has
    band_pairs: int = 0  # (article, earlier article) pairs proposed by the bands, one per band they share
    candidates: int = 0  # distinct pairs proposed
    verified: int = 0  # pairs whose similarity was computed (within CANDIDATE_LIMIT, sizes not ruling it out)


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[str]:
    """Word ``size``-grams of the lower-cased text (the words themselves when it is shorter)."""
    words = _WORD.findall(text.lower())
    if len(words) < size:
        return set(words)
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit moves every output bit (uint64 in, uint64 out)."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _donor_table() -> np.ndarray:
    """For each bin, the bins its densification looks at in turn: a fixed function of the bin and the attempt."""
    x = _mix(np.arange(BINS * _DONOR_ATTEMPTS, dtype=np.uint64) + np.uint64(0x5EED))
    return ((x >> np.uint64(32)) * np.uint64(BINS) >> np.uint64(32)).astype(np.int64).reshape(BINS, _DONOR_ATTEMPTS)


_DONORS = _donor_table()


def _word_hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


def _number(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Dense numbers 0..k-1 of ``values`` (equal values, equal numbers) by sorting; and k."""
    if not len(values):
        return np.zeros(0, np.int64), 0
    order = np.argsort(values)
    ranked = values[order]
    new = np.empty(len(values), bool)
    new[0] = True
    np.not_equal(ranked[1:], ranked[:-1], out=new[1:])
    numbers = np.empty(len(values), np.int64)
    numbers[order] = np.cumsum(new) - 1
    return numbers, int(new.sum())


@dataclass(frozen=True)
class _Shingles:
    """Each article's shingle set: ``ids[indptr[i]:indptr[i + 1]]``, sorted; ``hashes[id]`` a shingle's hash."""

    indptr: np.ndarray
    ids: np.ndarray
    hashes: np.ndarray

    def sizes(self) -> np.ndarray:
        return np.diff(self.indptr)


def _shingle(texts: list[str]) -> _Shingles:
    """The shingle sets of ``texts`` (as :func:`shingles` makes them), numbered exactly."""
    words = [_WORD.findall(t.lower()) for t in texts]
    lengths = np.fromiter(map(len, words), np.int64, len(words))
    flat = list(chain.from_iterable(words))
    codes, vocabulary = pd.factorize(np.array(flat, dtype=object)) if flat else (np.zeros(0, np.int64), [])
    codes = np.asarray(codes, np.int64)
    radix = len(vocabulary) + 1  # word numbers, and one for "no word" (the short texts' single-word shingles)
    word_hashes = np.fromiter(chain((_word_hash(w) for w in vocabulary), [0x5EED]), np.uint64, radix)
    ends = np.cumsum(lengths)
    article = np.repeat(np.arange(len(texts)), lengths)
    position = np.arange(len(codes))
    short = (lengths < SHINGLE_WORDS)[article]  # every word of a short text is a shingle on its own
    first = np.flatnonzero(short | (position + SHINGLE_WORDS <= ends[article]))
    columns = [codes[first]]
    for k in range(1, SHINGLE_WORDS):
        later = np.minimum(first + k, max(len(codes) - 1, 0))
        columns.append(np.where(short[first], radix - 1, codes[later] if len(codes) else later))
    key = columns[0]
    packed = radix**SHINGLE_WORDS < _PACK_LIMIT
    for column in columns[1:]:
        if not packed:
            key, count = _number(key)
            if count * radix >= 2**63:  # more distinct word sequences than any day of news has
                raise ValueError(f"{count:,} distinct word sequences x {radix:,} words overflow 64 bits")
        key = key * radix + column
    ids, count = _number(key)
    with np.errstate(over="ignore"):
        mixed = np.zeros(len(first), np.uint64)
        for k, column in enumerate(columns):
            mixed = _mix(mixed ^ (word_hashes[column] + np.uint64(k)))
    hashes = np.zeros(count, np.uint64)
    hashes[ids] = mixed
    # One entry per (article, shingle), sorted: the number of an article's shingle is its set's element.
    entries = np.sort(article[first] * max(count, 1) + ids)
    keep = np.ones(len(entries), bool)
    np.not_equal(entries[1:], entries[:-1], out=keep[1:])
    entries = entries[keep]
    owner = entries // max(count, 1)
    indptr = np.zeros(len(texts) + 1, np.int64)
    np.cumsum(np.bincount(owner, minlength=len(texts)), out=indptr[1:])
    return _Shingles(indptr, entries % max(count, 1), hashes)


def _rows(sh: _Shingles, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The shingles of ``rows`` one after another, and the position in ``rows`` each came from."""
    starts, sizes = sh.indptr[rows], sh.indptr[rows + 1] - sh.indptr[rows]
    owner = np.repeat(np.arange(len(rows)), sizes)
    offsets = np.arange(len(owner)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    return sh.ids[np.repeat(starts, sizes) + offsets], owner


def _shared(sh: _Shingles, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """How many shingles articles ``a[i]`` and ``b[i]`` have in common, for every i."""
    import scipy.sparse  # noqa: PLC0415 - a dependency of the news transform only

    # Each article a row of ones over its shingles: the pairs' rows multiplied elementwise (scipy merges two sorted
    # rows in one pass) and summed. A binary search of every shingle of one side in the other's took 4.6x as long:
    # half of a templated day's clustering (issue 11).
    sets = scipy.sparse.csr_matrix((np.ones(len(sh.ids), np.int32), sh.ids, sh.indptr), shape=(len(sh.indptr) - 1, max(len(sh.hashes), 1)))
    shared = np.zeros(len(a), np.int64)
    reach = np.cumsum(sh.sizes()[a])
    start = 0
    while start < len(a):  # in chunks of about _CHUNK shingles: memory stays flat for any number of pairs
        done = reach[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(reach, done + _CHUNK)))
        shared[start:stop] = np.asarray(sets[a[start:stop]].multiply(sets[b[start:stop]]).sum(axis=1)).ravel()
        start = stop
    return shared


def _signatures(sh: _Shingles, rows: np.ndarray) -> np.ndarray:
    """One-permutation MinHash of ``rows`` (each with at least one shingle): a (len(rows), BINS) uint32 array."""
    ids, owner = _rows(sh, rows)
    hashes = sh.hashes[ids]
    bins = (((hashes >> np.uint64(32)) * np.uint64(BINS)) >> np.uint64(32)).astype(np.int64)
    cells = owner * BINS + bins
    values = (hashes & _MASK32).astype(np.uint32)
    signature = np.full(len(rows) * BINS, np.iinfo(np.uint32).max, np.uint32)
    np.minimum.at(signature, cells, values)
    filled = np.zeros(len(rows) * BINS, bool)
    filled[cells] = True
    signature, filled = signature.reshape(len(rows), BINS), filled.reshape(len(rows), BINS)
    # Densification (Shrivastava's "optimal densification", 2017): an empty bin j takes the value of the first
    # filled bin in a sequence of bins that depends on j only, the same for every article.  Two articles then
    # agree on bin j with probability equal to their similarity, and unlike taking the next bin to the right,
    # the bins of a short text (a GDELT headline fills 8 of 128) do not borrow from the same few neighbours.
    flat_signature, flat_filled = signature.ravel(), filled.ravel()
    dense = flat_signature.copy()
    cells = np.flatnonzero(~flat_filled)
    for attempt in range(_DONOR_ATTEMPTS):
        if not len(cells):
            break
        donors = cells - cells % BINS + _DONORS[cells % BINS, attempt]
        found = flat_filled[donors]
        dense[cells[found]] = flat_signature[donors[found]]
        cells = cells[~found]
    if len(cells):  # (127/128)**1024: a one-shingle text, rarely; its one filled bin decides
        first_filled = np.argmax(filled, axis=1)
        dense[cells] = signature[cells // BINS, first_filled[cells // BINS]]
    return dense.reshape(len(rows), BINS)


def _band_keys(signature: np.ndarray) -> np.ndarray:
    """A uint64 per (row, band): equal when the band's BAND_ROWS values are equal (up to 2**-64)."""
    # Band b is bins b, b + BANDS, ... (with densification by the next bin to the right, adjacent bins
    # shared donors and proposed 20 times the pairs; spread out costs nothing).
    key = np.zeros((len(signature), BANDS), np.uint64)
    with np.errstate(over="ignore"):
        for k in range(BAND_ROWS):
            key = _mix(key ^ (signature[:, k * BANDS : (k + 1) * BANDS].astype(np.uint64) + np.uint64(k)))
    return key


def _band_candidates(keys: np.ndarray, rows: np.ndarray, queries: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """(query, earlier row) pairs sharing a band key; ``rows`` are in processing order, ``queries`` a mask of them."""
    order = np.argsort(keys, kind="stable")  # stable: equal keys stay in processing order
    ranked = keys[order]
    head = np.concatenate([[True], ranked[1:] != ranked[:-1]])
    starts = np.flatnonzero(head)
    group = np.cumsum(head) - 1
    rank = np.arange(len(ranked)) - starts[group]
    take = np.where(queries[order], np.minimum(rank, limit), 0)
    total = int(take.sum())
    if not total:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    who = np.flatnonzero(take)
    counts = take[who]
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    # The `limit` articles right before it in the bucket: copies follow their source within hours or days.
    return rows[order[np.repeat(who, counts)]], rows[order[np.repeat(who - counts, counts) + offsets]]


#: What a sketch holds depends on these: sketches made under other settings are not read. The last number stands for
#: everything else a sketch is computed with (the word pattern, _word_hash, _mix, the donor table, the title + text
#: a doc is shingled from): raise it with any change to them.
SKETCH_VERSION = f"w{SHINGLE_WORDS}-b{BINS}-r{BAND_ROWS}-d{_DONOR_ATTEMPTS}-1"
_SKETCH_BYTES = BANDS * 8


def text_digests(texts: list[str]) -> np.ndarray:
    """A 64-bit digest of each text: pandas' SipHash under its fixed key, the same on every machine and run."""
    if not texts:
        return np.zeros(0, np.uint64)
    # As UTF-8 bytes (the same digest as the text's), a lone surrogate passed through instead of refused.
    return pd.util.hash_array(np.array([t.encode("utf-8", "surrogatepass") for t in texts], dtype=object), categorize=False)


@dataclass(frozen=True)
class Sketches:
    """Per article, what the bands need of its text: the text's digest, its shingle count, the fingerprint of its
    shingle set, and its BANDS band keys (a row of ``keys``)."""

    article_id: np.ndarray  # str objects
    digest: np.ndarray  # uint64
    size: np.ndarray  # int64
    fingerprint: np.ndarray  # uint64
    keys: np.ndarray  # (articles, BANDS) uint64

    def __len__(self) -> int:
        return len(self.article_id)

    @classmethod
    def empty(cls) -> Sketches:
        return cls(np.zeros(0, object), np.zeros(0, np.uint64), np.zeros(0, np.int64), np.zeros(0, np.uint64), np.zeros((0, BANDS), np.uint64))

    @classmethod
    def concat(cls, parts: Iterable[Sketches]) -> Sketches:
        """One set of sketches; an article in several parts keeps its sketch of the last."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        joined = cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))
        keep = ~pd.Index(joined.article_id).duplicated(keep="last")
        return joined if keep.all() else joined.take(np.flatnonzero(keep))

    def take(self, rows: np.ndarray) -> Sketches:
        return Sketches(*(getattr(self, f.name)[rows] for f in fields(self)))

    def write(self, fh: BinaryIO) -> None:
        """Parquet, the band keys one fixed-size binary value an article, the version in the file's metadata."""
        import pyarrow as pa  # noqa: PLC0415
        import pyarrow.parquet as pq  # noqa: PLC0415

        keys = pa.FixedSizeBinaryArray.from_buffers(
            pa.binary(_SKETCH_BYTES), len(self), [None, pa.py_buffer(np.ascontiguousarray(self.keys, np.uint64).tobytes())]
        )
        table = pa.table({
            "article_id": pa.array(self.article_id.tolist(), pa.string()), "digest": pa.array(self.digest, pa.uint64()),
            "size": pa.array(self.size, pa.int64()), "fingerprint": pa.array(self.fingerprint, pa.uint64()), "band_keys": keys,
        }).replace_schema_metadata({"pantau_sketch_version": SKETCH_VERSION})
        pq.write_table(table, fh, compression="none")  # hashes do not compress

    @classmethod
    def read(cls, fh: BinaryIO) -> Sketches:
        """Sketches written by :meth:`write`; ValueError for a file of another version or shape."""
        import pyarrow as pa  # noqa: PLC0415
        import pyarrow.parquet as pq  # noqa: PLC0415

        table = pq.read_table(fh)
        version = (table.schema.metadata or {}).get(b"pantau_sketch_version", b"").decode()
        if version != SKETCH_VERSION:
            raise ValueError(f"sketches of version {version or 'unknown'}, not {SKETCH_VERSION}")
        keys = table.column("band_keys").combine_chunks()
        if keys.type != pa.binary(_SKETCH_BYTES) or keys.null_count:
            raise ValueError(f"band_keys is {keys.type} with {keys.null_count} nulls, not {_SKETCH_BYTES}-byte values")
        buffer = keys.buffers()[1]
        matrix = np.frombuffer(buffer, np.uint64, count=len(keys) * BANDS, offset=keys.offset * _SKETCH_BYTES).reshape(len(keys), BANDS)
        return cls(
            np.array(table.column("article_id").to_pylist(), dtype=object), table.column("digest").to_numpy().astype(np.uint64),
            table.column("size").to_numpy().astype(np.int64), table.column("fingerprint").to_numpy().astype(np.uint64), matrix.copy(),
        )


class SketchCache:
    """The sketches earlier nights computed, looked up by article id and text digest; and those one call computed."""

    def __init__(self, earlier: Iterable[Sketches] = ()) -> None:
        self.earlier = Sketches.concat(earlier)
        self._index = pd.Index(self.earlier.article_id)
        self.computed = Sketches.empty()

    def lookup(self, article_ids: np.ndarray, digests: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each article, whether a sketch of the same text is at hand, and its row in :attr:`earlier`."""
        at = self._index.get_indexer(article_ids) if len(self._index) else np.full(len(article_ids), -1)
        hit = at >= 0
        hit[hit] = self.earlier.digest[at[hit]] == digests[hit]
        return hit, at


def _set_fingerprints(sh: _Shingles) -> np.ndarray:
    """A uint64 per article, equal for equal shingle sets (0 for an empty one)."""
    sizes = sh.sizes()
    present = np.flatnonzero(sizes > 0)
    fingerprint = np.zeros(len(sizes), np.uint64)
    if len(present):
        with np.errstate(over="ignore"):
            fingerprint[present] = np.add.reduceat(sh.hashes[sh.ids], sh.indptr[present]) ^ _mix(sizes[present].astype(np.uint64))
    return fingerprint


def _sketch(sh: _Shingles) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sizes, set fingerprints and band keys (zeros for an article without shingles) of every article of ``sh``."""
    sizes = sh.sizes()
    keys = np.zeros((len(sizes), BANDS), np.uint64)
    present = np.flatnonzero(sizes > 0)
    if len(present):
        keys[present] = _band_keys(_signatures(sh, present))
    return sizes, _set_fingerprints(sh), keys


class _ExactSets:
    """Exact shingle sets of the articles each verification compares: those of every article when all were just
    sketched, else the compared rows shingled for the call (the identical groups' few, then the candidate pairs')."""

    def __init__(self, texts: list[str], shingled: _Shingles | None, stats: ClusterStats) -> None:
        self.texts, self.stats = texts, stats
        self.all = shingled  # every article's sets, when every article was sketched now

    def shared(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if self.all is not None:
            return _shared(self.all, a, b)
        rows = np.unique(np.concatenate([a, b]))
        self.stats.verified_sets += len(rows)
        local = np.full(len(self.texts), -1, np.int64)
        local[rows] = np.arange(len(rows))
        return _shared(_shingle([self.texts[i] for i in rows.tolist()]), local[a], local[b])


def cluster(
    docs: Iterable[Doc], *, threshold: float = DEFAULT_THRESHOLD, known: Mapping[str, str] | None = None,
    stats: ClusterStats | None = None, cache: SketchCache | None = None,
) -> list[Clustered]:
    """Cluster ``docs`` (earliest first decides the original).

    ``known`` maps article ids already in the warehouse to their cluster: such docs are candidates (so new
    copies join their cluster) but keep their cluster and are not returned.  An article id given twice counts
    once (its earliest doc).  Deterministic: articles are taken by (published_at, article_id), so a rerun gives
    the same clusters.  ``stats``, if given, is filled with what was compared.  ``cache``, if given, supplies the
    sketches of earlier nights and receives those computed here (``cache.computed``), for the next night.
    """
    known = dict(known or {})
    stats = stats if stats is not None else ClusterStats()
    if cache is not None:
        cache.computed = Sketches.empty()
    seen: set[str] = set()
    ordered = []
    for doc in sorted(docs, key=lambda d: (d.published_at or datetime.max, d.article_id)):
        if doc.article_id not in seen:
            seen.add(doc.article_id)
            ordered.append(doc)
    n = len(ordered)
    stats.articles = n
    if not n:
        return []
    ids = np.array([d.article_id for d in ordered], dtype=object)
    id_rank = np.empty(n, np.int64)
    id_rank[np.argsort(ids.astype(str), kind="stable")] = np.arange(n)
    is_new = np.array([d.article_id not in known for d in ordered])
    texts = [f"{d.title}\n{d.text}" for d in ordered]

    # 0. Sketches: from the cache where the text is the same, computed for the others.
    sizes, fingerprint, keys = np.zeros(n, np.int64), np.zeros(n, np.uint64), np.zeros((n, BANDS), np.uint64)
    digests = text_digests(texts) if cache is not None else None
    hit = np.zeros(n, bool)
    if cache is not None and len(cache.earlier):
        hit, at = cache.lookup(ids, digests)
        earlier = cache.earlier.take(at[hit])
        sizes[hit], fingerprint[hit], keys[hit] = earlier.size, earlier.fingerprint, earlier.keys
    missed = np.flatnonzero(~hit)
    shingled = _shingle([texts[i] for i in missed.tolist()]) if len(missed) else None
    if shingled is not None:
        sizes[missed], fingerprint[missed], keys[missed] = _sketch(shingled)
    stats.sketched = len(missed)
    if cache is not None:
        cache.computed = Sketches(ids[missed], digests[missed], sizes[missed], fingerprint[missed], keys[missed])
    exact = _ExactSets(texts, shingled if len(missed) == n else None, stats)
    present = np.flatnonzero(sizes > 0)

    # 1. Identical shingle sets: group by the set's fingerprint, keep the members equal to the group's first.
    by_print = present[np.argsort(fingerprint[present], kind="stable")]
    head = np.concatenate([[True], fingerprint[by_print][1:] != fingerprint[by_print][:-1]]) if len(by_print) else np.zeros(0, bool)
    first_of = by_print[np.maximum.accumulate(np.where(head, np.arange(len(by_print)), 0))] if len(by_print) else by_print
    identical = (first_of != by_print) & (sizes[first_of] == sizes[by_print])
    if identical.any():
        identical[identical] = exact.shared(by_print[identical], first_of[identical]) == sizes[by_print[identical]]
    group_of = np.arange(n)  # each article's group: the number of its group's first article
    group_of[by_print[identical]] = first_of[identical]
    stats.identical = int(identical.sum())
    # Earlier members of a group, and the smallest id among them up to each member (ties go to the smallest id).
    members = np.lexsort((np.arange(n), group_of))
    members = members[sizes[members] > 0]
    member_key = group_of[members] * np.int64(n) + members
    with np.errstate(over="ignore"):
        running = np.maximum.accumulate(group_of[members] * np.int64(n) - id_rank[members])
    smallest_rank = group_of[members] * np.int64(n) - running  # the smallest id rank among members so far
    by_rank = np.empty(n, np.int64)
    by_rank[id_rank] = np.arange(n)

    def best_member(groups: np.ndarray, before: np.ndarray) -> np.ndarray:
        """The article with the smallest id among the members of ``groups`` that come before ``before``."""
        at = np.searchsorted(member_key, groups * np.int64(n) + before) - 1
        return by_rank[smallest_rank[at]]

    # 2. The bands: first members of the groups only; queries are the new ones.
    firsts = present[group_of[present] == present]
    pair_q, pair_c = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    if len(firsts) > 1:
        first_keys = keys[firsts]
        queries = is_new[firsts]
        for band in range(BANDS):
            q, c = _band_candidates(first_keys[:, band], firsts, queries, BUCKET_LIMIT)
            stats.band_pairs += len(q)
            pair_q.append(q)
            pair_c.append(c)
    codes = np.sort(np.concatenate(pair_q) * np.int64(n) + np.concatenate(pair_c))
    head = np.concatenate([[True], codes[1:] != codes[:-1]]) if len(codes) else np.zeros(0, bool)
    shared_bands = np.diff(np.append(np.flatnonzero(head), len(codes)))
    q, c = codes[head] // n, codes[head] % n
    stats.candidates = len(q)
    # At most CANDIDATE_LIMIT candidates an article, those sharing the most bands (the likeliest to be similar).
    order = np.lexsort((c, -shared_bands, q))
    q, c = q[order], c[order]
    first = np.concatenate([[True], q[1:] != q[:-1]]) if len(q) else np.zeros(0, bool)
    place = np.arange(len(q)) - np.flatnonzero(first)[np.cumsum(first) - 1] if len(q) else np.zeros(0, np.int64)
    q, c = q[place < CANDIDATE_LIMIT], c[place < CANDIDATE_LIMIT]
    # Sizes alone bound the similarity: |A & B| / |A | B| <= min / max.
    small, large = np.minimum(sizes[q], sizes[c]), np.maximum(sizes[q], sizes[c])
    possible = small >= threshold * large
    q, c = q[possible], c[possible]
    stats.verified = len(q)
    shared = exact.shared(q, c) if len(q) else np.zeros(0, np.int64)
    similarity = shared / (sizes[q] + sizes[c] - shared)
    good = similarity >= threshold
    q, c, similarity = q[good], c[good], similarity[good]
    c = best_member(group_of[c], q)  # every earlier member of the group is as similar: the smallest id wins

    # 3. Later members of a group: similarity 1 with the earlier ones.
    later = np.flatnonzero((group_of != np.arange(n)) & is_new)
    q = np.concatenate([q, later])
    c = np.concatenate([c, best_member(group_of[later], later)])
    similarity = np.concatenate([similarity, np.ones(len(later))])
    order = np.lexsort((id_rank[c], -similarity, q))  # per article: the most similar, then the smallest id
    q, c, similarity = q[order], c[order], similarity[order]
    top = np.concatenate([[True], q[1:] != q[:-1]]) if len(q) else np.zeros(0, bool)
    best = dict(zip(q[top].tolist(), zip(c[top].tolist(), similarity[top].tolist(), strict=True), strict=True))

    cluster_of = [known.get(d.article_id, d.article_id) for d in ordered]
    out: list[Clustered] = []
    for i in np.flatnonzero(is_new):
        doc = ordered[i]
        if i in best:
            match, value = best[i]
            cluster_of[i] = cluster_of[match]
            out.append(Clustered(doc.article_id, cluster_of[i], cluster_of[i], round(value, 4)))
        else:
            out.append(Clustered(doc.article_id, doc.article_id, None, None))
    return out
