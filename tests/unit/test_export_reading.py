"""The shared file-drop machinery: encodings, delimiters, numbers, times, header detection and account matching."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from etl.platforms import export_formats
from etl.sources.exports import (
    AccountMatcher,
    ExportError,
    RegisteredAccount,
    UnknownExportFormat,
    detect_format,
    export_count,
    export_local_time,
    export_number,
    read_export,
)
from etl.sources.readers import ParseIssue


@pytest.mark.parametrize(("text", "number"), [
    ("1234", Decimal(1234)), ("1,234", Decimal(1234)), ("1.234", Decimal(1234)), ("12.345.678", Decimal(12345678)),
    ("1.234,5", Decimal("1234.5")), ("1,234.5", Decimal("1234.5")), ("12,5", Decimal("12.5")), ("0.25", Decimal("0.25")),
    ("1 234", Decimal(1234)), ("-3", Decimal(-3)), ("", None), ("-", None),
])
def test_numbers_as_platforms_and_spreadsheets_write_them(text: str, number: Decimal | None) -> None:
    assert export_number(text, "views") == number


def test_a_count_must_be_whole_and_a_number() -> None:
    assert export_count("1.234,00", "likes") == 1234
    with pytest.raises(ParseIssue, match=r"^likes: '12,5' is not a whole count$"):
        export_count("12,5", "likes")
    with pytest.raises(ParseIssue, match=r"^likes: 'banyak' is not a number$"):
        export_count("banyak", "likes")


@pytest.mark.parametrize(("text", "utc"), [
    ("2026-11-20 10:15", datetime(2026, 11, 20, 3, 15)),  # Jakarta local time (UTC+7)
    ("2026-11-20T10:15:00+00:00", datetime(2026, 11, 20, 10, 15)),
    ("2026-11-19 04:00 +0000", datetime(2026, 11, 19, 4, 0)),
    ("11/20/2026 10:15", datetime(2026, 11, 20, 3, 15)),  # Meta: month first
    ("Nov 20, 2026", datetime(2026, 11, 19, 17, 0)),
    ("Fri, Nov 20, 2026", datetime(2026, 11, 19, 17, 0)),
    ("20 Agu 2026 10.15", datetime(2026, 8, 20, 3, 15)),  # Indonesian month, dotted time
    ("5 Desember 2026", datetime(2026, 12, 4, 17, 0)),
])
def test_times_are_read_as_jakarta_when_they_carry_no_zone(text: str, utc: datetime) -> None:
    assert export_local_time(text, "published") == utc


def test_a_time_no_export_writes_names_the_field() -> None:
    with pytest.raises(ParseIssue, match=r"^published: '20/11/2026' is not a date or time this export writes$"):
        export_local_time("20/11/2026", "published")


def test_utf16_without_a_byte_order_mark_and_excels_sep_line() -> None:
    text = "sep=;\nTanggal;Pengikut;Selisih pengikut dari hari sebelumnya\n2026-11-20;8.010;10\n"
    table = read_export("f.csv", text.encode("utf-16-le"))
    assert (table.encoding, table.delimiter, table.rows[1]) == ("utf-16", ";", ["2026-11-20", "8.010", "10"])
    assert detect_format(table, export_formats()).format.name == "tiktok_studio_followers"


def test_the_header_may_sit_below_a_title_row_and_the_file_name_does_not_matter() -> None:
    text = "Laporan analitik X\nPost id,Date,Post text,Post Link,Impressions,Likes,Reposts\n"
    detected = detect_format(read_export("youtube_table_data.csv", text.encode()), export_formats())
    assert (detected.format.name, detected.header_row) == ("x_post_activity", 1)


def test_a_header_two_platforms_could_have_asks_for_the_platform() -> None:
    text = "Date,Facebook Page followers,Instagram followers\n2026-11-20,1,1\n"
    table = read_export("both.csv", text.encode())
    with pytest.raises(ExportError, match=r"^export file both.csv: header fits meta_facebook_page_daily, meta_instagram_account_daily; "):
        detect_format(table, export_formats())
    assert detect_format(table, export_formats("facebook")).format.name == "meta_facebook_page_daily"


def test_an_unknown_header_is_named() -> None:
    with pytest.raises(UnknownExportFormat, match=r"^export file a.csv: unknown format; headers seen: 'Views', 'Likes'; known formats: "):
        detect_format(read_export("a.csv", b"Views,Likes\n1,2\n"), export_formats())


def test_accounts_match_by_id_or_handle_never_by_a_guess() -> None:
    matcher = AccountMatcher([
        RegisteredAccount("x:A:0", "x", "@Humas_A", "111"),
        RegisteredAccount("x:B:0", "x", "@humas_b", "222"),
        RegisteredAccount("x:C:0", "x", "@humas_b", "333"),
    ])
    assert matcher.match("x", "111") == ("x:A:0", None)
    assert matcher.match("x", "humas_a") == ("x:A:0", None)
    assert matcher.match("tiktok", "111") == (None, "tiktok account '111' is not in the registry "
                                                    "(registry/accounts.csv: platform_account_id or handle)")
    assert matcher.match("x", "@humas_b") == (None, "x account '@humas_b' matches 2 registered accounts: x:B:0, x:C:0")
    assert matcher.match("x", "Humas A") == (None, "x account 'Humas A' is not in the registry "
                                                   "(registry/accounts.csv: platform_account_id or handle)")
