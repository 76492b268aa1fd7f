"""Canonical URLs, article ids and near-duplicate clustering on hand-made cases."""

from __future__ import annotations

from datetime import datetime

import pytest

from etl.news.canonical import UrlError, article_id, canonical_url
from etl.news.dedupe import Doc, cluster, shingles

BASE = "https://www.tempo.co/ekonomi/8-pinjaman-daring-masuk-pengawasan-khusus-ojk-2253426"


@pytest.mark.parametrize(
    "url",
    [
        BASE,
        "HTTP://WWW.Tempo.co/ekonomi/8-pinjaman-daring-masuk-pengawasan-khusus-ojk-2253426/",
        BASE + "?utm_source=twitter&utm_medium=social&fbclid=IwAR0abc&gclid=Cj0KC",
        BASE + "#komentar",
        "https://m.tempo.co/ekonomi/8-pinjaman-daring-masuk-pengawasan-khusus-ojk-2253426",
        "https://amp.tempo.co/ekonomi/8-pinjaman-daring-masuk-pengawasan-khusus-ojk-2253426",
        BASE + "/amp",
        "https://www.tempo.co/amp/ekonomi/8-pinjaman-daring-masuk-pengawasan-khusus-ojk-2253426",
        BASE + "?amp=1",
        "https://www.tempo.co:443//ekonomi/8-pinjaman-daring-masuk-pengawasan-khusus-ojk-2253426",
    ],
)
def test_variants_fold_to_one_canonical_url(url: str) -> None:
    assert canonical_url(url) == "https://tempo.co/ekonomi/8-pinjaman-daring-masuk-pengawasan-khusus-ojk-2253426"
    assert article_id(canonical_url(url)) == article_id(canonical_url(BASE))


def test_parameters_that_name_the_story_are_kept_and_sorted() -> None:
    assert canonical_url("https://news.example.id/read.php?id=42&cat=7&utm_campaign=x") == (
        "https://news.example.id/read.php?cat=7&id=42"
    )
    assert canonical_url("https://news.example.id/read.php?id=42") != canonical_url("https://news.example.id/read.php?id=43")
    assert article_id("https://tempo.co/a") == "d961c780ac9cb44b"


@pytest.mark.parametrize("url", ["", "mailto:redaksi@tempo.co", "/ekonomi/relative", "ftp://tempo.co/x"])
def test_non_article_urls_are_rejected(url: str) -> None:
    with pytest.raises(UrlError, match="not an http"):
        canonical_url(url)


RELEASE = (
    "Kementerian Komunikasi dan Informatika menggelar bimbingan teknis pengelolaan media sosial pemerintah "
    "terkait KTT ke-43 ASEAN di Jakarta. Kegiatan diikuti 400 peserta dari kementerian, lembaga dan pemerintah "
    "daerah, dengan 100 peserta luring dan 300 peserta daring. Direktur Tata Kelola dan Kemitraan Komunikasi "
    "Publik Hasyim Gautama mengatakan media sosial menjadi kanal efektif untuk membangun opini publik."
)


def _doc(aid: str, hour: int, title: str, text: str) -> Doc:
    return Doc(aid, datetime(2023, 8, 29, hour), title, text)


def test_syndicated_copy_with_a_new_headline_joins_the_original() -> None:
    docs = [
        _doc("b-copy", 10, "Kominfo Latih Pengelola Medsos Jelang KTT ASEAN", RELEASE.replace("400 peserta", "empat ratus peserta")),
        _doc("a-orig", 9, "Kemenkominfo Gelar Bimtek Media Sosial Pemerintah", RELEASE),
        _doc("c-other", 11, "Rupiah Melemah", "Analis memperkirakan rupiah melemah hingga 19 ribu per dolar AS pekan depan."),
        _doc("d-copy", 12, "Bimtek Medsos KTT ASEAN", RELEASE + " Baca juga: berita lainnya."),
    ]
    result = {c.article_id: (c.cluster_id, c.duplicate_of) for c in cluster(docs)}
    assert result == {
        "a-orig": ("a-orig", None),
        "b-copy": ("a-orig", "a-orig"),
        "c-other": ("c-other", None),
        "d-copy": ("a-orig", "a-orig"),
    }


def test_known_articles_keep_their_cluster_and_attract_new_copies() -> None:
    docs = [_doc("old", 8, "Bimtek", RELEASE), _doc("new", 9, "Bimtek lagi", RELEASE)]
    [new] = cluster(docs, known={"old": "older-cluster"})
    assert (new.article_id, new.cluster_id, new.duplicate_of) == ("new", "older-cluster", "older-cluster")


def test_shingles_of_a_short_text_are_its_words() -> None:
    assert shingles("Rupiah melemah") == {"rupiah", "melemah"}
    assert shingles("a b c d") == {"a b c", "b c d"}
