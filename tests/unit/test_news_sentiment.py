"""Sentiment on hand-labelled Indonesian sentences, negation and intensifiers, and user lexicons."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.news.sentiment import LexiconError, load_lexicon, read_lexicon, score, sentences_around

# (sentence, label) labelled by hand: 1 positive, -1 negative, 0 neutral.
LABELLED = [
    ("Pelayanan Diskominfo sangat baik dan cepat.", 1),
    ("Kegiatan bimtek berjalan lancar dan sukses.", 1),
    ("Pemprov Kepri meraih penghargaan atas inovasi layanan digital.", 1),
    ("Warga mengapresiasi langkah pemerintah daerah.", 1),
    ("Pelayanan kantor itu tidak baik.", -1),
    ("Program tersebut gagal dan mengecewakan warga.", -1),
    ("Kebocoran data membuat masyarakat khawatir.", -1),
    ("Warga mengeluhkan jalan rusak yang tak kunjung diperbaiki.", -1),
    ("Kasus korupsi pejabat dinas menjadi sorotan.", -1),
    ("Rapat koordinasi digelar di aula kantor bupati pada Selasa.", 0),
    ("Peserta bimtek berjumlah 400 orang dari seluruh Indonesia.", 0),
    ("Program itu bukan masalah bagi anggaran daerah.", 1),
]


@pytest.mark.parametrize(("sentence", "label"), LABELLED)
def test_hand_labelled_sentences(sentence: str, label: int) -> None:
    value = score(sentence).score
    assert -1.0 <= value <= 1.0
    assert (value > 0) - (value < 0) == label, value


def test_exact_scores_negation_and_intensifiers() -> None:
    assert score("baik").score == 0.4588  # 2 / sqrt(4 + 15)
    assert score("tidak baik").score == -0.3570  # 2 * -0.74
    assert score("sangat baik").score == 0.6124  # 2 * 1.5
    assert score("baik sekali").score == 0.6124
    assert score("kurang baik").score == -0.2500  # "kurang" makes it mildly negative
    assert score("tidak sangat buruk").score == 0.652  # -3 * 1.5 * -0.74
    assert score("luar biasa").score == 0.7184  # a phrase of the lexicon
    assert score("").score == 0.0
    s = score("baik, buruk, gagal")
    assert (s.positive_words, s.negative_words) == (1, 2)


def test_user_lexicon_is_loaded_over_the_bundled_one(tmp_path: Path) -> None:
    user = tmp_path / "inset.tsv"
    user.write_text("mantap\t4\nbaik\t-1\n", encoding="utf-8")
    lexicon = load_lexicon(user)
    assert lexicon["mantap"] == 4.0 and lexicon["baik"] == -1.0 and lexicon["gagal"] == -3.0
    assert score("mantap", lexicon).score == 0.7184


@pytest.mark.parametrize(
    ("content", "message"),
    [("baik 2\n", "expected word<TAB>weight"), ("baik\tdua\n", "field weight: 'dua'"), ("baik\t9\n", "outside -5..+5")],
)
def test_bad_lexicon_lines_name_file_line_and_field(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text("# comment\n" + content, encoding="utf-8")
    with pytest.raises(LexiconError, match=rf"bad.tsv:2: .*{message}"):
        read_lexicon(bad)


def test_mention_context_is_its_sentences() -> None:
    text = "Diskominfo sukses menggelar acara. Cuaca buruk. Bupati hadir."
    assert sentences_around(text, [(0, 10)]) == "Diskominfo sukses menggelar acara."
    assert sentences_around(text, [(0, 10), (48, 54)]) == "Diskominfo sukses menggelar acara. Bupati hadir."


def test_a_lexicon_changed_after_scoring_is_read_again() -> None:
    lexicon = {"baik": 2.0}
    assert score("sangat mantap", lexicon).score == 0.0
    lexicon["mantap"] = 2.0  # the words a phrase can start with are remembered per lexicon, and re-read when it grows
    assert score("sangat mantap", lexicon).score == 0.6124
