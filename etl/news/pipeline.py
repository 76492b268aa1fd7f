"""The news_mentions steps, callable without Airflow: extract -> transform_validate -> load.

* ``extract_news`` fetches every enabled feed (conditional GET) and runs the
  GDELT queries, landing every response raw; the items go to a Parquet file.
* ``transform_news`` de-duplicates by canonical URL, clusters syndicated
  copies against the batch and the warehouse's recent articles, matches
  agencies, scores sentiment, computes each feed's health, and validates the
  article and mention frames with their Great Expectations suites
  (bad rows to ``etl_quarantine``).
* ``load_news`` merges outlets, articles, mentions and feed health in one transaction.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
import structlog
from upath import UPath

from etl.connections import resolve_endpoint
from etl.http import ApiClient
from etl.landing import LandingWriter, landing_path, safe_name
from etl.news.dedupe import DEFAULT_THRESHOLD, SKETCH_VERSION, ClusterStats, Doc, SketchCache, Sketches, cluster
from etl.news.matching import ROLES, AgencyMatcher, Match, primary_role
from etl.news.sentiment import load_lexicon, score, sentences_around
from etl.news.sources import (
    GDELT_DEFAULT_URL,
    USER_AGENT,
    FetchResult,
    fetch_feed,
    fetch_gdelt,
    gdelt_queries,
    outlet_code_for_domain,
    read_feed_list,
)
from etl.news.tone import METHOD as TONE_METHOD
from etl.news.tone import tones
from etl.pipeline import open_warehouse
from etl.quality import validate_or_hold
from etl.registry import read_agencies, read_aliases
from etl.runtime import JAKARTA, RunContext, TaskAudit, audited
from etl.settings import Settings, _float, _int, _path, load_settings
from etl.storage import is_local, locate, read_parquet, read_text, write_parquet, write_text
from etl.warehouse import Warehouse

log = structlog.get_logger(__name__)
FRAMES = ("news_articles", "news_mentions")
FRAME_KEYS = {"news_articles": ["article_id"], "news_mentions": ["article_id", "agency_code"]}


@dataclass(frozen=True)
class NewsSettings:
    """The news knobs (README, "Settings"); read with :func:`load_news_settings`."""

    feeds_file: Path
    user_lexicon: Path | None
    gdelt_enabled: bool
    gdelt_pacing_seconds: float
    gdelt_group_size: int
    gdelt_lookback_hours: int
    feed_max_failures: int
    cluster_days: int
    duplicate_threshold: float


def load_news_settings(settings: Settings | None = None) -> NewsSettings:
    settings = settings or load_settings()
    lexicon = os.environ.get("PANTAU_NEWS_LEXICON")
    return NewsSettings(
        feeds_file=_path("PANTAU_NEWS_FEEDS_FILE", settings.registry_dir / "news_feeds.csv"),
        user_lexicon=Path(lexicon) if lexicon else None,
        gdelt_enabled=os.environ.get("PANTAU_GDELT_ENABLED", "1") not in ("0", "false", "False"),
        gdelt_pacing_seconds=_float("PANTAU_GDELT_PACING_SECONDS", 5.0),
        gdelt_group_size=_int("PANTAU_GDELT_GROUP_SIZE", 20),
        gdelt_lookback_hours=_int("PANTAU_GDELT_LOOKBACK_HOURS", 24),
        feed_max_failures=_int("PANTAU_NEWS_FEED_MAX_FAILURES", 5),
        cluster_days=_int("PANTAU_NEWS_CLUSTER_DAYS", 3),
        duplicate_threshold=_float("PANTAU_NEWS_DUPLICATE_THRESHOLD", DEFAULT_THRESHOLD),
    )


def _run_dir(settings: Settings, run: RunContext) -> UPath:
    # On the shared storage (etl/storage.py): the next task may run on another worker.
    return settings.storage / "staging" / "news" / run.data_date.isoformat() / safe_name(run.run_id)


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


def _sketch_file(settings: Settings, day: date) -> UPath:
    return settings.storage / "cache" / "news_sketches" / f"{day.isoformat()}.{SKETCH_VERSION}.parquet"


def _read_sketch_file(path: UPath, run: RunContext) -> Sketches | None:
    try:
        with path.open("rb") as fh:
            return Sketches.read(fh)
    except FileNotFoundError:
        return None
    except Exception as exc:  # noqa: BLE001 - a cache that cannot be read is computed again, never fatal
        log.warning("news sketches unreadable; their articles are sketched again",
                    **run.log_extra(file=str(path), error=f"{type(exc).__name__}: {exc}"[:300]))
        return None


def read_sketches(settings: Settings, run: RunContext, cluster_days: int) -> SketchCache:
    """The sketches the nights of the clustering window wrote (and this night's, on a rerun).

    They only spare work: a file that is missing, of another version or unreadable is skipped (with a warning
    when it cannot be read), and its articles are sketched again.
    """
    days = [run.data_date - timedelta(days=back) for back in range(cluster_days + 1, -1, -1)]  # oldest first: the latest wins
    return SketchCache(part for day in days if (part := _read_sketch_file(_sketch_file(settings, day), run)) is not None)


def write_sketches(settings: Settings, run: RunContext, computed: Sketches, cluster_days: int) -> None:
    """Add this night's sketches to its file, for the next nights; remove the files no later night reads.

    A file that cannot be written costs the next night the work it would have spared: a warning, not a failure.
    """
    path = _sketch_file(settings, run.data_date)
    try:
        # A rerun keeps the first run's sketches: the articles it loaded are in the window now, and not sketched again.
        merged = Sketches.concat([part for part in (_read_sketch_file(path, run), computed) if part is not None])
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial") if is_local(path) else path  # an object appears when complete
        with partial.open("wb") as fh:
            merged.write(fh)
        if partial != path:
            partial.replace(path)
        oldest_read = (run.data_date - timedelta(days=cluster_days + 1)).isoformat()
        for old in path.parent.iterdir():
            if old.name[:10] < oldest_read:  # ISO dates sort as text; a killed write's .partial goes too
                old.unlink(missing_ok=True)
    except Exception as exc:  # noqa: BLE001 - a cache that cannot be written is computed again, never fatal
        log.warning("news sketches not written; the next night sketches these articles again",
                    **run.log_extra(file=str(path), error=f"{type(exc).__name__}: {exc}"[:300]))


# -- extract -------------------------------------------------------------------------------


def extract_news(run: RunContext, settings: Settings | None = None, news: NewsSettings | None = None) -> dict[str, Any]:
    """Fetch feeds and GDELT; land every response; write the items and each fetch's outcome."""
    settings = settings or load_settings()
    news = news or load_news_settings(settings)
    feeds_base = resolve_endpoint("news_feeds", default_base_url="", base_env="PANTAU_NEWS_FEEDS_BASE", secret_env="PANTAU_NEWS_FEEDS_SECRET").base_url
    feeds = read_feed_list(news.feeds_file, feeds_base or None)
    warehouse = open_warehouse(settings)
    audit = TaskAudit("extract", source="news")
    out_dir = _run_dir(settings, run)
    try:
        with audited(warehouse, run, audit):
            health = {r[0]: r for r in warehouse.query("SELECT feed_url, etag, last_modified, is_disabled FROM etl_news_feed_health")}
            # The run's read time, not the wall clock: a rerun of the interval must write the same rows.
            fetched_at = run.as_of
            results: list[dict[str, Any]] = []
            items: list[dict[str, Any]] = []
            calls = retries = 0
            feed_path = landing_path(settings.storage / "landing", "feeds", run.data_date, run.run_id, "feeds")
            with LandingWriter(feed_path, source="feeds") as landing:
                client = ApiClient(
                    source="feeds", timeout=settings.http_timeout, max_attempts=min(settings.http_max_attempts, 3),
                    headers={"User-Agent": USER_AGENT}, on_response=landing.write,
                )
                for spec in feeds:
                    state = health.get(spec.feed_url)
                    if state is not None and state[3]:
                        results.append({"origin": spec.feed_url, "kind": "feed", "status": "disabled", "outlet_code": spec.outlet_code})
                        continue
                    landing.context = {"feed": spec.feed_url, "outlet": spec.outlet_code}
                    result = fetch_feed(
                        client, spec, etag=state[1] if state else None, last_modified=state[2] if state else None, fetched_at=fetched_at
                    )
                    results.append(_result_record(result, "feed", spec.outlet_code))
                    items += [asdict(i) for i in result.items]
                calls, retries = client.calls, client.retries
            gdelt_file = None
            if news.gdelt_enabled:
                gdelt_file = landing_path(settings.storage / "landing", "gdelt", run.data_date, run.run_id, "gdelt")
                aliases = _valid_aliases(settings, run)
                queries = gdelt_queries(aliases, group_size=news.gdelt_group_size)
                endpoint = resolve_endpoint("gdelt_api", default_base_url=GDELT_DEFAULT_URL, base_env="PANTAU_GDELT_BASE", secret_env="PANTAU_GDELT_SECRET")
                with LandingWriter(gdelt_file, source="gdelt") as landing:
                    client = ApiClient(
                        source="gdelt", timeout=settings.http_timeout, max_attempts=settings.http_max_attempts,
                        # A 429 from GDELT means "one request per 5 seconds": back off at least that long.
                        backoff_base=max(0.5, news.gdelt_pacing_seconds), headers={"User-Agent": USER_AGENT}, on_response=landing.write,
                    )
                    domains = {f.domain: f.outlet_code for f in feeds if f.domain}
                    start = _naive_utc(run.as_of) - timedelta(hours=news.gdelt_lookback_hours)
                    for result in fetch_gdelt(
                        client, endpoint.base_url, queries, start=start, end=_naive_utc(run.as_of),
                        pacing_seconds=news.gdelt_pacing_seconds, outlets=domains,
                    ):
                        results.append(_result_record(result, "gdelt", None))
                        items += [asdict(i) for i in result.items]
                    calls, retries = calls + client.calls, retries + client.retries
            frame = pd.DataFrame(items, columns=[
                "source", "origin", "outlet_code", "outlet_name", "url", "canonical_url", "article_id", "title", "summary",
                "published_at", "guid", "language", "published_estimated", "text_repairs",
            ])
            items_file = out_dir / "items.parquet"
            write_parquet(frame, items_file)
            results_file = out_dir / "fetches.json"
            write_text(
                results_file,
                json.dumps({"fetched_at": fetched_at.isoformat(), "feeds": [asdict(f) for f in feeds], "results": results}, indent=1, default=str),
            )
            failed = [r for r in results if r["status"] == "failed"]
            audit.counts.update(rows_extracted=len(frame), api_calls=calls, api_retries=retries)
            if failed:
                audit.status = "partial"
                audit.message = f"{len(failed)} of {len(results)} feeds/queries failed: " + "; ".join(
                    f"{r['origin']}: {(r.get('error') or '')[:120]}" for r in failed[:3]
                )
            log.info("news extracted", **run.log_extra(items=len(frame), fetches=len(results), failed=len(failed)))
            return {"items": str(items_file), "fetches": str(results_file), "landing": [str(feed_path), str(gdelt_file) if gdelt_file else None]}
    finally:
        warehouse.dispose()


def _result_record(result: FetchResult, kind: str, outlet_code: str | None) -> dict[str, Any]:
    return {
        "origin": result.origin, "kind": kind, "outlet_code": outlet_code, "status": result.status, "http_status": result.http_status,
        "items": [i.article_id for i in result.items], "problems": result.problems, "error": result.error,
        "etag": result.etag, "last_modified": result.last_modified,
    }


def _valid_aliases(settings: Settings, run: RunContext) -> list[tuple[str, str]]:
    agencies = read_agencies(settings.registry_dir / "agencies.csv")
    aliases = read_aliases(settings.registry_dir / "agency_aliases.csv", set(agencies["agency_code"]))
    day = run.data_date
    valid = aliases[
        (aliases["valid_from"].isna() | (aliases["valid_from"] <= day)) & (aliases["valid_to"].isna() | (aliases["valid_to"] >= day))
        & aliases["kind"].isin(["name", "short", "former_name"])
    ]
    return list(zip(valid["agency_code"], valid["alias"], strict=True))


# -- transform + validate --------------------------------------------------------------------


def _existing(warehouse: Warehouse, ids: list[str]) -> dict[str, tuple[str, str | None, float | None, str | None]]:
    """Articles already loaded: their cluster (which stays) and summary (a GDELT sighting has none)."""
    found: dict[str, tuple[str, str | None, float | None, str | None]] = {}
    statement = sa.text(
        "SELECT article_id, cluster_id, duplicate_of, similarity, summary FROM fact_news_article WHERE article_id IN :ids"
    ).bindparams(sa.bindparam("ids", expanding=True))
    with warehouse.engine.connect() as conn:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            if chunk:
                found.update({r[0]: (r[1], r[2], r[3], r[4]) for r in conn.execute(statement, {"ids": chunk})})
    return found


#: The columns of a news mention row (fact_news_mention), in order.
MENTION_COLUMNS = [
    "article_id", "agency_code", "published_on", "alias", "position", "mentions", "confidence", "method", "sentiment",
    "mention_role", "roles", "unit_words", "tone", "tone_score", "tone_method",
]


def mention_rows(article_id: str, published_on: Any, text: str, matches: list[Match], lexicon: Any) -> list[dict[str, Any]]:
    """One row per agency named in the text: its best alias, first position, count, roles, and its tone.

    ``mention_role`` is the first of institution, head, deputy, unit among the roles the article names the
    agency in (so rows with ``mention_role = 'institution'`` are the articles naming the institution
    itself); ``roles`` lists them all; ``tone`` is the mention's tone toward the agency (etl.news.tone),
    ``sentiment`` the lexicon score of its sentences, kept for continuity.
    """
    by_agency: dict[str, list[Match]] = {}
    for m in matches:
        by_agency.setdefault(m.agency_code, []).append(m)
    rows = []
    toward = tones(text, matches)
    scored: dict[str, float] = {}  # agencies named in the same sentences share their context, and its score
    for code, found in sorted(by_agency.items()):
        best = max(found, key=lambda m: (m.confidence, -m.start))
        context = sentences_around(text, [(m.start, m.end) for m in found])
        if context not in scored:
            scored[context] = score(context, lexicon).score
        roles = {m.role for m in found}
        tone = toward[code]
        rows.append({
            "article_id": article_id, "agency_code": code, "published_on": published_on, "alias": best.alias,
            "position": min(m.start for m in found), "mentions": len(found), "confidence": best.confidence, "method": best.method,
            "sentiment": scored[context], "mention_role": primary_role(roles),
            "roles": ",".join(r for r in ROLES if r in roles),
            "unit_words": "|".join(sorted({m.unit for m in found if m.unit})) or None,
            "tone": tone.label, "tone_score": tone.score, "tone_method": TONE_METHOD,
        })
    return rows


def transform_news(extracted: dict[str, Any], run: RunContext, settings: Settings | None = None, news: NewsSettings | None = None) -> dict[str, Any]:
    """De-duplicate, cluster, match, score, compute feed health, validate; write the frames for the load."""
    settings = settings or load_settings()
    news = news or load_news_settings(settings)
    items = read_parquet(locate(extracted["items"]))
    fetches = json.loads(read_text(locate(extracted["fetches"])))
    fetched_at = datetime.fromisoformat(fetches["fetched_at"])
    out_dir = _run_dir(settings, run)
    warehouse = open_warehouse(settings)
    audit = TaskAudit("transform_validate", source="news")
    try:
        with audited(warehouse, run, audit):
            # A feed's own copy wins over GDELT's (it has a summary), then the earliest sighting.
            items = items.assign(_rank=(items["source"] != "feed").astype(int)).sort_values(["article_id", "_rank", "published_at"])
            articles = items.drop_duplicates("article_id", keep="first").drop(columns="_rank").reset_index(drop=True)
            existing = _existing(warehouse, articles["article_id"].tolist())
            since = _naive_utc(run.as_of) - timedelta(days=news.cluster_days)
            recent = warehouse.query_df(
                "SELECT article_id, cluster_id, title, summary, published_at FROM fact_news_article WHERE published_at >= :since",
                {"since": since},
            )
            # A GDELT article has no summary: NULL comes back as NA, which `or ""` cannot test.
            docs = [Doc(r.article_id, r.published_at, r.title, r.summary if isinstance(r.summary, str) else "") for r in recent.itertuples(index=False)]
            new = articles[~articles["article_id"].isin(existing)]
            docs += [Doc(r.article_id, r.published_at, r.title, r.summary or "") for r in new.itertuples(index=False)]
            sketches = read_sketches(settings, run, news.cluster_days)
            stats = ClusterStats()
            clustered = {c.article_id: c for c in cluster(docs, threshold=news.duplicate_threshold, stats=stats, cache=sketches,
                                                          known=dict(zip(recent["article_id"], recent["cluster_id"], strict=True)))}
            write_sketches(settings, run, sketches.computed, news.cluster_days)
            log.info("news clustered", **run.log_extra(articles=stats.articles, sketched=stats.sketched,
                                                        sketches_reused=stats.articles - stats.sketched, copies=sum(1 for c in clustered.values() if c.duplicate_of)))
            matcher = AgencyMatcher.from_registry(settings.registry_dir)
            lexicon = load_lexicon(news.user_lexicon)
            article_rows, mentions = [], []
            for r in articles.itertuples(index=False):
                published_on = r.published_at.replace(tzinfo=UTC).astimezone(JAKARTA).date()
                summary = r.summary or None
                if r.article_id in existing:
                    cluster_id, duplicate_of, similarity, stored_summary = existing[r.article_id]
                    summary = summary or stored_summary  # matched on the same text as when first loaded
                else:
                    c = clustered.get(r.article_id)
                    cluster_id, duplicate_of, similarity = (c.cluster_id, c.duplicate_of, c.similarity) if c else (r.article_id, None, None)
                text = f"{r.title}\n{summary or ''}"
                article_rows.append({
                    "article_id": r.article_id, "canonical_url": r.canonical_url, "url": r.url, "outlet_code": r.outlet_code,
                    "source": r.source, "published_at": r.published_at, "published_on": published_on,
                    "published_estimated": bool(r.published_estimated), "title": r.title, "summary": summary,
                    "language": r.language, "cluster_id": cluster_id, "duplicate_of": duplicate_of, "similarity": similarity,
                    "sentiment": score(text, lexicon).score, "seen_at": _naive_utc(fetched_at),
                    "text_repairs": getattr(r, "text_repairs", None),
                })
                mentions += mention_rows(r.article_id, published_on, text, matcher.match(text, published_on), lexicon)
            frames = {
                "news_articles": pd.DataFrame(article_rows, columns=[
                    "article_id", "canonical_url", "url", "outlet_code", "source", "published_at", "published_on", "published_estimated",
                    "title", "summary", "language", "cluster_id", "duplicate_of", "similarity", "sentiment", "seen_at",
                    "text_repairs",
                ]),
                "news_mentions": pd.DataFrame(mentions, columns=MENTION_COLUMNS),
            }
            quarantine, gate_error, written = [], None, {}
            for name in FRAMES:
                df = frames[name]
                if name == "news_mentions":
                    df = df[df["article_id"].isin(frames["news_articles"]["article_id"])]
                checked, failed = validate_or_hold(name, df, max_bad_share=settings.max_quarantine_share, source=f"news {name}")
                gate_error = gate_error or failed
                bad = checked.quarantined
                if len(bad):
                    quarantine.append(pd.DataFrame({
                        "data_date": run.data_date, "source": "news", "frame": name, "part": "news",
                        "record_key": ["|".join(str(v) for v in row) for row in bad[FRAME_KEYS[name]].itertuples(index=False)],
                        "run_id": run.run_id, "account": bad["article_id"].tolist(),
                        "failed_expectations": bad["failed_expectations"].tolist(), "parse_issue": None,
                        "record": [json.dumps(rec, default=str, ensure_ascii=False) for rec in bad.drop(columns="failed_expectations").to_dict("records")],
                        "landing_file": ";".join(p for p in extracted["landing"] if p),
                    }))
                frames[name] = checked.valid
                audit.counts["rows_valid"] = audit.counts.get("rows_valid", 0) + len(checked.valid)
                audit.counts["rows_quarantined"] = audit.counts.get("rows_quarantined", 0) + len(bad)
            audit.counts["rows_extracted"] = len(items)
            # Mentions of a quarantined article go with it.
            frames["news_mentions"] = frames["news_mentions"][frames["news_mentions"]["article_id"].isin(frames["news_articles"]["article_id"])]
            frames["news_outlets"] = _outlets(fetches, frames["news_articles"], run)
            frames["news_feed_health"] = _feed_health(warehouse, fetches, set(existing), fetched_at, news.feed_max_failures)
            for name, df in frames.items():
                target = out_dir / f"{name}.parquet"
                write_parquet(df, target)
                written[name] = str(target)
            with warehouse.transaction() as conn:
                rows = pd.concat(quarantine, ignore_index=True) if quarantine else _empty_quarantine(run)
                warehouse.merge(conn, "quarantine", rows, "etl_quarantine")
            if gate_error is not None:
                raise gate_error
            log.info("news transformed", **run.log_extra(articles=len(frames["news_articles"]), mentions=len(frames["news_mentions"])))
            return {"frames": written, "counts": dict(audit.counts)}
    finally:
        warehouse.dispose()


def _empty_quarantine(run: RunContext) -> pd.DataFrame:
    # A sentinel per frame lets the merge's DELETE clear the part on a rerun; the sentinel is not inserted.
    return pd.DataFrame({
        "data_date": [run.data_date] * len(FRAMES), "source": "news", "frame": list(FRAMES), "part": "news", "record_key": None,
        "run_id": run.run_id, "account": None, "failed_expectations": None, "parse_issue": None, "record": None, "landing_file": None,
    })


def _outlets(fetches: dict[str, Any], articles: pd.DataFrame, run: RunContext) -> pd.DataFrame:
    listed = {f["outlet_code"]: f for f in fetches["feeds"]}
    rows = {}
    for code in sorted(set(articles["outlet_code"])):
        spec = listed.get(code)
        rows[code] = {
            "outlet_code": code, "name": spec["outlet_name"] if spec else code,
            "domain": (spec["domain"] if spec else outlet_code_for_domain(code)) or None,
            "province_code": spec["province_code"] if spec else None, "seen_on": run.data_date,
        }
    return pd.DataFrame(list(rows.values()), columns=["outlet_code", "name", "domain", "province_code", "seen_on"])


def _feed_health(warehouse: Warehouse, fetches: dict[str, Any], known_ids: set[str], fetched_at: datetime, max_failures: int) -> pd.DataFrame:
    previous = {
        r.feed_url: r
        for r in warehouse.query_df(
            "SELECT feed_url, last_success_at, last_new_item_at, consecutive_failures FROM etl_news_feed_health"
        ).itertuples(index=False)
    }
    now = _naive_utc(fetched_at)
    rows = []
    for r in fetches["results"]:
        if r["kind"] != "feed" or r["status"] == "disabled":
            continue  # a disabled feed keeps its row until an operator re-enables it
        prev = previous.get(r["origin"])
        ok = r["status"] in ("ok", "not_modified")
        failures = 0 if ok else (int(prev.consecutive_failures) if prev is not None else 0) + 1
        new_items = len(set(r["items"]) - known_ids)
        disabled = failures >= max_failures
        rows.append({
            "feed_url": r["origin"], "outlet_code": r["outlet_code"], "last_status": r["status"], "last_http_status": r["http_status"],
            "last_checked_at": now,
            "last_success_at": now if ok else (prev.last_success_at if prev is not None else None),
            "last_new_item_at": now if new_items else (prev.last_new_item_at if prev is not None else None),
            "consecutive_failures": failures, "is_disabled": disabled,
            "disabled_reason": f"disabled after {failures} consecutive failures; last error: {r['error']}"[:1000] if disabled else None,
            "etag": r["etag"], "last_modified": r["last_modified"], "items_last_fetch": len(r["items"]),
            "new_items_last_fetch": new_items, "problems_last_fetch": len(r["problems"]),
            "last_problem": (r["problems"][-1] if r["problems"] else r["error"]),
        })
    if any(row["is_disabled"] for row in rows):
        log.warning("news feeds disabled", feeds=[row["feed_url"] for row in rows if row["is_disabled"]])
    return pd.DataFrame(rows, columns=[
        "feed_url", "outlet_code", "last_status", "last_http_status", "last_checked_at", "last_success_at", "last_new_item_at",
        "consecutive_failures", "is_disabled", "disabled_reason", "etag", "last_modified", "items_last_fetch",
        "new_items_last_fetch", "problems_last_fetch", "last_problem",
    ])


# -- load ------------------------------------------------------------------------------------


def load_news(validated: dict[str, Any], run: RunContext, settings: Settings | None = None) -> dict[str, int]:
    """Merge outlets, articles, mentions and feed health in one transaction."""
    settings = settings or load_settings()
    frames = {name: read_parquet(locate(path)) for name, path in validated["frames"].items()}
    warehouse = open_warehouse(settings)
    audit = TaskAudit("load", source="news")
    try:
        with audited(warehouse, run, audit), warehouse.transaction() as conn:
            loaded = {
                "dim_outlet": warehouse.merge(conn, "news_outlets", frames["news_outlets"], "dim_outlet"),
                "fact_news_article": warehouse.merge(conn, "news_articles", frames["news_articles"], "fact_news_article"),
                "fact_news_mention": warehouse.merge(conn, "news_mentions", _with_articles(frames), "fact_news_mention")
                and len(frames["news_mentions"]),  # the staged sentinels are not rows
                "etl_news_feed_health": warehouse.merge(conn, "news_feed_health", frames["news_feed_health"], "etl_news_feed_health"),
            }
            audit.counts["rows_loaded"] = sum(loaded.values())
        log.info("news loaded", **run.log_extra(**loaded))
        return loaded
    finally:
        warehouse.dispose()


def _with_articles(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Mentions plus a NULL-agency sentinel per article without mentions: the merge's DELETE then clears stale ones."""
    mentions = frames["news_mentions"]
    bare = sorted(set(frames["news_articles"]["article_id"]) - set(mentions["article_id"]))
    if not bare:
        return mentions
    sentinel = pd.DataFrame({"article_id": bare}).reindex(columns=mentions.columns)
    both = pd.concat([mentions, sentinel], ignore_index=True) if len(mentions) else sentinel
    # NULLs in the sentinels turn integer columns into floats; COPY into INTEGER wants "3", not "3.0".
    return both.astype({"position": "Int64", "mentions": "Int64"})
