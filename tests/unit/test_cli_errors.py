"""Bad input to ``pantau``: one ``pantau: <what, where, how to fix>`` line on stderr and a non-zero exit."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.cli import _run_id, main
from etl.registry import RegistryError, read_accounts, read_agencies

HEADER = "account_key,agency_code,platform,handle,platform_account_id,layer,active_from,active_to\n"
AGENCIES = {"KEM-A", "KEM-B"}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("YOUTUBE_API_KEY", raising=False)
    monkeypatch.setenv("PANTAU_NO_AIRFLOW_CONNECTIONS", "1")
    return tmp_path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse exits
        code = exc.code if isinstance(exc.code, int) else 1
    err = capsys.readouterr().err
    return code, [line for line in err.splitlines() if line.startswith("pantau")]


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["run", "--date", "2026-13-01"],
         "pantau: argument --date: '2026-13-01' is not a date; use YYYY-MM-DD, e.g. 2026-11-20 (see pantau run --help)"),
        (["indicators", "--date", "2026-11-01", "--to", "20/11/2026"],
         "pantau: argument --to: '20/11/2026' is not a date; use YYYY-MM-DD, e.g. 2026-11-20 (see pantau indicators --help)"),
    ],
)
def test_malformed_dates(env: Path, capsys: pytest.CaptureFixture[str], argv: list[str], line: str) -> None:
    assert run(argv, capsys) == (2, [line])


@pytest.mark.parametrize(
    ("url", "line"),
    [
        ("mysql://u@db/pantau", "pantau: WAREHOUSE_URL scheme 'mysql' is not supported; use "
         "postgresql+psycopg://user@host:5432/db or duckdb:///path/to/warehouse.duckdb"),
        ("not a url", "pantau: WAREHOUSE_URL is not a database URL; use "
         "postgresql+psycopg://user@host:5432/db or duckdb:///path/to/warehouse.duckdb"),
        ("postgresql+psycopg://postgres:s3cret@127.0.0.1:9/pantau",
         "pantau: cannot reach the warehouse Warehouse(postgresql+psycopg://postgres:***@127.0.0.1:9/pantau): connection failed: "
         'connection to server at "127.0.0.1", port 9 failed: Connection refused; check WAREHOUSE_URL and that the '
         "database server is running"),
    ],
)
def test_unusable_warehouse_url(env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, url: str, line: str) -> None:
    monkeypatch.setenv("WAREHOUSE_URL", url)
    assert run(["migrate"], capsys) == (1, [line])


def test_verbose_adds_the_traceback(env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAREHOUSE_URL", "mysql://u@db/pantau")
    assert main(["--verbose", "migrate"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):") and "etl.errors.WarehouseError" in err
    assert err.splitlines()[-1].startswith("pantau: WAREHOUSE_URL scheme 'mysql' is not supported")


def test_shard_size_zero(env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANTAU_SHARD_SIZE", "0")
    assert run(["migrate"], capsys) == (1, ["pantau: setting PANTAU_SHARD_SIZE must be at least 1, got 0; unset it for the default 250"])


def _accounts(env: Path, monkeypatch: pytest.MonkeyPatch, data: bytes) -> Path:
    path = env / "accounts.csv"
    path.write_bytes(data)
    monkeypatch.setenv("PANTAU_ACCOUNTS_FILE", str(path))
    return path


def test_registry_file_with_a_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + "yt:A,KEM-A,youtube,@a,UC1,0,,\n").encode())
    assert read_accounts(path, AGENCIES)["account_key"].tolist() == ["yt:A"]


def test_non_utf8_bytes_name_file_line_and_offset(env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    body = (HEADER + "yt:A,KEM-KOMDIGI,youtube,@a,UC1,0,,\n").encode() + b"yt:B,KEM-KOMDIGI,youtube,@Kemenkeu\xe9,UC2,0,,\n"
    path = _accounts(env, monkeypatch, body)
    offset = body.index(b"\xe9")
    column = offset - body.rindex(b"\n", 0, offset)
    assert run(["sync-registry"], capsys) == (1, [
        f"pantau: {path}:3: byte 0xe9 at byte offset {offset} (column {column}) is not UTF-8; save the file as UTF-8"
    ])


def test_wrong_number_of_fields(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text(HEADER + "yt:A,KEM-A,youtube,@a,UC1,0,,\nyt:B,KEM-A,youtube,@b,UC2,0,\nyt:C,KEM-A,youtube,@c,UC3,0,,\n")
    with pytest.raises(RegistryError, match=rf"^{path}:3: row 3 has 7 fields, the header has 8; check for a missing or extra "
                                            r"comma \(quote a value that contains one\)$"):
        read_accounts(path, AGENCIES)
    agencies = tmp_path / "agencies.csv"
    agencies.write_text("agency_code,name,short_name,category,parent_agency_code,region_code\nKEM-A,Kementerian A, Kemen,kementerian,,,extra\n")
    with pytest.raises(RegistryError, match=r":2: row 2 has 7 fields, the header has 6"):
        read_agencies(agencies)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("yt:A,KEM-A,youtube,@Kemenkeu,UC1,0,,\nyt:B,KEM-B,youtube,kemenkeu,UC2,0,,\n",
         ":3: field handle: youtube handle 'kemenkeu' of 'yt:B' is already account 'yt:A'; one account key per platform account"),
        ("yt:A,KEM-A,youtube,@a,UC1,0,,\nyt:B,KEM-B,youtube,@b,UC1,0,,\n",
         ":3: field platform_account_id: youtube platform_account_id 'UC1' of 'yt:B' is already account 'yt:A'"),
    ],
)
def test_one_platform_account_under_two_keys(tmp_path: Path, rows: str, message: str) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text(HEADER + rows)
    with pytest.raises(RegistryError, match=message.replace("(", r"\(")):
        read_accounts(path, AGENCIES)
    # The same handle on two platforms is two accounts.
    path.write_text(HEADER + "yt:A,KEM-A,youtube,@a,UC1,0,,\nx:A,KEM-A,x,@a,1,0,,\n")
    assert len(read_accounts(path, AGENCIES)) == 2


def test_an_empty_accounts_file_warns_that_nothing_will_be_collected(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _accounts(env, monkeypatch, HEADER.encode())
    assert run(["sync-registry"], capsys) == (0, ["pantau: warning: the accounts file lists no account; nothing will be collected"])
    assert run(["run", "--date", "2026-11-20", "--platform", "x"], capsys) == (0, [
        "pantau: warning: 2026-11-20: the accounts file lists no account; nothing will be collected "
        "(set PANTAU_ACCOUNTS_FILE or add rows to registry/accounts.csv)"
    ])


def test_run_ids_are_unique_below_the_second() -> None:
    ids = {_run_id("run") for _ in range(50)}
    assert len(ids) == 50
    assert all(i.startswith("cli__run__") for i in ids)
