"""The Great Expectations gate: bad rows split off with their reasons; a mostly bad batch fails loudly."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from etl.quality import QualityGateFailed, validate_frame


def metrics(rows: list[tuple]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["platform_post_id", "likes", "parse_issue"])
    df["likes"] = df["likes"].astype("Int64")
    for column in ("comments", "shares", "views", "saves", "quotes"):
        df[column] = pd.array([1] * len(df), dtype="Int64")
    return df.assign(platform="youtube", snapshot_date=date(2026, 11, 2), account_key="youtube:A:0", record="{}", unavailable_metrics=None)


def test_bad_rows_are_split_with_the_expectations_they_failed() -> None:
    checked = validate_frame("post_metrics", metrics([("a", 1, None), ("b", -3, None), ("c", None, "statistics.viewCount: 'x' is not a count"),
                                                      ("d", 5, None)]))
    assert checked.suite == "post_metrics"
    assert checked.valid["platform_post_id"].tolist() == ["a", "d"]
    reasons = dict(zip(checked.quarantined["platform_post_id"], checked.quarantined["failed_expectations"].map(json.loads), strict=True))
    assert reasons == {
        "b": ["expect_column_values_to_be_between(likes)"],
        "c": ["expect_column_values_to_be_null(parse_issue)"],
    }
    assert checked.failed_counts == {"expect_column_values_to_be_between(likes)": 1, "expect_column_values_to_be_null(parse_issue)": 1}


def test_a_mostly_bad_batch_fails_naming_suite_and_expectations() -> None:
    frame = metrics([("a", -1, None), ("a", 2, None), ("c", 3, None)])
    with pytest.raises(QualityGateFailed) as caught:
        validate_frame("post_metrics", frame, max_bad_share=0.5, source="youtube youtube-000")
    assert str(caught.value) == (
        "source=youtube youtube-000 suite post_metrics: 2 of 3 rows failed (67% > 50% allowed); failing expectations: "
        "expect_column_values_to_be_between(likes) (1 rows), "
        "expect_compound_columns_to_be_unique(platform,platform_post_id,snapshot_date) (2 rows); the rows are in etl_quarantine"
    )
    assert len(caught.value.validation.quarantined) == 2


def test_an_empty_frame_passes() -> None:
    checked = validate_frame("posts", pd.DataFrame(columns=["platform_post_id"]))
    assert checked.total == 0


def test_a_post_names_what_it_references_exactly_when_it_says_it_references_something() -> None:
    rows = [("p1", None, None), ("p2", "repost", "900"), ("p3", "quote", None), ("p4", None, "901"), ("p5", "like", "902"), ("p6", "reply", "")]
    frame = pd.DataFrame(rows, columns=["platform_post_id", "reference_kind", "referenced_post_id"]).assign(
        platform="x", account_key="x:A:1", platform_account_id="42", published_at=pd.Timestamp("2026-11-20 03:00"),
        post_type="post", parse_issue=None, record="{}")
    checked = validate_frame("posts", frame, max_bad_share=1.0)
    assert checked.valid["platform_post_id"].tolist() == ["p1", "p2"]
    reasons = dict(zip(checked.quarantined["platform_post_id"], checked.quarantined["failed_expectations"].map(json.loads), strict=True))
    assert reasons == {
        "p3": ["expect_column_values_to_not_be_null(referenced_post_id)"],  # a quote of nothing
        "p4": ["expect_column_values_to_be_null(referenced_post_id)"],  # a reference without a kind
        "p5": ["expect_column_values_to_be_in_set(reference_kind)"],
        "p6": ["expect_column_value_lengths_to_be_between(referenced_post_id)"],
    }


def test_gx_sees_only_the_columns_its_suite_names_and_the_quarantine_keeps_every_column(monkeypatch: pytest.MonkeyPatch) -> None:
    import etl.quality  # noqa: PLC0415

    seen: list[list[str]] = []
    real = etl.quality._failed_rows
    monkeypatch.setattr(etl.quality, "_failed_rows", lambda frame, work, suite: seen.append(list(work.columns)) or real(frame, work, suite))
    checked = validate_frame("post_metrics", metrics([("a", 1, None), ("b", -3, None)]), max_bad_share=1.0)
    # The raw record, the bulk of a batch's bytes, is read by no expectation.
    assert seen == [["platform_post_id", "likes", "parse_issue", "comments", "shares", "views", "saves", "quotes", "platform",
                     "snapshot_date", "account_key", "unavailable_metrics", "_pantau_row"]]
    assert list(checked.quarantined.columns) == [*metrics([]).columns, "failed_expectations"]
    assert checked.quarantined["record"].tolist() == ["{}"]
