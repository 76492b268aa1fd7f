"""SANDBOX ONLY: an agency measured only through dropped analytics exports, for the demo.

Synthetic files, clearly marked (file names start with ``SANDBOX-`` and the
first line says so), in the formats of YouTube Studio (table by content) and
TikTok Studio (content, followers), written into the dropbox before each
night as an agency's operator would. The agency's accounts are registered
with ``collected_by = export``, so no API is ever asked for them: every number
of that agency in the indicators and the report comes from these files.

The numbers are a deterministic function of the post and the day (no
randomness, no clock): the same day gives byte-identical files, so a rerun of
the demo finds them already imported and changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

#: A national agency (lembaga) whose only sandbox account is its YouTube channel; the demo gives it TikTok too.
EXPORT_AGENCY = "LEM-BMKG"
MARK = "SANDBOX: synthetic export written by etl/sandbox/exports.py for the demo; not real data"
#: Posts listed in each export: those published in the last days, as Studio's "last 28 days" views do (shortened).
WINDOW_DAYS = 14
EPOCH = date(2026, 1, 1)


def _seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


def _counts(post_id: str, published: date, day: date) -> dict[str, int]:
    """Lifetime counters of a post on ``day``: they grow towards a ceiling and never fall."""
    ceiling = 60_000 + _seed(post_id) % 180_000  # a busy agency: it shows among the ranked ones in the demo report
    age = (day - published).days
    views = ceiling - ceiling // 2 ** (age + 1)
    return {"views": views, "likes": views // 18, "comments": views // 160, "shares": views // 140}


@dataclass(frozen=True)
class ExportOnlyAgency:
    """The demo's export-only agency: its registry accounts and the files its operator drops each day."""

    agency_code: str
    youtube_channel: str
    tiktok_user: str
    accounts_file: Path
    dropbox: Path

    @classmethod
    def prepare(cls, sandbox_accounts: Path, work_dir: Path, dropbox: Path, agency_code: str = EXPORT_AGENCY) -> ExportOnlyAgency:
        """A copy of the sandbox registry (with its campaigns) where the agency's accounts are collected by export."""
        work_dir.mkdir(parents=True, exist_ok=True)
        with sandbox_accounts.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        tiktok_user = "sandbox_" + agency_code.lower().replace("-", "_")
        channel = next(r["platform_account_id"] for r in rows if r["account_key"] == f"youtube:{agency_code}:0")
        columns = [*rows[0].keys(), "collected_by"]
        rows.append({**rows[0], "account_key": f"tiktok:{agency_code}:0", "agency_code": agency_code, "platform": "tiktok",
                     "handle": f"@{tiktok_user}", "platform_account_id": tiktok_user, "layer": "0"})
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "collected_by": "export" if row["agency_code"] == agency_code else "api"})
        accounts = work_dir / "accounts.csv"
        accounts.write_text(buffer.getvalue(), encoding="utf-8")
        shutil.copy(sandbox_accounts.parent / "campaigns.csv", work_dir / "campaigns.csv")  # the registry reads them beside
        # Files an interrupted earlier run dropped are not this run's: a fresh warehouse would import them all on the
        # first night, each as of that night. Only the sandbox's own files go; anything else in the folder stays.
        for stale in dropbox.glob("**/SANDBOX-*.csv"):
            stale.unlink()
        return cls(agency_code, channel, tiktok_user, accounts, dropbox)

    def _posts(self, platform: str, day: date) -> list[tuple[str, date]]:
        posts = []
        for age in range(WINDOW_DAYS):
            published = day - timedelta(days=age)
            seed = _seed(platform, self.agency_code, published)
            post_id = f"sbx{seed % 16**8:08x}" if platform == "youtube" else str(7_000_000_000_000_000_000 + seed % 10**18)
            posts.append((post_id, published))
        return posts

    def drop(self, day: date) -> list[Path]:
        """Write the day's exports into the dropbox, as the agency's operator would after downloading them."""
        written = [
            self._write(self.dropbox / "youtube" / self.youtube_channel / f"SANDBOX-youtube-studio-content-{day}.csv",
                        ["Content", "Video title", "Video publish time", "Duration", "Views", "Watch time (hours)", "Likes",
                         "Comments added"],
                        [[vid, f"[sandbox] Prakiraan cuaca {published:%d %b}", f"{published:%b} {published.day}, {published.year}",
                          "180", f"{c['views']:,}", f"{c['views'] * 3 / 60:.1f}", c["likes"], c["comments"]]
                         for vid, published in self._posts("youtube", day) for c in [_counts(vid, published, day)]]),
            self._write(self.dropbox / "tiktok" / f"SANDBOX-tiktok-studio-content-{day}.csv",
                        ["Video title", "Video link", "Post time", "Total likes", "Total comments", "Total shares", "Total views"],
                        [[f"[sandbox] Info cuaca {published:%d %b}", f"https://www.tiktok.com/@{self.tiktok_user}/video/{vid}",
                          f"{published} 10:00", c["likes"], c["comments"], c["shares"], c["views"]]
                         for vid, published in self._posts("tiktok", day) for c in [_counts(vid, published, day)]]),
            self._write(self.dropbox / "tiktok" / self.tiktok_user / f"SANDBOX-tiktok-studio-followers-{day}.csv",
                        ["Date", "Followers", "Difference in followers from previous day"],
                        [[d, self._followers(d), self._followers(d) - self._followers(d - timedelta(days=1))]
                         for d in (day - timedelta(days=1), day)]),
        ]
        return written

    @staticmethod
    def _followers(day: date) -> int:
        return 48_000 + 37 * (day - EPOCH).days

    @staticmethod
    def _write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
        buffer = io.StringIO()
        buffer.write(MARK + "\n")
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(buffer.getvalue(), encoding="utf-8")
        return path
