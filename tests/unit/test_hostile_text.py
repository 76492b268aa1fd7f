"""Hostile text (NUL bytes, lone UTF-16 surrogates) is repaired when a row is built; the row stays valid."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime

import pandas as pd
import pytest

from etl.errors import DataError
from etl.platforms.x.parser import parse_x
from etl.quality import validate_frame
from etl.sources.frames import record_json, repair_fields, repair_text, row
from etl.sources.readers import ParseIssue
from etl.warehouse import refuse_unstorable_text

DAY = date(2026, 11, 20)
AS_OF = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "repaired", "notes"),
    [
        ("Rapat\x00 koordinasi", "Rapat koordinasi", ["removed 1 NUL byte"]),
        ("a\x00b\x00", "ab", ["removed 2 NUL bytes"]),
        ("Selamat \ud83d pagi", "Selamat \ufffd pagi", ["replaced 1 lone surrogate with U+FFFD"]),
        ("two \udc00\ud83d", "two \ufffd\ufffd", ["replaced 2 lone surrogates with U+FFFD"]),
        ("pair \ud83d\ude00 joined", "pair \U0001f600 joined", []),  # a split pair is one character, not a repair
        ("\x00\ud83d", "\ufffd", ["removed 1 NUL byte", "replaced 1 lone surrogate with U+FFFD"]),
        ("already \ufffd here", "already \ufffd here", []),
        ("bersih", "bersih", []),
    ],
)
def test_repair_text(text: str, repaired: str, notes: list[str]) -> None:
    assert repair_text(text) == (repaired, notes)


def test_row_repairs_every_text_field_and_keeps_parse_issue_for_failures() -> None:
    item = {"id": "7", "text": "Halo\x00 \ud83d"}

    def unreadable() -> int:
        raise ParseIssue("public_metrics.like_count: 'x' is not a count")

    built = row({"platform": "x", "platform_post_id": "7\x00", "text": item["text"]}, {"likes": unreadable}, item)
    assert built["text"] == "Halo \ufffd" and built["platform_post_id"] == "7"
    assert built["text_repairs"] == (
        "platform_post_id: removed 1 NUL byte; text: removed 1 NUL byte; text: replaced 1 lone surrogate with U+FFFD"
    )
    assert built["parse_issue"] == "public_metrics.like_count: 'x' is not a count"
    # The raw record keeps the original text, JSON-escaped so it can be stored anywhere.
    assert built["record"] == '{"id":"7","text":"Halo\\u0000 \\ud83d"}'
    assert json.loads(built["record"]) == item
    assert record_json({"t": "é"}) == '{"t":"é"}'  # clean text stays readable, not escaped


def test_repair_fields_checks_each_value_alone() -> None:
    # Halves of a surrogate pair in two fields are two lone surrogates, not one character; other values untouched.
    values = {"title": "Judul \ud83d", "text": "\ude00 isi", "likes": 3, "url": None, "hashtags": "#ok"}
    assert repair_fields(values) == "title: replaced 1 lone surrogate with U+FFFD; text: replaced 1 lone surrogate with U+FFFD"
    assert values == {"title": "Judul \ufffd", "text": "\ufffd isi", "likes": 3, "url": None, "hashtags": "#ok"}
    # Only the columns asked for; clean text: no note.
    assert repair_fields({"title": "a\x00", "text": "b"}, ["text"]) is None
    assert repair_fields({"title": "a\x00", "text": "b"}, ["title"]) == "title: removed 1 NUL byte"
    assert repair_fields({"title": "a\x00", "text": "b"}, iter(["title"])) == "title: removed 1 NUL byte"  # read once
    assert repair_fields({"title": "Kabar baik \U0001f600", "n": 1}) is None


def _tweets_line(tweets: list[dict]) -> dict:
    # What X sends: a JSON encoder writes NUL and a lone surrogate as \u0000 and \ud83d.
    return {"endpoint": "user_tweets", "status": 200, "url": "", "body": json.dumps({"data": tweets}, ensure_ascii=True)}


def test_a_tweet_with_a_nul_and_a_surrogate_is_loaded_repaired_not_quarantined() -> None:
    tweets = [
        {"id": "1", "author_id": "9", "created_at": "2026-11-20T02:15:07.000Z", "text": "Bersih #Ok",
         "public_metrics": {"like_count": 1, "reply_count": 0, "retweet_count": 0, "quote_count": 0}},
        {"id": "2", "author_id": "9", "created_at": "2026-11-20T03:15:07.000Z", "text": "Rusak\u0000 \ud83d #Ok",
         "public_metrics": {"like_count": 2, "reply_count": 0, "retweet_count": 0, "quote_count": 0}},
    ]
    frames = parse_x([_tweets_line(tweets)], DAY, AS_OF)
    posts = frames.frame("posts").assign(account_key="x:A:0")
    assert posts["text"].tolist() == ["Bersih #Ok", "Rusak \ufffd #Ok"]
    assert posts["text_repairs"].tolist() == [None, "text: removed 1 NUL byte; text: replaced 1 lone surrogate with U+FFFD"]
    checked = validate_frame("posts", posts)
    assert (len(checked.valid), len(checked.quarantined)) == (2, 0)
    # The staged frame can be written where surrogates are refused (Parquet via Arrow).
    buffer = io.BytesIO()
    posts.drop(columns=["record"]).to_parquet(buffer)
    assert pd.read_parquet(buffer)["text"].tolist() == ["Bersih #Ok", "Rusak \ufffd #Ok"]


def test_staging_refuses_unrepaired_text_naming_the_row() -> None:
    df = pd.DataFrame({"platform": ["x", "x"], "platform_post_id": ["1", "2"], "text": ["ok", "bad\x00"]}, dtype=object)
    with pytest.raises(DataError, match=r"^frame posts: row 1 \(platform='x', platform_post_id='2'\) field text: holds a NUL "
                                        r"byte the warehouse cannot store; repair it in the parser"):
        refuse_unstorable_text("posts", df)
    df.loc[1, "text"] = "bad\ud83d"
    with pytest.raises(DataError, match=r"row 1 .* field text: holds a lone UTF-16 surrogate"):
        refuse_unstorable_text("posts", df)


@pytest.mark.parametrize("texts", [
    ["Jakarta 東京 ✓", None, "bad\ud83d"],  # non-ASCII text (the one-scan check's slow branch) before the surrogate
    [3, "ok", "bad\x00"],                    # a non-text value among the texts: checked row by row
    ["ok", float("nan"), "bad\x00"],         # a missing value (NaN) does not hide a later one
])
def test_staging_finds_unrepaired_text_among_any_values(texts: list) -> None:
    df = pd.DataFrame({"platform": ["x"] * 3, "platform_post_id": ["1", "2", "3"], "text": texts}, dtype=object)
    with pytest.raises(DataError, match=r"^frame posts: row 2 \(platform='x', platform_post_id='3'\) field text: holds a"):
        refuse_unstorable_text("posts", df)
    df.loc[2, "text"] = "good"
    refuse_unstorable_text("posts", df)  # nothing to refuse


def test_staging_finds_a_nul_in_arrow_backed_text() -> None:
    df = pd.DataFrame({"platform": ["x"] * 3, "platform_post_id": ["1", "2", "3"],
                       "text": pd.array(["ok", None, "bad\x00"], dtype="str")})
    with pytest.raises(DataError, match=r"^frame posts: row 2 \(platform='x', platform_post_id='3'\) field text: holds a NUL byte"):
        refuse_unstorable_text("posts", df)
