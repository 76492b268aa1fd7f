"""What Meta Business Suite's exports of Facebook Pages and Instagram accounts share: the account-level daily table."""

from __future__ import annotations

from etl.sources.exports import ACCOUNT_DAILY, ExportFormat, followers_by_day


def account_daily_format(platform: str, name: str, label: str, followers: tuple[str, str]) -> ExportFormat:
    """Business Suite's account-level export, one row per day: the date and the followers (English, Indonesian header)."""
    return ExportFormat(
        name=name,
        platform=platform,
        kind=ACCOUNT_DAILY,
        description=f"Meta Business Suite {label}, account level, one row per day",
        columns={"date": ("Date", "Tanggal"), "followers": followers},
        required=("date", "followers"),
        read_row=followers_by_day,
    )
