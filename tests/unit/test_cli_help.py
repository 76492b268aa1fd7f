"""First contact with `pantau`: the help lists every command on one line, dates say how to write them."""

from __future__ import annotations

import re

import pytest

from etl import cli


def help_text(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    assert stop.value.code == 0
    return capsys.readouterr().out


def test_help_lists_every_command_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_text(capsys, ["--help"])
    listed = re.findall(r"^    ([a-z-]+) {2,}(\S.*)$", text, re.M)
    assert [name for name, _ in listed] == ["run", "indicators", "report", "standings", "migrate", "sync-registry", "limits", "airflow-setup", "import"]
    assert dict(listed)["standings"] == "a campaign's standings over its whole period, per category"
    assert "``" not in text and "usage: pantau [-h] [--verbose] COMMAND ..." in text


@pytest.mark.parametrize("argv", [["run", "--date", "20-11-2026"], ["indicators", "--date", "2026-11-01", "--to", "2026/11/02"],
                                  ["report", "--date", "kemarin"]])
def test_a_malformed_date_says_yyyy_mm_dd(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    assert stop.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert re.fullmatch(rf"pantau: argument --\w+: '{re.escape(argv[-1])}' is not a date; use YYYY-MM-DD, e.g. 2026-11-20 \(see pantau {argv[0]} --help\)", last)
