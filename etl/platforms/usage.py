"""API calls made against the fewest the platforms' batch and page sizes allow (``sql/reports/api_calls_vs_minimum.sql``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from etl.platforms import get_platform
from etl.warehouse import Warehouse, sql_file


def api_calls_vs_minimum(warehouse: Warehouse, first: date, last: date) -> list[dict[str, Any]]:
    """Per day and platform: accounts and posts collected, API calls made, and the fewest the batch sizes allow."""
    youtube, x, instagram, facebook, tiktok = (get_platform(name).source_module() for name in ("youtube", "x", "instagram", "facebook", "tiktok"))
    sizes = {
        "youtube_ids": youtube.VIDEOS.batch_size, "youtube_page": youtube.UPLOADS.page_size,
        "x_ids": x.USERS.batch_size, "x_page": x.TIMELINE.page_size,
        "instagram_page": instagram.DISCOVERY.page_size, "facebook_page": facebook.POSTS.page_size,
        "tiktok_users": tiktok.USERNAMES_PER_QUERY, "tiktok_page": tiktok.VIDEO_QUERY.page_size,
    }
    rows = warehouse.query(sql_file("reports/api_calls_vs_minimum"), {"first": first, "last": last, **sizes})
    keys = ("day", "platform", "accounts", "posts", "calls_made", "minimum_calls")
    return [dict(zip(keys, row, strict=True)) for row in rows]
