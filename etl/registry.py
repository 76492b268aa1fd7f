"""The registry: agencies, their aliases, accounts and campaigns, read from the files in registry/.

Each reader checks its file and stops on the first bad line with a message
naming the file, the line and the field, so an operator editing a CSV by
hand knows exactly what to fix. Files are UTF-8 (a byte-order mark, as
spreadsheet programs write it, is accepted); other bytes, a row with more or
fewer fields than the header, and one platform handle or id under two account
keys are refused with the line.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from etl import platforms
from etl.errors import DeterministicError

CATEGORIES = ("kementerian", "lembaga", "provinsi", "kabkota")
PLATFORMS = tuple(platforms.PLATFORMS)
ALIAS_KINDS = ("name", "short", "abbreviation", "colloquial", "former_name")
#: How an account is collected: by its platform's API, or only from the analytics exports its owner drops.
COLLECTED_BY = ("api", "export")


class RegistryError(DeterministicError, ValueError):
    """A registry file that cannot be loaded as it is."""


@dataclass(frozen=True)
class Registry:
    agencies: pd.DataFrame
    aliases: pd.DataFrame
    accounts: pd.DataFrame
    campaigns: pd.DataFrame

    def campaign_terms(self) -> pd.DataFrame:
        """One row per campaign hashtag (lower case, no '#') and keyword."""
        rows = [
            {"campaign_code": c.campaign_code, "term_kind": kind, "term": term.lower() if kind == "hashtag" else term}
            for c in self.campaigns.itertuples()
            for kind, terms in (("hashtag", c.hashtags), ("keyword", c.keywords))
            for term in (terms or "").split("|")
            if term
        ]
        return pd.DataFrame(rows, columns=["campaign_code", "term_kind", "term"])


def read_text(path: Path) -> str:
    """A registry file's text: UTF-8, with or without a byte-order mark; other bytes are named by line and offset."""
    if not path.exists():
        raise RegistryError(f"{path}: file not found")
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise RegistryError(
            f"{path}:{line}: byte 0x{data[exc.start]:02x} at byte offset {exc.start} (column {column}) is not UTF-8; "
            "save the file as UTF-8"
        ) from None


def csv_rows(path: Path, columns: list[str]) -> list[tuple[int, dict[str, str]]]:
    """(line, row) of a registry CSV with every field stripped; a row whose field count differs from the header's
    is refused (a missing or extra comma shifts every later field into the wrong column)."""
    reader = csv.reader(io.StringIO(read_text(path), newline=""))
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in columns if c not in header]
    if missing:
        raise RegistryError(f"{path}: missing column(s) {', '.join(missing)}")
    rows = []
    for fields in reader:
        line = reader.line_num
        if not fields:
            continue
        if len(fields) != len(header):
            raise RegistryError(
                f"{path}:{line}: row {line} has {len(fields)} fields, the header has {len(header)}; "
                "check for a missing or extra comma (quote a value that contains one)"
            )
        rows.append((line, {k: v.strip() for k, v in zip(header, fields, strict=True) if k}))
    return rows



def _date(path: Path, line: int, field: str, value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RegistryError(f"{path}:{line}: field {field}: {value!r} is not a date (YYYY-MM-DD)") from None


def _require(path: Path, line: int, field: str, value: str, allowed: tuple[str, ...] | None = None) -> str:
    if not value:
        raise RegistryError(f"{path}:{line}: field {field} is empty")
    if allowed is not None and value not in allowed:
        raise RegistryError(f"{path}:{line}: field {field}: {value!r} is not one of {', '.join(allowed)}")
    return value


def read_agencies(path: Path) -> pd.DataFrame:
    columns = ["agency_code", "name", "short_name", "category", "parent_agency_code", "region_code"]
    records, seen = [], set()
    for line, row in csv_rows(path, columns):
        code = _require(path, line, "agency_code", row["agency_code"])
        if code in seen:
            raise RegistryError(f"{path}:{line}: field agency_code: {code!r} appears twice")
        seen.add(code)
        _require(path, line, "name", row["name"])
        _require(path, line, "category", row["category"], CATEGORIES)
        records.append({c: row[c] or None for c in columns})
    agencies = pd.DataFrame(records, columns=columns)
    orphans = set(agencies["parent_agency_code"].dropna()) - seen
    if orphans:
        raise RegistryError(f"{path}: field parent_agency_code names unknown agencies: {', '.join(sorted(orphans))}")
    return agencies


def read_aliases(path: Path, agency_codes: set[str]) -> pd.DataFrame:
    columns = ["agency_code", "alias", "kind", "valid_from", "valid_to"]
    records: dict[tuple[str, str], dict[str, object]] = {}
    for line, row in csv_rows(path, columns):
        code = _require(path, line, "agency_code", row["agency_code"])
        if code not in agency_codes:
            raise RegistryError(f"{path}:{line}: field agency_code: {code!r} is not in agencies.csv")
        alias = _require(path, line, "alias", row["alias"])
        records[(code, alias)] = {
            "agency_code": code,
            "alias": alias,
            "kind": _require(path, line, "kind", row["kind"], ALIAS_KINDS),
            "valid_from": _date(path, line, "valid_from", row["valid_from"]),
            "valid_to": _date(path, line, "valid_to", row["valid_to"]),
        }
    return pd.DataFrame(list(records.values()), columns=columns)


def read_accounts(path: Path, agency_codes: set[str]) -> pd.DataFrame:
    columns = ["account_key", "agency_code", "platform", "handle", "platform_account_id", "layer", "active_from", "active_to"]
    records, seen = [], set()
    owners: dict[tuple[str, str, str], str] = {}  # (platform, field, value) -> account key
    for line, row in csv_rows(path, columns):
        key = _require(path, line, "account_key", row["account_key"])
        if key in seen:
            raise RegistryError(f"{path}:{line}: field account_key: {key!r} appears twice")
        seen.add(key)
        for field, value in (("handle", row["handle"].lstrip("@").lower()), ("platform_account_id", row["platform_account_id"])):
            other = owners.setdefault((row["platform"], field, value), key) if value else key
            if other != key:
                raise RegistryError(
                    f"{path}:{line}: field {field}: {row['platform']} {field} {row[field]!r} of {key!r} is already "
                    f"account {other!r}; one account key per platform account (remove or merge one of the rows)"
                )
        code = _require(path, line, "agency_code", row["agency_code"])
        if code not in agency_codes:
            raise RegistryError(f"{path}:{line}: field agency_code: {code!r} is not in agencies.csv")
        layer = _require(path, line, "layer", row["layer"], ("0", "1", "2", "3"))
        records.append(
            {
                "account_key": key,
                "agency_code": code,
                "platform": _require(path, line, "platform", row["platform"], PLATFORMS),
                "handle": row["handle"] or None,
                "platform_account_id": row["platform_account_id"] or None,
                "layer": int(layer),
                "active_from": _date(path, line, "active_from", row["active_from"]),
                "active_to": _date(path, line, "active_to", row["active_to"]),
                "is_sandbox": (row.get("note") or "").startswith("sandbox"),
                # Optional column: accounts without API access are measured only from their dropped exports.
                "collected_by": _require(path, line, "collected_by", row.get("collected_by") or "api", COLLECTED_BY),
            }
        )
    return pd.DataFrame(records, columns=[*columns, "is_sandbox", "collected_by"])


def read_campaigns(paths: list[Path]) -> pd.DataFrame:
    columns = ["campaign_code", "name", "theme", "hashtags", "keywords", "starts_on", "ends_on", "is_sandbox"]
    records = []
    for path in paths:
        for line, row in csv_rows(path, columns):
            starts = _date(path, line, "starts_on", _require(path, line, "starts_on", row["starts_on"]))
            ends = _date(path, line, "ends_on", _require(path, line, "ends_on", row["ends_on"]))
            if starts and ends and ends < starts:
                raise RegistryError(f"{path}:{line}: field ends_on: {ends} is before starts_on {starts}")
            records.append(
                {
                    "campaign_code": _require(path, line, "campaign_code", row["campaign_code"]),
                    "name": _require(path, line, "name", row["name"]),
                    "theme": row["theme"] or None,
                    "hashtags": "|".join(t.lstrip("#").lower() for t in row["hashtags"].split("|") if t) or None,
                    "keywords": row["keywords"] or None,
                    "starts_on": starts,
                    "ends_on": ends,
                    "is_sandbox": row["is_sandbox"].lower() == "true",
                }
            )
    return pd.DataFrame(records, columns=columns)


def read_registry(registry_dir: Path, accounts_file: Path) -> Registry:
    """Every registry file; campaigns of a sandbox registry come with its accounts."""
    agencies = read_agencies(registry_dir / "agencies.csv")
    codes = set(agencies["agency_code"])
    campaign_files = [registry_dir / "campaigns.csv"]
    sandbox_campaigns = accounts_file.parent / "campaigns.csv"
    if sandbox_campaigns.exists() and sandbox_campaigns != campaign_files[0]:
        campaign_files.append(sandbox_campaigns)
    check_news_language(registry_dir, codes)
    return Registry(
        agencies=agencies,
        aliases=read_aliases(registry_dir / "agency_aliases.csv", codes),
        accounts=read_accounts(accounts_file, codes),
        campaigns=read_campaigns(campaign_files),
    )


# -- news language (issue 16): what the press calls institutions' heads, units and regional offices --------

MENTION_ROLES = ("institution", "head", "deputy", "unit")
OFFICE_LEVELS = ("province", "regency", "city", "any")


def _agency(path: Path, line: int, value: str, agency_codes: set[str]) -> str:
    code = _require(path, line, "agency_code", value)
    if code not in agency_codes:
        raise RegistryError(f"{path}:{line}: field agency_code: {code!r} is not in agencies.csv")
    return code


def read_news_heads(path: Path, agency_codes: set[str]) -> pd.DataFrame:
    """news_heads.csv: the titles of an agency's head and deputies ("Menkeu", "Wamenkeu", "Kapolri"), with validity."""
    columns = ["agency_code", "title", "role", "valid_from", "valid_to", "source"]
    records = []
    for line, row in csv_rows(path, columns):
        frm, to = _date(path, line, "valid_from", row["valid_from"]), _date(path, line, "valid_to", row["valid_to"])
        if frm and to and to < frm:
            raise RegistryError(f"{path}:{line}: field valid_to: {to} is before valid_from {frm}")
        records.append({
            "agency_code": _agency(path, line, row["agency_code"], agency_codes),
            "title": _require(path, line, "title", row["title"]),
            "role": _require(path, line, "role", row["role"], ("head", "deputy")),
            "valid_from": frm, "valid_to": to, "source": _require(path, line, "source", row["source"]),
        })
    return pd.DataFrame(records, columns=columns)


def read_news_units(path: Path, agency_codes: set[str]) -> pd.DataFrame:
    """news_units.csv: named units of national agencies ("Bareskrim"); ``needs_place`` units ("Polda") count only before a place."""
    columns = ["agency_code", "unit", "needs_place", "source"]
    records = [
        {
            "agency_code": _agency(path, line, row["agency_code"], agency_codes),
            "unit": _require(path, line, "unit", row["unit"]),
            "needs_place": _require(path, line, "needs_place", row["needs_place"], ("true", "false")) == "true",
            "source": _require(path, line, "source", row["source"]),
        }
        for line, row in csv_rows(path, columns)
    ]
    return pd.DataFrame(records, columns=columns)


def read_regional_offices(path: Path) -> pd.DataFrame:
    """news_regional_offices.csv: words that, followed by a place of their level, name that region's government."""
    columns = ["word", "level", "role", "source"]
    records = [
        {
            "word": _require(path, line, "word", row["word"]),
            "level": _require(path, line, "level", row["level"], OFFICE_LEVELS),
            "role": _require(path, line, "role", row["role"], MENTION_ROLES),
            "source": _require(path, line, "source", row["source"]),
        }
        for line, row in csv_rows(path, columns)
    ]
    return pd.DataFrame(records, columns=columns)


def read_place_short_forms(path: Path, agency_codes: set[str]) -> pd.DataFrame:
    """place_short_forms.csv: the press's short forms of provinces and cities ("Jaksel", "Jabar"), places only."""
    columns = ["agency_code", "short_form", "source"]
    records = [
        {
            "agency_code": _agency(path, line, row["agency_code"], agency_codes),
            "short_form": _require(path, line, "short_form", row["short_form"]),
            "source": _require(path, line, "source", row["source"]),
        }
        for line, row in csv_rows(path, columns)
    ]
    return pd.DataFrame(records, columns=columns)


def read_foreign_places(path: Path) -> pd.DataFrame:
    """news_foreign_places.csv: countries after which a title is a foreign official's ("Menlu Denmark")."""
    columns = ["name", "source"]
    records = [
        {"name": _require(path, line, "name", row["name"]), "source": _require(path, line, "source", row["source"])}
        for line, row in csv_rows(path, columns)
    ]
    return pd.DataFrame(records, columns=columns)


def check_news_language(registry_dir: Path, agency_codes: set[str]) -> None:
    """Read the news language files that exist (registry_sync fails on a bad line before news_mentions uses them)."""
    readers = {
        "news_heads.csv": lambda p: read_news_heads(p, agency_codes),
        "news_units.csv": lambda p: read_news_units(p, agency_codes),
        "news_regional_offices.csv": read_regional_offices,
        "place_short_forms.csv": lambda p: read_place_short_forms(p, agency_codes),
        "news_foreign_places.csv": read_foreign_places,
    }
    for name, reader in readers.items():
        if (registry_dir / name).exists():
            reader(registry_dir / name)
