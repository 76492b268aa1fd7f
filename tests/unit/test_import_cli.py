"""``pantau import``: a progress bar on stderr, a line per file and a one-line summary; a rejected file fails the command."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_import_prints_a_line_per_file_and_a_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    accounts = tmp_path / "accounts.csv"
    accounts.write_text(
        "account_key,agency_code,platform,handle,platform_account_id,layer,active_from,active_to,collected_by\n"
        "tiktok:KEM-KOMDIGI:0,KEM-KOMDIGI,tiktok,@sandbox_kemenko_tt,sandbox_kemenko_tt,0,2020-01-01,,export\n"
    )
    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PANTAU_ACCOUNTS_FILE", str(accounts))
    monkeypatch.delenv("WAREHOUSE_URL", raising=False)
    content = str(FIXTURES / "tiktok/exports/tiktok_studio_content.xlsx")
    assert main(["import", content, "--date", "2026-11-21"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "tiktok_studio_content.xlsx: loaded (tiktok_studio_content for 2026-11-21..2026-11-21): 2 rows read, "
        "dim_post 2, fact_post_metrics_daily 2, etl_account_coverage 1 loaded, 0 quarantined, accounts tiktok:KEM-KOMDIGI:0",
        "1 file(s) for 2026-11-21: 1 loaded, 0 duplicate, 0 quarantined, 0 rejected; 2 rows loaded, 0 quarantined",
    ]
    assert "import: 100%" in err  # the progress bar
    followers = str(FIXTURES / "tiktok/exports/pengikut_id.csv")
    unknown = str(FIXTURES / "x/exports/not_an_export.csv")
    assert main(["import", content, followers, unknown, "--account", "@sandbox_kemenko_tt", "--date", "2026-11-21"]) == 1
    out, _ = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].startswith("tiktok_studio_content.xlsx: already imported (as tiktok_studio_content.xlsx at ")
    assert lines[1] == ("pengikut_id.csv: loaded (tiktok_studio_followers for 2026-11-20..2026-11-21): 2 rows read, "
                        "fact_account_daily 2, etl_account_coverage 2 loaded, 0 quarantined, accounts tiktok:KEM-KOMDIGI:0")
    assert lines[2].startswith("not_an_export.csv: rejected: export file not_an_export.csv: unknown format; "
                               "headers seen: 'Nama', 'Jabatan', 'Telepon'")
    assert lines[3] == "3 file(s) for 2026-11-21: 1 loaded, 1 duplicate, 0 quarantined, 1 rejected; 2 rows loaded, 0 quarantined"
