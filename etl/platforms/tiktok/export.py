"""TikTok Studio analytics exports (Analytics > Download data): content and followers.

The content table has one row per video with its totals; the account is read
from the video link (``https://www.tiktok.com/@<username>/video/<id>``), the
username being the registry's ``platform_account_id`` for TikTok. The followers
table has one row per day and no account: the drop folder
``data/dropbox/tiktok/<username>/`` or ``pantau import --account`` says whose it is.
Counters loaded are the ones the Research/Display API source reads.
"""

from __future__ import annotations

import re

from etl.sources.exports import ACCOUNT_DAILY, POSTS, ExportCells, ExportFormat, ExportRow, followers_by_day
from etl.sources.readers import ParseIssue

_LINK = re.compile(r"tiktok\.com/@(?P<user>[A-Za-z0-9_.]+)/video/(?P<id>\d+)")


def _content(cells: ExportCells) -> ExportRow:
    link = cells.require("link")
    match = _LINK.search(link)
    if not match:
        raise ParseIssue(f"link: {link!r} is not a TikTok video link (https://www.tiktok.com/@user/video/<id>)")
    return ExportRow(
        account=match["user"],
        post_id=match["id"],
        published_at=cells.time("posted"),
        post_type="video",
        text=cells.get("title"),
        url=link,
        counts={m: cells.count(m) for m in ("views", "likes", "comments", "shares")},
    )


CONTENT_FORMAT = ExportFormat(
    name="tiktok_studio_content",
    platform="tiktok",
    kind=POSTS,
    description="TikTok Studio content (totals per video)",
    columns={
        "title": ("Video title", "Judul video"),
        "link": ("Video link", "Tautan video"),
        "posted": ("Post time", "Waktu posting"),
        "views": ("Total views", "Total penayangan"),
        "likes": ("Total likes", "Total suka"),
        "comments": ("Total comments", "Total komentar"),
        "shares": ("Total shares", "Total dibagikan"),
    },
    required=("link", "posted", "views", "likes"),
    read_row=_content,
)


def _followers(cells: ExportCells) -> ExportRow:
    cells.count("difference")  # checked, not loaded: the totals give it
    return followers_by_day(cells)


FOLLOWERS_FORMAT = ExportFormat(
    name="tiktok_studio_followers",
    platform="tiktok",
    kind=ACCOUNT_DAILY,
    description="TikTok Studio followers (one row per day)",
    columns={
        "date": ("Date", "Tanggal"),
        "followers": ("Followers", "Pengikut"),
        "difference": ("Difference in followers from previous day", "Selisih pengikut dari hari sebelumnya"),
    },
    required=("date", "followers", "difference"),
    read_row=_followers,
)

FORMATS = (CONTENT_FORMAT, FOLLOWERS_FORMAT)
