"""The file-drop source: platform analytics exports, landed, validated, quarantined and merged like API rows.

Operators (or the agencies themselves) drop the analytics exports an account
owner can always download into ``<PANTAU_DROPBOX_DIR>/<platform>/`` (files
whose export names no account go one folder deeper, ``<platform>/<handle or
id>/``). The nightly ``social_metrics`` DAG's first task, or ``pantau import
<file>``, takes each file:

1. hash its bytes (SHA-256): a file already imported is skipped — the same
   file dropped twice, under any name, changes nothing;
2. land it raw under ``landing/export/<platform>/<hash>/`` before reading it;
3. recognise its format from the header (``etl/platforms/<platform>/export.py``),
   or reject it naming the file and the headers seen;
4. read every row into the canonical frames; match each row's account against
   the registry (an unmatched row goes to quarantine with the reason, never to
   a guessed account);
5. validate the frames with the same Great Expectations suites as API rows;
   bad rows go to ``etl_quarantine``;
6. in one transaction: drop what earlier exports of the same format said about
   the account on the days this file covers (a corrected file replaces them),
   merge posts, post counters, account counters (``source = 'export'``, file
   name and hash on every row; an API snapshot of the same post or account and
   day is kept instead), mark the accounts collected (``ok_export``) and record
   the file in ``etl_export_file``.

Exports are totals, not nightly reads: a post-level export's rows are the
posts' lifetime counters as of the day the export ends, which is the day the
file is imported for (the DAG run's day; ``pantau import --date``); a table with
one row per day (followers) loads each row on its own day.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import structlog

from etl.landing import safe_name
from etl.platforms import PLATFORMS, export_formats
from etl.quality import QualityGateFailed, validate_or_hold
from etl.registry import read_accounts, read_agencies
from etl.runtime import JAKARTA, RunContext, TaskAudit, audited
from etl.settings import Settings, load_settings
from etl.sources.exports import (
    POSTS,
    AccountMatcher,
    DetectedExport,
    ExportError,
    ExportRow,
    ExportTable,
    RegisteredAccount,
    detect_format,
    file_hash,
    read_export,
)
from etl.sources.frames import Frames, record_json, repair_fields
from etl.sources.readers import ParseIssue, hashtags_of, naive_utc, unavailable_metrics
from etl.warehouse import Warehouse

log = structlog.get_logger(__name__)

SOURCE = "export"
#: Ledger statuses after which the same bytes are never read again (a quarantined file may be retried by hand).
FINAL_STATUSES = ("loaded", "replaced", "rejected")
UNMATCHED = "account registered (registry/accounts.csv)"
UNREADABLE = "row readable (post id, link)"
NO_ACCOUNT = "-"
FRAME_KEYS = {
    "account_snapshots": ["platform", "platform_account_id", "snapshot_date"],
    "posts": ["platform", "platform_post_id"],
    "post_metrics": ["platform", "platform_post_id", "snapshot_date"],
}


@dataclass
class ImportResult:
    """What importing one file did."""

    file: str
    file_hash: str
    status: str  # loaded, duplicate, quarantined, rejected
    export_format: str | None = None
    platform: str | None = None
    rows: int = 0
    loaded: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    accounts: list[str] = field(default_factory=list)
    period: tuple[date, date] | None = None
    message: str | None = None

    @property
    def failed(self) -> bool:
        """A file the operator must fix: unknown format, or mostly bad rows (the quality gate)."""
        return self.status == "rejected" or (self.status == "quarantined" and self.message is not None
                                              and self.message.startswith("quality gate"))

    def summary(self) -> str:
        """One line for the operator."""
        if self.status == "duplicate":
            return f"{self.file}: already imported ({self.message}); nothing changed"
        if self.status == "rejected":
            return f"{self.file}: rejected: {self.message}"
        period = f" for {self.period[0]}..{self.period[1]}" if self.period else ""
        loaded = ", ".join(f"{k} {v}" for k, v in self.loaded.items() if v)
        return (f"{self.file}: {self.status} ({self.export_format}{period}): {self.rows} rows read, "
                f"{loaded or 'nothing'} loaded, {self.quarantined} quarantined"
                + (f", accounts {', '.join(self.accounts)}" if self.accounts else "")
                + (f"; {self.message}" if self.message else ""))


# -- the dropbox ---------------------------------------------------------------------------------


def dropped_files(dropbox: Path) -> list[tuple[Path, str, str | None]]:
    """(file, platform, declared account) for every file under ``<dropbox>/<platform>/[<account>/]``, in path order."""
    found = []
    for platform in PLATFORMS:
        folder = dropbox / platform
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or path.name.startswith(".") or path.name.endswith(".partial"):
                continue
            relative = path.relative_to(folder).parts
            found.append((path, platform, relative[0] if len(relative) > 1 else None))
    return found


def import_dropbox(run: RunContext, settings: Settings | None = None) -> list[ImportResult]:
    """Import every new file in the dropbox for the run's day (the nightly DAG's first task)."""
    settings = settings or load_settings()
    results = []
    warehouse = _open(settings)
    try:
        for path, platform, account in dropped_files(settings.dropbox_dir):
            results.append(import_export(path, run, settings, platform=platform, account=account, warehouse=warehouse))
    finally:
        warehouse.dispose()
    log.info("dropbox imported", **run.log_extra(source=SOURCE, files=len(results),
                                                 new=sum(r.status != "duplicate" for r in results)))
    return results


def _open(settings: Settings) -> Warehouse:
    from etl.pipeline import open_warehouse  # noqa: PLC0415 - the pipeline module imports every platform step

    return open_warehouse(settings)


# -- one file ------------------------------------------------------------------------------------


def import_export(
    path: Path,
    run: RunContext,
    settings: Settings | None = None,
    *,
    platform: str | None = None,
    account: str | None = None,
    warehouse: Warehouse | None = None,
    retry_quarantined: bool = False,
    on_progress: Callable[[str], None] | None = None,
) -> ImportResult:
    """Import one export file for ``run``'s day; ``platform`` and ``account`` as the drop folder (or the operator) says."""
    settings = settings or load_settings()
    own = warehouse is None
    warehouse = warehouse or _open(settings)
    progress = on_progress or (lambda _step: None)
    try:
        data = path.read_bytes()
        digest = file_hash(data)
        seen = _already_imported(warehouse, digest, retry_quarantined)
        if seen:
            log.info("export already imported", **run.log_extra(source=SOURCE, file=path.name, sha256=digest[:12]))
            return ImportResult(path.name, digest, "duplicate", message=seen)
        # One etl_run row per file of the run.
        audit = TaskAudit(f"import_exports.{digest[:12]}", source=SOURCE, shard=f"{path.name} {digest[:12]}")
        with audited(warehouse, run, audit):
            progress("landing")
            landed = _land(settings, platform, digest, path.name, data)
            result = _import(data, path.name, digest, landed, run, settings, warehouse, platform, account, progress)
            facts = result.loaded.get("fact_post_metrics_daily", 0) + result.loaded.get("fact_account_daily", 0)
            audit.counts.update(rows_extracted=result.rows, rows_quarantined=result.quarantined, rows_valid=facts,
                                rows_loaded=sum(result.loaded.values()))
            if result.status != "loaded":
                audit.status, audit.message = "partial", result.summary()[:2000]
        log_method = log.info if result.status == "loaded" else log.warning
        log_method("export imported", **run.log_extra(source=SOURCE, file=path.name, sha256=digest[:12], status=result.status,
                                                      account=",".join(result.accounts) or None, format=result.export_format))
        return result
    finally:
        if own:
            warehouse.dispose()


def _already_imported(warehouse: Warehouse, digest: str, retry_quarantined: bool) -> str | None:
    rows = warehouse.query("SELECT status, file_name, imported_at FROM etl_export_file WHERE file_hash = :h", {"h": digest})
    if not rows:
        return None
    statuses = {r[0] for r in rows}
    if retry_quarantined and statuses <= {"quarantined"}:
        return None
    return f"as {rows[0][1]} at {rows[0][2]:%Y-%m-%d %H:%M} UTC, status {'/'.join(sorted(statuses))}, sha256 {digest[:12]}"


def _land(settings: Settings, platform: str | None, digest: str, name: str, data: bytes) -> Path:
    """The raw bytes under landing/export/<platform>/<hash>/<name>, before anything reads them."""
    target = settings.landing_dir / SOURCE / (platform or "unsorted") / digest[:16] / safe_name(name)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.write_bytes(data)
        partial.replace(target)
    return target


def _registered(settings: Settings) -> list[RegisteredAccount]:
    agencies = read_agencies(settings.registry_dir / "agencies.csv")
    accounts = read_accounts(settings.accounts_file, set(agencies["agency_code"]))
    return [RegisteredAccount(a.account_key, a.platform, a.handle, a.platform_account_id) for a in accounts.itertuples()]


def _import(
    data: bytes, name: str, digest: str, landed: Path, run: RunContext, settings: Settings, warehouse: Warehouse,
    platform: str | None, account: str | None, progress: Callable[[str], None],
) -> ImportResult:
    progress("reading")
    try:
        table = read_export(name, data)
        detected = detect_format(table, export_formats(platform))
    except ExportError as exc:
        return _reject(warehouse, run, name, digest, landed, platform, str(exc))
    fmt = detected.format
    registered = {a.account_key: a for a in _registered(settings)}
    rows = _read_rows(detected, table, AccountMatcher(registered.values()), account)
    progress("validating")
    frames, unmatched = _frames(rows, fmt, registered, run.data_date)
    checked: dict[str, pd.DataFrame] = {}
    quarantine: list[pd.DataFrame] = [unmatched] if len(unmatched) else []
    gate: QualityGateFailed | None = None
    valid_posts: set[str] = set()
    for frame_name in ("posts", "post_metrics", "account_snapshots"):
        df = frames.frame(frame_name)
        df.insert(0, "account_key", [r.get("account_key") for r in frames.rows[frame_name]])
        if frame_name == "post_metrics":
            # Counters follow their post: a quarantined post takes its counters to quarantine too.
            df["account_key"] = df["account_key"].where(df["platform_post_id"].isin(valid_posts), None)
        validation, failed = validate_or_hold(frame_name, df, max_bad_share=settings.max_quarantine_share, source=f"export {name}")
        gate = gate or failed
        if len(validation.quarantined):
            quarantine.append(_quarantined(frame_name, validation.quarantined))
        checked[frame_name] = validation.valid.drop(columns=["parse_issue", "record"])
        if frame_name == "posts":
            valid_posts = set(checked["posts"]["platform_post_id"])
    bad = pd.concat(quarantine, ignore_index=True) if quarantine else pd.DataFrame()
    result = ImportResult(name, digest, "loaded", fmt.name, fmt.platform, rows=len(rows), quarantined=len(bad))
    if gate is not None:
        # Most of the file is bad: nothing of it loads; the rows wait in quarantine with their reasons.
        checked = {k: v.iloc[0:0] for k, v in checked.items()}
        result.status, result.message = "quarantined", f"quality gate: {gate}"
    progress("loading")
    _load(warehouse, run, result, detected, checked, bad, landed)
    return result


@dataclass
class _Row:
    cells: dict[str, str]
    line: int
    read: ExportRow | None
    issue: str | None
    account_key: str | None
    account_reason: str | None


def _read_rows(detected: DetectedExport, table: ExportTable, matcher: AccountMatcher, declared: str | None) -> list[_Row]:
    rows = []
    for cells in detected.cells(table):
        try:
            read = detected.format.read_row(cells)
        except ParseIssue as exc:  # a field the row cannot be read without (its post id, its link)
            read = None
            cells.issues.append(str(exc))
        issue = "; ".join(cells.issues) or None
        if read is None:
            rows.append(_Row(cells.values, cells.line, None, issue, None, None))
            continue
        named = read.account or declared
        key, reason = matcher.match(detected.format.platform, named)
        if key and declared and read and read.account and read.account != declared:
            key, reason = None, f"the row names {read.account!r} but the file was declared for {declared!r}"
        rows.append(_Row(cells.values, cells.line, read, issue, key, reason))
    return rows


def _captured(day: date) -> datetime:
    """An export's totals are as of the end of its last day (Jakarta), stored as naive UTC."""
    return naive_utc(datetime.combine(day + timedelta(days=1), time(), JAKARTA))


def _frames(rows: list[_Row], fmt: Any, registered: dict[str, RegisteredAccount], day: date) -> tuple[Frames, pd.DataFrame]:
    """Canonical frames of the matched rows (parse issues kept for the suites), and the unmatched rows for quarantine."""
    frames = Frames()
    unmatched = []
    gaps = dict(fmt.gaps)
    for row in rows:
        record = record_json({"line": row.line, **row.cells})
        if row.account_key is None:
            # Not readable at all, or no registered account: straight to quarantine, with the reason.
            unmatched.append({"frame": "posts" if fmt.kind == POSTS else "account_snapshots", "account": None,
                              "record_key": f"line:{row.line}",
                              "failed_expectations": json.dumps([UNREADABLE if row.read is None else UNMATCHED]),
                              "parse_issue": row.issue if row.read is None else
                              "; ".join(x for x in (f"account: {row.account_reason}", row.issue) if x),
                              "record": record})
            continue
        account = registered[row.account_key]
        read = row.read or ExportRow()
        base = {"account_key": row.account_key, "platform": fmt.platform, "parse_issue": row.issue, "record": record}
        if fmt.kind == POSTS:
            published_on = read.published_at.replace(tzinfo=UTC).astimezone(JAKARTA).date() if read.published_at else None
            texts = {"title": read.title, "text": read.text, "url": read.url}
            repairs = repair_fields(texts)  # a NUL or a lone surrogate in an export cell is repaired and noted, as for API text
            frames.rows["posts"].append({
                **base, **texts, "platform_post_id": read.post_id, "platform_account_id": account.platform_account_id,
                "published_at": read.published_at, "published_on": published_on, "post_type": read.post_type,
                "hashtags": hashtags_of(texts["title"], texts["text"]), "referenced_post_id": None, "reference_kind": None,
                "text_repairs": repairs,
            })
            frames.rows["post_metrics"].append({
                **base, "platform_post_id": read.post_id, "snapshot_date": day, "captured_at": _captured(day),
                **{m: read.counts.get(m) for m in ("likes", "comments", "shares", "views", "saves", "quotes")},
                "unavailable_metrics": unavailable_metrics({**gaps, **read.gaps}),
            })
        else:
            snapshot = read.day or day
            frames.rows["account_snapshots"].append({
                **base, "platform_account_id": account.platform_account_id, "snapshot_date": snapshot,
                "captured_at": _captured(snapshot), "followers": read.counts.get("followers"), "following": None,
                "total_posts": None, "total_views": None,
            })
    return frames, pd.DataFrame(unmatched)


def _quarantined(frame: str, bad: pd.DataFrame) -> pd.DataFrame:
    keys = FRAME_KEYS[frame]
    return pd.DataFrame({
        "frame": frame,
        "account": bad["account_key"].tolist(),
        "record_key": ["|".join(str(r[k]) for k in keys) if all(pd.notna(r[k]) for k in keys) else f"line:{json.loads(r['record'])['line']}"
                       for _, r in bad.iterrows()],
        "failed_expectations": bad["failed_expectations"].tolist(),
        "parse_issue": bad["parse_issue"].tolist(),
        "record": bad["record"].tolist(),
    })


def _reject(warehouse: Warehouse, run: RunContext, name: str, digest: str, landed: Path, platform: str | None, message: str) -> ImportResult:
    """A file no format recognises: recorded (ledger and quarantine, with the headers seen), never read further."""
    result = ImportResult(name, digest, "rejected", platform=platform, message=message)
    bad = pd.DataFrame([{"frame": "export_file", "account": None, "record_key": f"file:{name}",
                         "failed_expectations": json.dumps(["known export format"]), "parse_issue": message,
                         "record": json.dumps({"file": name, "sha256": digest}, ensure_ascii=False)}])
    result.quarantined = 0
    with warehouse.transaction() as conn:
        warehouse.merge(conn, "quarantine", _quarantine_frame(bad, run, digest, landed), "etl_quarantine")
        warehouse.merge(conn, "export_files", _ledger([(NO_ACCOUNT, None, 0, 0, "rejected", message)], result, run, landed), "etl_export_file")
    log.error("export rejected", **run.log_extra(source=SOURCE, file=name, reason=message))
    return result


def _quarantine_frame(bad: pd.DataFrame, run: RunContext, digest: str, landed: Path) -> pd.DataFrame:
    part = f"export-{digest[:12]}"
    if bad.empty:
        # One sentinel per frame lets the merge clear this file's earlier quarantine (a retried file that now loads).
        bad = pd.DataFrame({"frame": list(FRAME_KEYS), "account": None, "record_key": None, "failed_expectations": None,
                            "parse_issue": None, "record": None})
    return bad.assign(data_date=run.data_date, source=SOURCE, part=part, run_id=run.run_id, landing_file=str(landed))[
        ["data_date", "source", "frame", "part", "record_key", "run_id", "account", "failed_expectations",
         "parse_issue", "record", "landing_file"]
    ]


def _ledger(entries: Iterable[tuple[str, tuple[date, date] | None, int, int, str, str | None]], result: ImportResult,
            run: RunContext, landed: Path) -> pd.DataFrame:
    now = datetime.now(UTC).replace(tzinfo=None)
    return pd.DataFrame([
        {"file_hash": result.file_hash, "account_key": key, "file_name": result.file, "platform": result.platform,
         "export_format": result.export_format, "period_start": period[0] if period else None,
         "period_end": period[1] if period else None, "rows_loaded": loaded, "rows_quarantined": quarantined,
         "status": status, "message": message, "landing_file": str(landed), "run_id": run.run_id, "imported_at": now}
        for key, period, loaded, quarantined, status, message in entries
    ])


def _account_days(checked: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """(account_key, snapshot_date) of every valid row, once each."""
    return pd.concat([checked[name][["account_key", "snapshot_date"]] for name in ("post_metrics", "account_snapshots")],
                     ignore_index=True).drop_duplicates()


def _periods(checked: dict[str, pd.DataFrame]) -> dict[str, tuple[date, date]]:
    """Per account, the first and last snapshot day its valid rows load on."""
    return {key: (min(group), max(group)) for key, group in _account_days(checked).groupby("account_key")["snapshot_date"]}


def _coverage(checked: dict[str, pd.DataFrame], result: ImportResult) -> pd.DataFrame:
    days = _account_days(checked)
    message = f"export {result.file} ({result.export_format}, sha256 {result.file_hash[:12]})"
    return pd.DataFrame({"account_key": days["account_key"], "snapshot_date": days["snapshot_date"], "platform": result.platform,
                         "status": "ok_export", "message": message},
                        columns=["account_key", "snapshot_date", "platform", "status", "message"])


def _load(warehouse: Warehouse, run: RunContext, result: ImportResult, detected: DetectedExport,
          checked: dict[str, pd.DataFrame], bad: pd.DataFrame, landed: Path) -> None:
    """Replace earlier exports' rows for the accounts and days this file covers, merge, and record it: one transaction."""
    fmt = detected.format
    periods = _periods(checked)
    provenance = {"export_file": result.file, "export_hash": result.file_hash}
    bad_by_account = bad["account"].fillna(NO_ACCOUNT).value_counts().to_dict() if len(bad) else {}
    with warehouse.transaction() as conn:
        for key, (first, last) in sorted(periods.items()):
            warehouse.run_file(conn, "merge/export_replace", {
                "kind": fmt.kind, "platform": fmt.platform, "account_key": key, "export_format": fmt.name,
                "first_day": first, "last_day": last, "file_hash": result.file_hash,
            })
        result.loaded = {
            "dim_post": warehouse.merge(conn, "posts", checked["posts"], "dim_post_export", {"snapshot_date": run.data_date}),
            "fact_post_metrics_daily": warehouse.merge(conn, "post_metrics", checked["post_metrics"], "fact_post_metrics_daily_export", provenance),
            "fact_account_daily": warehouse.merge(conn, "account_snapshots", checked["account_snapshots"], "fact_account_daily_export", provenance),
            "etl_account_coverage": warehouse.merge(conn, "account_coverage", _coverage(checked, result), "etl_account_coverage_export"),
        }
        warehouse.merge(conn, "quarantine", _quarantine_frame(bad, run, result.file_hash, landed), "etl_quarantine")
        entries = [(key, period, int((checked["post_metrics"]["account_key"] == key).sum() + (checked["account_snapshots"]["account_key"] == key).sum()),
                    int(bad_by_account.get(key, 0)), "loaded", None) for key, period in sorted(periods.items())]
        unmatched = int(bad_by_account.get(NO_ACCOUNT, 0))
        if unmatched or not entries:
            reason = result.message or (bad["parse_issue"].iloc[0] if len(bad) else "no rows")
            entries.append((NO_ACCOUNT, None, 0, unmatched, "quarantined", reason))
        warehouse.merge(conn, "export_files", _ledger(entries, result, run, landed), "etl_export_file")
    result.accounts = sorted(periods)
    if result.status == "loaded" and not periods:
        result.status = "quarantined"
        result.message = result.message or (bad["parse_issue"].iloc[0] if len(bad) else "no rows")
    if periods:
        result.period = (min(p[0] for p in periods.values()), max(p[1] for p in periods.values()))
