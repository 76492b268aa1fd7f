"""X analytics exports (analytics > Content > Export data: post activity), and the older tweet activity CSV.

The account is read from the post's link (``https://x.com/<handle>/status/<id>``).
Counters loaded are the ones the API v2 source reads — likes, replies as
comments, reposts as shares, impressions as views, bookmarks as saves; the
export has no quote count, so quotes stay NULL with that reason. A repost
(``RT @…``) gets NULL counters with the API source's reason: it earns nothing
of its own. X's analytics
export is not localised: English headers only.
"""

from __future__ import annotations

import re

from etl.platforms.x.parser import METRIC_FIELDS, REPOST_REASON
from etl.sources.exports import POSTS, ExportCells, ExportFormat, ExportRow
from etl.sources.readers import ParseIssue

_LINK = re.compile(r"(?:x|twitter)\.com/(?P<handle>[A-Za-z0-9_]+)/status/(?P<id>\d+)")


def _post(cells: ExportCells) -> ExportRow:
    link = cells.require("link")
    match = _LINK.search(link)
    if not match:
        raise ParseIssue(f"link: {link!r} is not a post link (https://x.com/<handle>/status/<id>)")
    post_id = cells.get("post_id") or match["id"]
    if post_id != match["id"]:
        raise ParseIssue(f"post_id: {post_id!r} is not the id in its link {link!r}")
    text = cells.get("text")
    post_type = "reply" if (text or "").startswith("@") else "repost" if (text or "").startswith("RT @") else "post"
    if post_type == "repost":
        # As the API source does: a repost's counts are the original's, it earns nothing of its own.
        return ExportRow(account=match["handle"], post_id=post_id, published_at=cells.time("time"), post_type=post_type, text=text,
                         url=f"https://x.com/i/web/status/{post_id}", gaps=dict.fromkeys(METRIC_FIELDS, REPOST_REASON))
    return ExportRow(
        account=match["handle"],
        post_id=post_id,
        published_at=cells.time("time"),
        post_type=post_type,
        text=text,
        url=f"https://x.com/i/web/status/{post_id}",
        counts={
            "likes": cells.count("likes"), "comments": cells.count("replies"), "shares": cells.count("reposts"),
            "views": cells.count("impressions"), "saves": cells.count("bookmarks"),
        },
    )


POST_ACTIVITY = ExportFormat(
    name="x_post_activity",
    platform="x",
    kind=POSTS,
    description="X analytics post activity (totals per post)",
    columns={
        "post_id": ("Post id",),
        "time": ("Date",),
        "text": ("Post text",),
        "link": ("Post Link",),
        "impressions": ("Impressions",),
        "likes": ("Likes",),
        "bookmarks": ("Bookmarks",),
        "replies": ("Replies",),
        "reposts": ("Reposts",),
    },
    required=("post_id", "link", "time", "impressions", "likes", "reposts"),
    read_row=_post,
    gaps=(("quotes", "not in the X post activity export"),),
)

TWEET_ACTIVITY = ExportFormat(
    name="x_tweet_activity",
    platform="x",
    kind=POSTS,
    description="X (Twitter) analytics tweet activity, the older export (totals per tweet)",
    columns={
        "post_id": ("Tweet id",),
        "link": ("Tweet permalink",),
        "text": ("Tweet text",),
        "time": ("time",),
        "impressions": ("impressions",),
        "likes": ("likes",),
        "replies": ("replies",),
        "reposts": ("retweets",),
    },
    required=("post_id", "link", "time", "impressions", "reposts"),
    read_row=_post,
    gaps=(("quotes", "not in the X tweet activity export"), ("saves", "not in the X tweet activity export")),
)

FORMATS = (POST_ACTIVITY, TWEET_ACTIVITY)
