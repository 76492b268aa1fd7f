"""The steps the DAGs wire together, callable without Airflow (CLI, tests, backfills).

Each step takes a :class:`~etl.runtime.RunContext` and hands the next one
small dicts of paths and counts; data itself moves through landing and
staging files, never through XCom.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, date, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
import structlog
from upath import UPath

from etl.budget import SharedBudget, credential_fingerprint
from etl.connections import Endpoint, warehouse_url
from etl.http import ApiClient, CredentialsRejected
from etl.landing import LandingWriter, landing_path, safe_name
from etl.platforms import Platform, get_platform, parse_landing
from etl.quality import QualityGateFailed, validate_or_hold
from etl.registry import read_registry
from etl.runtime import RunContext, TaskAudit, audited
from etl.settings import Settings, load_settings
from etl.sources.base import AccountRef, Extraction
from etl.sources.frames import iter_frames
from etl.storage import locate, read_parquet, read_text, write_parquet, write_text
from etl.warehouse import INDICATOR_LOCK, Warehouse

log = structlog.get_logger(__name__)

#: Natural keys of each frame, for de-duplication and quarantine record keys.
FRAME_KEYS = {
    "account_snapshots": ["platform", "platform_account_id", "snapshot_date"],
    "posts": ["platform", "platform_post_id"],
    "post_metrics": ["platform", "platform_post_id", "snapshot_date"],
}
WAREHOUSE_TABLES = [
    "dim_agency", "dim_agency_alias", "dim_account", "campaign", "dim_post", "fact_account_daily",
    "fact_post_metrics_daily", "etl_account_coverage", "agency_daily_indicators", "etl_quarantine", "etl_run",
    "dim_outlet", "fact_news_article", "fact_news_mention", "etl_news_feed_health", "etl_export_file",
]


def open_warehouse(settings: Settings | None = None) -> Warehouse:
    """The configured warehouse (Airflow connection ``warehouse``, WAREHOUSE_URL, or the DuckDB file), migrated."""
    settings = settings or load_settings()
    warehouse = Warehouse(warehouse_url(settings.warehouse_url or settings.default_warehouse_url))
    warehouse.hold_open()
    try:
        warehouse.migrate()
    except BaseException:
        warehouse.dispose()
        raise
    return warehouse


# -- registry_sync -------------------------------------------------------------------------


def sync_registry(run: RunContext, settings: Settings | None = None) -> dict[str, int]:
    """Load the registry files into the dimension tables in one transaction."""
    settings = settings or load_settings()
    warehouse = open_warehouse(settings)
    try:
        audit = TaskAudit("registry_sync", source="registry")
        # Read inside the audit: a broken registry file is recorded in etl_run (and its alert quotes it).
        with audited(warehouse, run, audit):
            registry = read_registry(settings.registry_dir, settings.accounts_file)
            with warehouse.transaction() as conn:
                counts = {
                    "dim_agency": warehouse.merge(conn, "agencies", registry.agencies, "dim_agency"),
                    "dim_agency_alias": warehouse.merge(conn, "agency_aliases", registry.aliases, "dim_agency_alias"),
                    "dim_account": warehouse.merge(
                        conn, "accounts", registry.accounts, "dim_account", {"closed_on": run.data_date}
                    ),
                    "campaign": warehouse.merge(conn, "campaigns", registry.campaigns, "campaign"),
                    "campaign_term": warehouse.merge(conn, "campaign_terms", registry.campaign_terms(), "campaign_term"),
                }
                audit.counts["rows_loaded"] = sum(counts.values())
        log.info("registry synced", **run.log_extra(**counts))
        return counts
    finally:
        warehouse.dispose()


# -- social_metrics ------------------------------------------------------------------------
#
# Each step reads as the DAG does: plan the shards; for one shard, extract (plan its accounts, read the posts
# already known, open the night's budget, call the platform, write the outcomes), parse and validate, load.
# The audit row in etl_run is written by ``_step`` around each of them.


@contextmanager
def _step(settings: Settings, run: RunContext, task_id: str, platform: str, shard: int) -> Iterator[tuple[Warehouse, TaskAudit]]:
    """The warehouse and the ``etl_run`` audit of one task of a shard (disposed and written however it ends).

    etl_run rows of the social steps carry the Airflow task id, ``collect_<platform>.<step>``: every platform's
    shards are numbered from 0, so the bare step name would make platforms overwrite each other's audit rows.
    """
    warehouse = open_warehouse(settings)
    audit = TaskAudit(task_id, map_index=shard, source=platform, shard=shard_part(platform, shard))
    try:
        with audited(warehouse, run, audit):
            yield warehouse, audit
    finally:
        warehouse.dispose()


def shard_part(platform: str, shard: int) -> str:
    """The shard's name in landing paths, staging folders, quarantine keys and the audit."""
    return f"{platform}-{shard:03d}"


def plan_shards(platform: str, run: RunContext, settings: Settings | None = None) -> list[dict[str, Any]]:
    """Split the platform's active accounts into shards of ``shard_size`` for mapped tasks."""
    settings = settings or load_settings()
    warehouse = open_warehouse(settings)
    try:
        (count,) = warehouse.query(
            "SELECT COUNT(*) FROM dim_account WHERE platform = :platform AND platform_account_id IS NOT NULL "
            "AND COALESCE(collected_by, 'api') = 'api' "
            "AND (active_from IS NULL OR active_from <= :day) AND (active_to IS NULL OR active_to >= :day)",
            {"platform": platform, "day": run.data_date},
        )[0]
    finally:
        warehouse.dispose()
    shards = max(1, -(-count // settings.shard_size))
    return [{"platform": platform, "shard": i, "shards": shards} for i in range(shards)]


def plan_accounts(warehouse: Warehouse, platform: str, shard: int, shards: int, day: date) -> list[AccountRef]:
    """The shard's accounts, those deferred yesterday (budget spent) first."""
    rows = warehouse.query(
        "SELECT a.account_key, a.platform_account_id, "
        "CASE WHEN c.status = 'deferred' THEN 0 ELSE 1 END AS deferred_last, a.handle "
        "FROM dim_account a LEFT JOIN etl_account_coverage c "
        "ON c.account_key = a.account_key AND c.snapshot_date = :previous_day "
        "WHERE a.platform = :platform AND a.platform_account_id IS NOT NULL AND COALESCE(a.collected_by, 'api') = 'api' "
        "AND (a.active_from IS NULL OR a.active_from <= :day) AND (a.active_to IS NULL OR a.active_to >= :day) "
        "ORDER BY a.account_key",
        {"platform": platform, "day": day, "previous_day": day - timedelta(days=1)},
    )
    size = -(-len(rows) // shards) if rows else 0
    mine = rows[shard * size : (shard + 1) * size]
    mine.sort(key=lambda r: (r[2], r[0]))
    return [AccountRef(r[0], r[1], (r[3] or '').lstrip('@') or None) for r in mine]


def read_known_posts(warehouse: Warehouse, platform: str, run: RunContext, repull_days: int) -> list[tuple[str, str]]:
    """(post id, account id) of the platform's live posts published within the re-pull window before the read time."""
    rows = warehouse.query(
        "SELECT p.platform_post_id, a.platform_account_id FROM dim_post p "
        "JOIN dim_account a ON a.account_key = p.account_key "
        "WHERE p.platform = :platform AND p.is_deleted = FALSE AND p.published_at >= :since AND p.published_at <= :until",
        {
            "platform": platform,
            "since": (run.as_of - timedelta(days=repull_days)).astimezone(UTC).replace(tzinfo=None),
            "until": run.as_of.astimezone(UTC).replace(tzinfo=None),  # a backfill must not ask for later posts
        },
    )
    return [(r[0], r[1]) for r in rows]


def platform_endpoint(platform: Platform, accounts: list[AccountRef]) -> Endpoint:
    """Base URL and secret of the platform's connection; a clear error when the secret is missing."""
    endpoint = platform.endpoint()
    # A platform with no registered accounts makes no call, so it needs no credentials either.
    if not endpoint.secret and accounts and not platform.secret_checked_by_source:
        raise ValueError(
            f"source={platform.name}: no API key; set the password of Airflow connection '{platform.conn_id}' "
            f"or the environment variable {platform.secret_env}"
        )
    return endpoint


def open_budget(
    warehouse: Warehouse, platform: Platform, settings: Settings, run: RunContext, shards: int, secret: str | None, client: ApiClient
) -> SharedBudget:
    """The night's allowance of the platform, claimed live by every shard (etl/budget.py), with its monthly read cap."""
    reads_left = None
    cap = settings.monthly_read_cap(platform.name)
    if cap is not None:
        # Posts read earlier this month = post snapshots loaded on earlier days of the month.
        (read,) = warehouse.query(
            "SELECT COUNT(*) FROM fact_post_metrics_daily WHERE platform = :platform "
            "AND snapshot_date >= :month_start AND snapshot_date < :day",
            {"platform": platform.name, "month_start": run.data_date.replace(day=1), "day": run.data_date},
        )[0]
        reads_left = max(0, cap - int(read))
    return SharedBudget(
        platform.name, settings.budget_for(platform.name, platform.default_budget), connection=platform.conn_id,
        credential=credential_fingerprint(secret), max_wait=client.max_wait, sleep=client.sleep,
        warehouse=warehouse, run_id=run.run_id, shards=shards, reads_left=reads_left,
    )


def write_outcomes(landing_file: UPath, platform: str, accounts: list[AccountRef], result: Extraction) -> UPath:
    """What happened to each account of the shard, beside its landing file (on the shared storage), for the load step."""
    outcomes_file = landing_file.with_name(landing_file.name.replace(".jsonl.gz", ".outcomes.json"))
    write_text(
        outcomes_file,
        json.dumps(
            {
                "platform": platform,
                "accounts": {a.account_key: a.platform_account_id for a in accounts},
                "outcomes": {k: asdict(v) for k, v in result.outcomes.items()},
                "api_calls": result.api_calls,
                "api_retries": result.retries,
                "quota_units": result.units,
            },
            indent=1,
        ),
    )
    return outcomes_file


def extract_shard(platform: str, shard: int, shards: int, run: RunContext, settings: Settings | None = None) -> dict[str, Any]:
    """Call the platform for one shard of accounts; land every response; return the landing and outcomes locations.

    Locations are strings (a path, or an object-store URL under PANTAU_STORAGE_URL), so the next step may run on
    another worker."""
    settings = settings or load_settings()
    target = get_platform(platform)
    part = shard_part(platform, shard)
    with _step(settings, run, f"collect_{platform}.extract", platform, shard) as (warehouse, audit):
        accounts = plan_accounts(warehouse, platform, shard, shards, run.data_date)
        known = read_known_posts(warehouse, platform, run, settings.repull_days)
        endpoint = platform_endpoint(target, accounts)
        landing_file = landing_path(settings.storage / "landing", platform, run.data_date, run.run_id, part)
        with LandingWriter(landing_file, source=platform) as landing:  # the step's warehouse is held open (open_warehouse)
            client = ApiClient(
                source=platform, timeout=settings.http_timeout, max_attempts=settings.http_max_attempts,
                secrets=(endpoint.secret,), on_response=landing.write,
                concurrency=settings.concurrency_for(platform, target.concurrency),
            )
            budget = open_budget(warehouse, target, settings, run, shards, endpoint.secret, client)
            source = target.make_source(client, endpoint.base_url, endpoint.secret or "", budget, landing)
            try:
                result = source.extract(accounts, as_of=run.as_of, repull_days=settings.repull_days, known_posts=known)
            finally:
                budget.close()
            refused = next((o.message for o in result.outcomes.values() if refuses_platform(asdict(o), target.conn_id)), None)
            if refused:
                # The platform's other shards (and the other platform on a shared Meta token) stop before calling.
                budget.refuse(refused)
        outcomes_file = write_outcomes(landing_file, platform, accounts, result)
        _audit_extraction(audit, result, landing.lines, len(accounts))
        log.info("extracted", **run.log_extra(source=platform, shard=part, api_calls=result.api_calls,
                                              failed_accounts=sum(o.status != "ok" for o in result.outcomes.values())))
        return {"platform": platform, "part": part, "shard": shard, "landing": str(landing_file), "outcomes": str(outcomes_file)}


def _audit_extraction(audit: TaskAudit, result: Extraction, lines: int, accounts: int) -> None:
    audit.counts.update(api_calls=result.api_calls, api_retries=result.retries, rows_extracted=lines)
    failed = {k: v for k, v in result.outcomes.items() if v.status != "ok"}
    if failed:
        audit.status = "partial"
        audit.message = f"{len(failed)} of {accounts} accounts not collected: " + "; ".join(
            f"{k}: {v.status}" for k, v in list(failed.items())[:5]
        )


def _record_key(frame: str, row: pd.Series) -> str:
    """The row's natural key, or ``record:<hash>`` of its raw record when a key column is missing: three
    malformed items are three quarantine rows, and the same item quarantined again keeps its key."""
    values = [row.get(c) for c in FRAME_KEYS.get(frame, [])]
    if values and all(v is not None and v is not pd.NA and v == v for v in values):
        return "|".join(str(v) for v in values)
    return "record:" + hashlib.sha256(str(row.get("record")).encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _latest_per_key(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """A retried call lands the same item twice: the last answer is the freshest. Rows missing a key column are not
    one item: each is kept (only exact repeats of the same raw record collapse), for quarantine to hold them all."""
    keyed = df[keys].notna().all(axis=1)
    complete = df[keyed].drop_duplicates(subset=keys, keep="last")
    partial = df[~keyed].drop_duplicates(subset=["record"], keep="last")
    return pd.concat([complete, partial]).sort_index().reset_index(drop=True)


def _with_account_keys(name: str, df: pd.DataFrame, accounts: dict[str, str], post_accounts: dict[str, str]) -> pd.DataFrame:
    """The registry's account key on every row: by the platform's account id, or for metrics by their post's account."""
    if name in ("account_snapshots", "posts"):
        df.insert(0, "account_key", df["platform_account_id"].map(accounts))
    elif name == "post_metrics":
        df.insert(0, "account_key", df["platform_post_id"].map(post_accounts))
    return df


def _quarantine_rows(name: str, bad: pd.DataFrame, run: RunContext, platform: str, part: str, landing: UPath) -> pd.DataFrame:
    rows = pd.DataFrame(
        {
            "data_date": run.data_date,
            "source": platform,
            "frame": name,
            "part": part,
            "record_key": [_record_key(name, r) for _, r in bad.iterrows()],
            "run_id": run.run_id,
            "account": bad["account_key"].tolist(),
            "failed_expectations": bad["failed_expectations"].tolist(),
            "parse_issue": bad["parse_issue"].tolist(),
            "record": bad["record"].tolist(),
            "landing_file": str(landing),
        }
    )
    # The same raw item landed twice (a retried call) is one quarantine row.
    return rows.drop_duplicates(subset=["record_key"], keep="last").reset_index(drop=True)


def _text_repairs(audit: TaskAudit, name: str, df: pd.DataFrame, platform: str, part: str, run: RunContext) -> None:
    """Rows whose text was repaired stay valid; the audit says how many, and the log names them."""
    repaired = df[df["text_repairs"].notna()] if "text_repairs" in df.columns else df.iloc[0:0]
    if not len(repaired):
        return
    keys = [_record_key(name, r) for _, r in repaired.head(5).iterrows()]
    note = f"{name}: text repaired in {len(repaired)} row(s) ({', '.join(keys)}: {repaired['text_repairs'].iloc[0]})"
    audit.message = f"{audit.message}; {note}" if audit.message else note
    log.warning("text repaired", **run.log_extra(source=platform, shard=part, frame=name, rows=len(repaired), keys=keys))


def _count_checked(audit: TaskAudit, valid: int, quarantined: int, total: int) -> None:
    for name, n in (("rows_valid", valid), ("rows_quarantined", quarantined), ("rows_extracted", total)):
        audit.counts[name] = audit.counts.get(name, 0) + n


def parse_validate_shard(extracted: dict[str, Any], run: RunContext, settings: Settings | None = None) -> dict[str, Any]:
    """Parse a landing file into frames, validate each with its suite, quarantine bad rows.

    Valid frames are written as Parquet under ``staging/`` for the load step.
    """
    settings = settings or load_settings()
    platform, part = extracted["platform"], extracted["part"]
    landing = locate(extracted["landing"])
    outcome = json.loads(read_text(locate(extracted["outcomes"])))
    account_by_platform_id = {v: k for k, v in outcome["accounts"].items()}
    frames = parse_landing(landing, platform, run.data_date, run.as_of)
    out_dir = settings.storage / "staging" / platform / run.data_date.isoformat() / safe_name(run.run_id) / part
    written: dict[str, str] = {}
    quarantine: list[pd.DataFrame] = []
    gate_error: QualityGateFailed | None = None
    with _step(settings, run, f"collect_{platform}.parse_validate", platform, extracted["shard"]) as (warehouse, audit):
        post_accounts: dict[str, str] = {}
        for name, df in iter_frames(frames):
            if name in FRAME_KEYS:
                df = _latest_per_key(df, FRAME_KEYS[name])
                df = _with_account_keys(name, df, account_by_platform_id, post_accounts)
                checked, failed = validate_or_hold(name, df, max_bad_share=settings.max_quarantine_share, source=f"{platform} {part}")
                gate_error = gate_error or failed
                if len(checked.quarantined):
                    quarantine.append(_quarantine_rows(name, checked.quarantined, run, platform, part, landing))
                _text_repairs(audit, name, checked.valid, platform, part, run)
                df = checked.valid.drop(columns=["parse_issue", "record"])
                if name == "posts":
                    # Metrics follow their post: a quarantined post takes its snapshot to quarantine too.
                    post_accounts = dict(zip(df["platform_post_id"], df["account_key"], strict=True))
                _count_checked(audit, len(df), len(checked.quarantined), checked.total)
            target = out_dir / f"{name}.parquet"
            write_parquet(df, target)
            written[name] = str(target)
        with warehouse.transaction() as conn:
            # Even an empty quarantine is merged: a rerun that fixed the rows clears them.
            rows = pd.concat(quarantine, ignore_index=True) if quarantine else _empty_quarantine(run, platform, part)
            warehouse.merge(conn, "quarantine", rows, "etl_quarantine")
        if gate_error is not None:
            raise gate_error
        return {**extracted, "frames": written, "counts": dict(audit.counts)}


def _empty_quarantine(run: RunContext, platform: str, part: str) -> pd.DataFrame:
    # One sentinel key per frame lets the merge's DELETE clear the part; the sentinel itself is not inserted.
    return pd.DataFrame(
        {
            "data_date": [run.data_date] * len(FRAME_KEYS),
            "source": platform,
            "frame": list(FRAME_KEYS),
            "part": part,
            "record_key": None,
            "run_id": run.run_id,
            "account": None,
            "failed_expectations": None,
            "parse_issue": None,
            "record": None,
            "landing_file": None,
        }
    )


def _coverage(outcome: dict[str, Any], platform: str, day: date) -> pd.DataFrame:
    """The shard's coverage ledger: one row per account with its status and message."""
    return pd.DataFrame(
        [
            {"account_key": key, "snapshot_date": day, "platform": platform, "status": o["status"], "message": o["message"]}
            for key, o in outcome["outcomes"].items()
        ],
        columns=["account_key", "snapshot_date", "platform", "status", "message"],
    )


def merge_shard(warehouse: Warehouse, conn: Any, frames: dict[str, pd.DataFrame], coverage: pd.DataFrame, day: date) -> dict[str, int]:
    """A shard's frames and coverage ledger merged inside the caller's transaction; rows staged per table."""
    return {
        "dim_post": warehouse.merge(conn, "posts", frames["posts"], "dim_post", {"snapshot_date": day}),
        "fact_account_daily": warehouse.merge(conn, "account_snapshots", frames["account_snapshots"], "fact_account_daily"),
        "fact_post_metrics_daily": warehouse.merge(conn, "post_metrics", frames["post_metrics"], "fact_post_metrics_daily"),
        "post_deletions": warehouse.merge(conn, "post_deletions", frames["post_deletions"], "post_deletions"),
        "etl_account_coverage": warehouse.merge(conn, "account_coverage", coverage, "etl_account_coverage"),
    }


def load_shard(validated: dict[str, Any], run: RunContext, settings: Settings | None = None) -> dict[str, int]:
    """Merge a shard's valid frames and its coverage ledger into the warehouse, in one transaction."""
    settings = settings or load_settings()
    platform, part = validated["platform"], validated["part"]
    frames = {name: read_parquet(locate(path)) for name, path in validated["frames"].items()}
    outcome = json.loads(read_text(locate(validated["outcomes"])))
    coverage = _coverage(outcome, platform, run.data_date)
    with _step(settings, run, f"collect_{platform}.load", platform, validated["shard"]) as (warehouse, audit):
        audit.counts.update(validated.get("counts", {}))
        audit.counts.update(api_calls=outcome["api_calls"], api_retries=outcome["api_retries"])
        with warehouse.transaction() as conn:
            loaded = merge_shard(warehouse, conn, frames, coverage, run.data_date)
            audit.counts["rows_loaded"] = loaded["dim_post"] + loaded["fact_account_daily"] + loaded["fact_post_metrics_daily"]
            not_ok = int((coverage["status"] != "ok").sum())
            if not_ok:
                audit.status = "partial"
                audit.message = f"{not_ok} of {len(coverage)} accounts not collected (see etl_account_coverage)"
        log.info("loaded", **run.log_extra(source=platform, shard=part, **loaded))
        conn_id = get_platform(platform).conn_id
        refused = [o["message"] for o in outcome["outcomes"].values() if refuses_platform(o, conn_id)]
        if refused:
            # What was read before the refusal and the ledger are committed; the task still fails, loudly and once.
            raise credentials_refused(platform, len(refused), len(coverage), refused[0])
    return loaded


def refuses_platform(outcome: dict[str, Any], conn_id: str) -> bool:
    """An account outcome that means the platform's own connection was refused, not one account's token
    (a TikTok Display user token, connection ``tiktok_display``, is one account owner's problem only)."""
    return outcome["status"] == "token_expired" and outcome.get("connection") == conn_id


def credentials_refused(platform: str, refused: int, accounts: int, message: str) -> CredentialsRejected:
    """The error a load raises after committing a shard whose credentials were refused (message names the connection)."""
    error = CredentialsRejected("", source=platform)
    error.args = (f"{refused} of {accounts} accounts recorded token_expired in etl_account_coverage "
                  f"(the rest of the shard is loaded): {message}",)
    return error


# -- agency_indicators ---------------------------------------------------------------------


#: Indicator models in sql/indicators, in the order they build on each other.
INDICATOR_MODELS = [
    "post_daily_increase",
    "agency_daily_indicators",
    "agency_daily_news",
    "agency_daily_activity",
    "agency_daily_ranking",
    "agency_daily_amplification",
    "campaign_post",
    "agency_campaign_daily",
    "agency_campaign_standings",
]


#: Tables whose planner statistics are refreshed (PostgreSQL) before the models, and after the model that fills them.
#: A day's agency_daily_indicators rows planned as one row (stale statistics: on the first night the table was
#: empty when last analyzed) made each later UPDATE .. FROM a nested loop that re-aggregated its subquery once per
#: agency row: a minute for 3,750 rows (issue 11); the models' own tables are analyzed before the next model reads them.
#: Before: what the night loaded, and the registry and news tables the models join (never analyzed on a first night,
#: dim_account was planned as 4 rows instead of 2,000: amplification nested-looped for over 13 minutes).
STATISTICS_BEFORE = ["dim_post", "fact_post_metrics_daily", "fact_account_daily", "etl_account_coverage",
                     "dim_agency", "dim_account", "campaign", "campaign_term", "fact_news_article", "fact_news_mention"]
STATISTICS_AFTER = {
    "post_daily_increase": ["fact_post_daily_increase"],
    "agency_daily_indicators": ["agency_daily_indicators"],
    "campaign_post": ["campaign_post"],
    "agency_campaign_daily": ["agency_campaign_daily"],
}


#: How far after a recomputed day later days' indicators are recomputed too (they read earlier days: the previous
#: day's counters, 48 h of amplification, 7 days of standings, which chain on).
LATER_DAYS_RECOMPUTED = 35


def indicator_params(day: date, settings: Settings) -> dict[str, Any]:
    """The parameters of the indicator models (sql/indicators) for computing ``day``."""
    return {
        "day": day,
        "previous_day": day - timedelta(days=1),
        "amplification_day": day - timedelta(days=2),
        "standings_since": day - timedelta(days=7),
        "lookback_start": day - timedelta(days=settings.repull_days + 30),
    }


def prepare_indicator_session(warehouse: Warehouse, conn: sa.engine.Connection) -> None:
    """Before the models, in their transaction: fresh planner statistics and no JIT (PostgreSQL)."""
    if warehouse.dialect == "postgresql":
        # JIT compiled each model's plan for up to 1.4 s of CPU at a year of history, more than it saved on
        # statements that read a day.
        conn.execute(sa.text("SET LOCAL jit = off"))
    # Without fresh statistics PostgreSQL plans the night's joins as if the new rows did not exist.
    warehouse.refresh_statistics(conn, STATISTICS_BEFORE)


def compute_indicators(run: RunContext, settings: Settings | None = None) -> int:
    """(Re)compute every indicator model for the run's day in one transaction; returns agency_daily_indicators rows.

    Days may be loaded in any order (backfills, a late shard) or at once: later days that already have indicators
    (up to :data:`LATER_DAYS_RECOMPUTED` days on) are recomputed in the same transaction, in date order, and on
    PostgreSQL one computation runs at a time (advisory lock), so the warehouse ends as if the days had been
    loaded in order.
    """
    settings = settings or load_settings()
    warehouse = open_warehouse(settings)
    audit = TaskAudit("compute_indicators", source="warehouse")
    day = run.data_date
    try:
        with audited(warehouse, run, audit), warehouse.transaction() as conn:
            if warehouse.dialect == "postgresql":
                conn.execute(sa.text("SET LOCAL lock_timeout = 0"))  # waiting for the other computation is expected
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": INDICATOR_LOCK})
            prepare_indicator_session(warehouse, conn)
            later = [r[0] for r in conn.execute(
                sa.text("SELECT DISTINCT indicator_date FROM agency_daily_indicators "
                        "WHERE indicator_date > :day AND indicator_date <= :until ORDER BY indicator_date"),
                {"day": day, "until": day + timedelta(days=LATER_DAYS_RECOMPUTED)},
            )]
            for when in [day, *later]:
                for model in INDICATOR_MODELS:
                    warehouse.run_file(conn, f"indicators/{model}", indicator_params(when, settings))
                    warehouse.refresh_statistics(conn, STATISTICS_AFTER.get(model, []))
            rows = warehouse.scalar(conn, "SELECT COUNT(*) FROM agency_daily_indicators WHERE indicator_date = :day", {"day": day})
            audit.counts["rows_loaded"] = rows
            if later:
                audit.message = f"later days recomputed: {', '.join(str(d) for d in later)}"
        log.info("indicators computed", **run.log_extra(rows=rows, later_days=[str(d) for d in later]))
        return int(rows)
    finally:
        warehouse.dispose()
