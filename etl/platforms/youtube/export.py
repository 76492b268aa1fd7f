"""YouTube Studio analytics exports (Analytics > Advanced mode > Export current view): the table data.

Two tables are read: by content (one row per video, lifetime or period totals)
and by date (one row per day for the channel). Neither names the channel, so
the operator says which it is: the drop folder ``data/dropbox/youtube/<channel
id or handle>/`` or ``pantau import --account``. Counters loaded are the ones the
Data API source reads (views, likes, comments); Studio's shares and watch time
are not loaded. The date table holds changes per day (views that day,
subscribers gained net), not totals: it marks the channel collected on those
days and lands raw, but fills no counter (a net change is not a follower count).
"""

from __future__ import annotations

from etl.sources.exports import (
    ACCOUNT_DAILY,
    POSTS,
    ExportCells,
    ExportFormat,
    ExportRow,
)


def _total_row(cells: ExportCells) -> bool:
    """Studio's first data row sums the table."""
    return (cells.get("content") or cells.get("date") or "").lower() == "total"


def _content(cells: ExportCells) -> ExportRow:
    video_id = cells.require("content")
    cells.number("watch_hours")  # read to check it, not loaded (the API has no such counter)
    return ExportRow(
        post_id=video_id,
        published_at=cells.time("published"),
        post_type="video",
        title=cells.get("title"),
        url=f"https://www.youtube.com/watch?v={video_id}",
        counts={"views": cells.count("views"), "likes": cells.count("likes"), "comments": cells.count("comments")},
    )


CONTENT_FORMAT = ExportFormat(
    name="youtube_studio_content",
    platform="youtube",
    kind=POSTS,
    description="YouTube Studio advanced mode, table by content (totals per video)",
    columns={
        "content": ("Content", "Konten"),
        "title": ("Video title", "Judul video"),
        "published": ("Video publish time", "Waktu publikasi video"),
        "views": ("Views", "Penayangan"),
        "watch_hours": ("Watch time (hours)", "Waktu tonton (jam)"),
        "likes": ("Likes", "Suka"),
        "comments": ("Comments added", "Komentar yang ditambahkan"),
    },
    required=("content", "title", "published", "views"),
    read_row=_content,
    skip_row=_total_row,
)


def _date(cells: ExportCells) -> ExportRow:
    cells.number("watch_hours")
    cells.count("views")
    cells.count("subscribers")  # net change that day: checked, not a follower count
    return ExportRow(day=cells.day("date"), counts={})


DATE_FORMAT = ExportFormat(
    name="youtube_studio_date",
    platform="youtube",
    kind=ACCOUNT_DAILY,
    description="YouTube Studio advanced mode, table by date (changes per day)",
    columns={
        "date": ("Date", "Tanggal"),
        "views": ("Views", "Penayangan"),
        "watch_hours": ("Watch time (hours)", "Waktu tonton (jam)"),
        "subscribers": ("Subscribers", "Subscriber"),
    },
    required=("date", "views", "watch_hours"),
    read_row=_date,
    skip_row=_total_row,
)

FORMATS = (CONTENT_FORMAT, DATE_FORMAT)
