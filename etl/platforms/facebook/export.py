"""Facebook Page analytics exports from Meta Business Suite (Insights > Content / Overview > Export data).

Column names are the ones Business Suite writes in English and in its Indonesian
localisation (see tests/fixtures/facebook/exports/README.md for where they come
from). Counters loaded are the ones the Graph API source reads — reactions as
likes, comments, shares — so Pages measured by export and by API are compared
on the same counters; the export's reach, views and clicks are not loaded.
"""

from __future__ import annotations

from etl.platforms.graph.export import account_daily_format
from etl.sources.exports import POSTS, ExportCells, ExportFormat, ExportRow

#: Business Suite's post types, as it prints them, to Pantau's (everything else on a Page is a post).
_TYPES = {"reel": "reel", "reels": "reel", "video": "video", "live": "live", "siaran langsung": "live"}


def _post(cells: ExportCells) -> ExportRow:
    page_id = cells.get("page_id")
    post_id = cells.require("post_id")
    if page_id and "_" not in post_id:
        post_id = f"{page_id}_{post_id}"  # the Graph API's id of a Page post is <page id>_<post id>
    title, description = cells.get("title"), cells.get("description")
    return ExportRow(
        account=page_id,
        post_id=post_id,
        published_at=cells.time("published"),
        post_type=_TYPES.get((cells.get("post_type") or "").lower(), "post"),
        title=title,
        text=description,
        url=cells.get("permalink"),
        counts={"likes": cells.count("reactions"), "comments": cells.count("comments"), "shares": cells.count("shares")},
    )


POSTS_FORMAT = ExportFormat(
    name="meta_facebook_posts",
    platform="facebook",
    kind=POSTS,
    description="Meta Business Suite Facebook Page posts (lifetime totals per post)",
    columns={
        "post_id": ("Post ID", "ID Postingan"),
        "page_id": ("Page ID", "ID Halaman"),
        "page_name": ("Page name", "Nama Halaman"),
        "title": ("Title", "Judul"),
        "description": ("Description", "Deskripsi"),
        "published": ("Publish time", "Waktu publikasi"),
        "permalink": ("Permalink",),
        "post_type": ("Post type", "Jenis postingan"),
        "reactions": ("Reactions", "Reaksi"),
        "comments": ("Comments", "Komentar"),
        "shares": ("Shares", "Dibagikan"),
    },
    required=("post_id", "page_id", "published", "reactions"),
    read_row=_post,
)


ACCOUNT_FORMAT = account_daily_format(
    "facebook", "meta_facebook_page_daily", "Facebook Page", ("Facebook Page followers", "Pengikut Halaman Facebook")
)

FORMATS = (POSTS_FORMAT, ACCOUNT_FORMAT)
