"""Near-duplicate clustering at scale: the candidates it compares, and that narrowing the search loses nothing."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from etl.news import dedupe
from etl.news.dedupe import BUCKET_LIMIT, CANDIDATE_LIMIT, ClusterStats, Doc, cluster, shingles

STOPWORDS = (Path(__file__).resolve().parents[1] / "fixtures" / "news" / "stopwords-id" / "stopwords-id.txt").read_text(encoding="utf-8").split()
T0 = datetime(2026, 11, 20, 6)

# An edited copy (new headline, three words changed) and its source, from scripts/bench_news.py's realistic texts:
# similarity 0.5357. The bands before issue 11 (32 of 4 rows of datasketch's MinHash) did not propose it.
SOURCE = (
    "menaiki sesaat BPLH Pemkab Balangan KemenPU 798 selaku",
    "Sumut diibaratkan pelanggaran Kemendukbangga setelah pelanggaran terjaring 1579 terdiri beginian sangat Batang "
    "Kabupaten Tabanan Sungai menunjuk Kemenko Lhokseumawe melihat terdiri ada raih begini Agung umumnya rugi Pertahanan. "
    "jumlah jumlah meraih pelanggaran dikritik Binjai tengah sampaikan 584 jelasnya kami membuat disini Menhan semakin "
    "selaku Sampang Pemerintah Kabupaten Sumenep Pangkal Pertahanan sebutnya Pertahanan Permukiman Hasundutan bekerja "
    "ditegaskan memulai.",
)
COPY = (
    "Persandian Pertahanan terdiri apabila 617 dipersoalkan selaku Kota Pagar Alam terdiri sangatlah terkira",
    SOURCE[1].replace("Kemenko Lhokseumawe", "tanggung Lhokseumawe").replace("membuat disini", "membuat menuturkan")
    .replace("sebutnya Pertahanan", "sebutnya sendiri"),
)


def _similarity(a: Doc, b: Doc) -> float:
    sa, sb = shingles(f"{a.title}\n{a.text}"), shingles(f"{b.title}\n{b.text}")
    return len(sa & sb) / len(sa | sb)


def test_a_copy_just_above_the_threshold_joins_its_source() -> None:
    source, copy = Doc("source", T0, *SOURCE), Doc("copy", T0 + timedelta(hours=1), *COPY)
    assert round(_similarity(source, copy), 4) == 0.5357
    assert cluster([copy, source]) == [
        dedupe.Clustered("source", "source", None, None),
        dedupe.Clustered("copy", "source", "source", 0.5357),
    ]


def _exhaustive(docs: list[Doc], known: dict[str, str], threshold: float = 0.5) -> dict[str, tuple[str, str | None, float | None]]:
    """The contract by brute force: every earlier article compared, best similarity then smallest id."""
    ordered = sorted(docs, key=lambda d: (d.published_at, d.article_id))
    sets = {d.article_id: shingles(f"{d.title}\n{d.text}") for d in ordered}
    cluster_of: dict[str, str] = {}
    out = {}
    for i, doc in enumerate(ordered):
        if doc.article_id in known:
            cluster_of[doc.article_id] = known[doc.article_id]
            continue
        mine = sets[doc.article_id]
        scored = [(len(mine & sets[o.article_id]) / len(mine | sets[o.article_id]), o.article_id) for o in ordered[:i] if sets[o.article_id] and mine]
        best = min(scored, key=lambda s: (-s[0], s[1]), default=(0.0, ""))
        if best[0] >= threshold:
            cluster_of[doc.article_id] = cluster_of[best[1]]
            out[doc.article_id] = (cluster_of[doc.article_id], cluster_of[doc.article_id], round(best[0], 4))
        else:
            cluster_of[doc.article_id] = doc.article_id
            out[doc.article_id] = (doc.article_id, None, None)
    return out


def _corpus(count: int, seed: int) -> list[Doc]:
    """Stopword texts, a third of them copies of an earlier one with 0-60% of their words changed."""
    rng = random.Random(seed)
    docs: list[Doc] = []
    for i in range(count):
        when = T0 + timedelta(minutes=rng.randrange(0, 3 * 24 * 60))
        if docs and rng.random() < 0.35:
            source = rng.choice(docs)
            share = rng.choice([0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.6])
            words = [rng.choice(STOPWORDS) if rng.random() < share else w for w in source.text.split()]
            docs.append(Doc(f"d{rng.randrange(10**6):06d}-{i}", when, source.title if share == 0 else f"judul {i}", " ".join(words)))
        else:
            docs.append(Doc(f"d{rng.randrange(10**6):06d}-{i}", when, f"judul {i}", " ".join(rng.choices(STOPWORDS, k=rng.randint(2, 60)))))
    return docs


@pytest.mark.parametrize(("seed", "copies"), [(1, 47), (2, 49), (3, 48)])
def test_clusters_equal_comparing_every_earlier_article(seed: int, copies: int) -> None:
    docs = _corpus(400, seed)
    known = {d.article_id: d.article_id for d in sorted(docs, key=lambda d: (d.published_at, d.article_id))[:100]}
    stats = ClusterStats()
    got = {c.article_id: (c.cluster_id, c.duplicate_of, c.similarity) for c in cluster(docs, known=known, stats=stats)}
    expected = _exhaustive(docs, known)
    assert got == expected
    assert sum(1 for v in expected.values() if v[1]) == copies
    assert stats.candidates < 300 * 399 // 20  # a small share of the (new, earlier) pairs


def test_identical_texts_group_and_ties_go_to_the_smallest_id() -> None:
    text = "Pemerintah Kabupaten Sleman menggelar rapat koordinasi penanganan banjir di kantor bupati pada Senin pagi"
    docs = [
        Doc("z-first", T0, "Rapat banjir", text),
        Doc("a-second", T0 + timedelta(hours=1), "Rapat banjir", text),
        Doc("m-third", T0 + timedelta(hours=2), "Rapat banjir", text),
        Doc("b-fourth", T0 + timedelta(hours=3), "RAPAT, banjir!", text),  # the same words: the same shingles
    ]
    stats = ClusterStats()
    result = cluster(docs, known={"z-first": "K1", "a-second": "K2"}, stats=stats)
    # Both earlier articles are identical to m-third: the smallest id (a-second) wins, and with it its cluster.
    assert result == [dedupe.Clustered("m-third", "K2", "K2", 1.0), dedupe.Clustered("b-fourth", "K2", "K2", 1.0)]
    assert (stats.identical, stats.band_pairs) == (3, 0)  # found without the bands


def test_a_copy_of_a_copy_from_the_window_joins_the_original_cluster() -> None:
    release = " ".join(random.Random(5).choices(STOPWORDS, k=60))
    edited = release.split()
    edited[10:12] = ["Kominfo", "Sleman"]
    today = release.split()
    today[10:12], today[40] = ["Kominfo", "Sleman"], "Bantul"
    docs = [
        Doc("original", T0 - timedelta(days=3), "Rilis", release),
        Doc("copy", T0 - timedelta(days=1), "Rilis", " ".join(edited)),
        Doc("today", T0, "Rilis", " ".join(today)),
    ]
    # today is closer to the day-old copy than to the original; the copy is in the original's cluster.
    assert _similarity(docs[2], docs[1]) > _similarity(docs[2], docs[0]) >= 0.5
    [result] = cluster(docs, known={"original": "original", "copy": "original"})
    assert result == dedupe.Clustered("today", "original", "original", round(_similarity(docs[2], docs[1]), 4))


def test_a_bucket_offers_only_the_articles_right_before() -> None:
    keys = np.zeros(1000, np.uint64)  # a thousand articles that agree on a band
    rows = np.arange(1000) * 3
    queries = np.ones(1000, bool)
    q, c = dedupe._band_candidates(keys, rows, queries, BUCKET_LIMIT)
    # Each article is offered the min(rank, 16) right before it: 0 + 1 + ... + 15 + 16 * 984 pairs, not 499,500.
    assert BUCKET_LIMIT == 16 and len(q) == 15_864
    assert sorted(set(((q - c) // 3).tolist())) == list(range(1, 17))
    known = np.zeros(1000, bool)
    known[500:] = True  # articles already clustered ask for nothing
    q, _ = dedupe._band_candidates(keys, rows, ~known, BUCKET_LIMIT)
    assert len(q) == 120 + 16 * 484


def test_a_shared_boilerplate_summary_does_not_compare_every_pair() -> None:
    rng = random.Random(9)
    boilerplate = " ".join(rng.choices(STOPWORDS, k=40))
    docs = []
    for i in range(400):  # unique headlines over one summary with four words changed: ~0.4 similar to each other
        words = boilerplate.split()
        for at in rng.sample(range(40), 4):
            words[at] = rng.choice(STOPWORDS)
        docs.append(Doc(f"d{i:03d}", T0 + timedelta(minutes=i), " ".join(rng.choices(STOPWORDS, k=12)), " ".join(words)))
    stats = ClusterStats()
    result = cluster(docs, stats=stats)
    assert _exhaustive(docs, {}) == {c.article_id: (c.cluster_id, c.duplicate_of, c.similarity) for c in result}
    # Most of the 79,800 pairs share a band; each article verifies at most 64 of its candidates.
    assert stats.candidates > 30_000 and stats.verified <= 400 * CANDIDATE_LIMIT == 25_600


def test_word_numbers_too_large_to_pack_are_numbered_first(monkeypatch: pytest.MonkeyPatch) -> None:
    docs = _corpus(200, 4)
    packed = cluster(docs)
    monkeypatch.setattr(dedupe, "_PACK_LIMIT", 1000)
    assert cluster(docs) == packed


def test_an_article_without_words_is_its_own_cluster() -> None:
    docs = [Doc("a", T0, "", "..."), Doc("b", T0 + timedelta(hours=1), "", "!!"), Doc("c", T0 + timedelta(hours=2), "Banjir", "Banjir")]
    assert cluster(docs) == [
        dedupe.Clustered("a", "a", None, None), dedupe.Clustered("b", "b", None, None), dedupe.Clustered("c", "c", None, None),
    ]


@pytest.mark.parametrize("chunk", [dedupe._CHUNK, 7])
def test_shared_shingles_equal_the_sets_intersection_across_chunks(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    """The exact verification's count of shared shingles, for pairs with empty, equal and disjoint sets, in one chunk
    and across many (issue 11 moved it to sparse row products)."""
    monkeypatch.setattr(dedupe, "_CHUNK", chunk)
    texts = ["", "banjir rob jakarta utara pagi ini", "banjir rob jakarta utara pagi ini", "gempa garut", "x",
             "banjir rob jakarta selatan pagi ini juga", *(" ".join(random.Random(n).sample(STOPWORDS, 12)) for n in range(30))]
    sh = dedupe._shingle(texts)
    sets = [shingles(t) for t in texts]
    rng = random.Random(3)
    a = np.array([0, 1, 1, 3, 4, *(rng.randrange(len(texts)) for _ in range(200))])
    b = np.array([1, 2, 5, 4, 0, *(rng.randrange(len(texts)) for _ in range(200))])
    expected = [len(sets[i] & sets[j]) if texts[i] and texts[j] else 0 for i, j in zip(a, b, strict=True)]
    assert dedupe._shared(sh, a, b).tolist() == expected
    assert expected[:5] == [0, 4, 1, 0, 0]  # 6 words: 4 trigrams, shared whole or only "banjir rob jakarta"


def _night(docs: list[Doc], cut: int) -> tuple[list[Doc], dict[str, str], dedupe.SketchCache]:
    """The first ``cut`` articles clustered on an earlier night, with the sketches that night kept."""
    ordered = sorted(docs, key=lambda d: (d.published_at, d.article_id))
    earlier = dedupe.SketchCache()
    known = {c.article_id: c.cluster_id for c in cluster(ordered[:cut], cache=earlier)}
    return ordered, known, dedupe.SketchCache([earlier.computed])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_earlier_nights_sketches_change_no_cluster_and_spare_the_windows_shingling(seed: int) -> None:
    docs = _corpus(400, seed)
    ordered, known, cache = _night(docs, 100)
    stats = ClusterStats()
    got = {c.article_id: (c.cluster_id, c.duplicate_of, c.similarity) for c in cluster(docs, known=known, stats=stats, cache=cache)}
    assert got == _exhaustive(docs, known)
    assert stats.sketched == 300  # the window's 100 articles were sketched the night before
    assert len(cache.computed) == 300 and set(cache.computed.article_id) == {d.article_id for d in ordered[100:]}
    # Only the window's articles an identical group or a candidate pair puts in front of the verification are shingled.
    assert 0 < stats.verified_sets < 400


def test_a_sketch_of_another_text_is_not_used() -> None:
    docs = _corpus(60, 8)
    ordered, known, cache = _night(docs, 30)
    # A window article edited since it was sketched now carries a new article's text word for word. Its old sketch
    # (other fingerprint, other bands) would hide the copy; the digest tells the texts apart, and it is sketched again.
    edited, today = ordered[10], ordered[45]
    ordered[10] = Doc(edited.article_id, edited.published_at, today.title, today.text)
    stats = ClusterStats()
    result = {c.article_id: c for c in cluster(ordered, known=known, stats=stats, cache=cache)}
    assert stats.sketched == 31
    assert result[today.article_id].duplicate_of == known[edited.article_id] and result[today.article_id].similarity == 1.0


def test_sketches_survive_a_parquet_round_trip_and_refuse_another_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, _, cache = _night(_corpus(50, 6), 50)
    sketches = cache.earlier
    with (tmp_path / "s.parquet").open("wb") as fh:
        sketches.write(fh)
    with (tmp_path / "s.parquet").open("rb") as fh:
        back = dedupe.Sketches.read(fh)
    for field in ("article_id", "digest", "size", "fingerprint", "keys"):
        assert np.array_equal(getattr(back, field), getattr(sketches, field)), field
    assert back.keys.shape == (50, dedupe.BANDS) and back.digest.dtype == np.uint64
    monkeypatch.setattr(dedupe, "SKETCH_VERSION", "w3-b256-r2-1")
    with (tmp_path / "s.parquet").open("rb") as fh, pytest.raises(ValueError, match="^sketches of version w3-b128-r2-d1024-1, not w3-b256-r2-1$"):
        dedupe.Sketches.read(fh)


def test_the_latest_sketch_of_an_article_wins() -> None:
    _, _, cache = _night(_corpus(20, 5), 20)
    older = cache.earlier
    newer = older.take(np.arange(5))
    newer = dedupe.Sketches(newer.article_id, newer.digest + np.uint64(1), newer.size, newer.fingerprint, newer.keys)
    joined = dedupe.Sketches.concat([older, newer])
    assert len(joined) == 20
    assert dict(zip(joined.article_id, joined.digest.tolist(), strict=True)) == (
        dict(zip(older.article_id, older.digest.tolist(), strict=True)) | dict(zip(newer.article_id, newer.digest.tolist(), strict=True))
    )


def test_a_lone_surrogate_is_digested_not_refused() -> None:
    docs = [Doc("a", T0, "Banjir \ud83d", "air naik di kota lama"), Doc("b", T0 + timedelta(hours=1), "Banjir \ud83d", "air naik di kota lama")]
    cache = dedupe.SketchCache()
    assert cluster(docs, cache=cache) == cluster(docs) == [
        dedupe.Clustered("a", "a", None, None), dedupe.Clustered("b", "a", "a", 1.0),
    ]
    assert len(cache.computed) == 2 and cache.computed.digest[0] == cache.computed.digest[1]
