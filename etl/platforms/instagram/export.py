"""Instagram professional-account analytics exports from Meta Business Suite (Insights > Content / Overview > Export data).

Meta writes these as UTF-16 tab-separated text when asked for CSV from some
views; the shared reader takes either. Counters loaded are the ones the Graph
API source reads (likes, comments), so accounts measured by export and by API
are compared on the same counters; saves, shares, reach and views are not loaded.
"""

from __future__ import annotations

from etl.platforms.graph.export import account_daily_format
from etl.sources.exports import POSTS, ExportCells, ExportFormat, ExportRow

#: Business Suite's post types ("IG image", Indonesian "Gambar IG") to Pantau's (the Graph API source's names).
_TYPES = {
    "image": "image", "gambar": "image", "carousel": "carousel", "korsel": "carousel", "reel": "reel", "reels": "reel",
    "video": "video", "story": "story", "cerita": "story",
}


def _post_type(value: str | None) -> str:
    words = [w for w in (value or "").lower().split() if w != "ig"]
    return _TYPES.get(" ".join(words), "post")


def _post(cells: ExportCells) -> ExportRow:
    return ExportRow(
        account=cells.get("account_id") or cells.get("username"),
        post_id=cells.require("post_id"),
        published_at=cells.time("published"),
        post_type=_post_type(cells.get("post_type")),
        text=cells.get("description"),
        url=cells.get("permalink"),
        counts={"likes": cells.count("likes"), "comments": cells.count("comments")},
    )


POSTS_FORMAT = ExportFormat(
    name="meta_instagram_posts",
    platform="instagram",
    kind=POSTS,
    description="Meta Business Suite Instagram posts (lifetime totals per post)",
    columns={
        "post_id": ("Post ID", "ID Postingan"),
        "account_id": ("Account ID", "ID Akun"),
        "username": ("Account username", "Nama pengguna akun"),
        "account_name": ("Account name", "Nama akun"),
        "description": ("Description", "Deskripsi"),
        "published": ("Publish time", "Waktu publikasi"),
        "permalink": ("Permalink",),
        "post_type": ("Post type", "Jenis postingan"),
        "likes": ("Likes", "Suka"),
        "comments": ("Comments", "Komentar"),
    },
    required=("post_id", "username", "published", "likes"),
    read_row=_post,
)


ACCOUNT_FORMAT = account_daily_format(
    "instagram", "meta_instagram_account_daily", "Instagram account", ("Instagram followers", "Pengikut Instagram")
)

FORMATS = (POSTS_FORMAT, ACCOUNT_FORMAT)
