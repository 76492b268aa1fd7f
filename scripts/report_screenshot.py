"""Screenshot the first screen of the report (the README's docs/report-first-screen.png) with headless Chromium.

    .venv/bin/python scripts/report_screenshot.py [--date YYYY-MM-DD] [--out docs/report-first-screen.png]

Writes the report of the warehouse behind WAREHOUSE_URL (default data/warehouse.duckdb, e.g. after `make demo`)
into a temporary folder and shoots its first 1280x900 pixels.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from etl.cli import day_argument
from etl.pipeline import open_warehouse
from etl.report import CHROMIUM_FLAGS, chromium, latest_day, write_report
from etl.settings import PROJECT_ROOT


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", type=day_argument)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "report-first-screen.png")
    args = parser.parse_args()
    browser = chromium()
    if browser is None:
        print("report_screenshot: Chromium is missing (make chromium installs it)", file=sys.stderr)
        return 1
    warehouse = open_warehouse()
    with tempfile.TemporaryDirectory() as folder:
        try:
            day = args.date or latest_day(warehouse)
            page = write_report(warehouse, day, Path(folder))
        finally:
            warehouse.dispose()
        subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={Path(folder) / 'profile'}", "--hide-scrollbars",
                        "--window-size=1280,900", f"--screenshot={args.out.resolve()}", page.as_uri()],
                       check=True, capture_output=True, timeout=120)
    print(f"first screen of the report for {day}: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
