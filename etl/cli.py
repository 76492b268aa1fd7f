"""``pantau``: run the pipeline outside Airflow, for analysts and backfills.

    pantau migrate                         create or upgrade the warehouse schema
    pantau sync-registry                   load the registry files
    pantau run --date 2026-11-20 [--to 2026-11-21] [--platform youtube]
                                           collect, validate, load and compute indicators, day by day
    pantau indicators --date 2026-11-20 [--to ...]
                                           recompute indicators only
    pantau report [--date 2026-11-20]      write the HTML report (default: the latest day) into reports/
    pantau limits [--clear CONNECTION]     what each API said about its limits; lift a connection's blocks

Credentials come from the environment (YOUTUBE_API_KEY, WAREHOUSE_URL); see README.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from tqdm import tqdm

from etl.platforms import PLATFORMS
from etl.runtime import RunContext


def _days(first: date, last: date | None) -> list[date]:
    last = last or first
    if last < first:
        raise SystemExit(f"pantau: --to {last} is before --date {first}")
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _run_id(command: str) -> str:
    return f"cli__{command}__{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}"


def configured_platforms() -> list[str]:
    """Platforms whose secret is set (Airflow connection or environment): what a bare ``pantau run`` collects."""
    from etl.connections import resolve_endpoint  # noqa: PLC0415

    found = []
    for platform in PLATFORMS.values():
        endpoint = resolve_endpoint(
            platform.conn_id, default_base_url=platform.default_base_url, base_env=platform.base_env, secret_env=platform.secret_env
        )
        if endpoint.secret:
            found.append(platform.name)
    # With nothing configured, YouTube's run fails with the message that names the missing key.
    return found or ["youtube"]


def run_day(day: date, platforms: Sequence[str], run_id: str) -> dict[str, int]:
    """One nightly run for ``day`` without Airflow: every shard of every platform, then the indicators."""
    from etl import pipeline  # noqa: PLC0415 - keep `pantau --help` fast
    from etl.http import CredentialsRejected  # noqa: PLC0415

    run = RunContext.for_day(day, run_id=run_id, dag_id="cli")
    pipeline.sync_registry(run)
    loaded: dict[str, int] = {}
    refused: list[str] = []
    for platform in platforms:
        for shard in pipeline.plan_shards(platform, run):
            extracted = pipeline.extract_shard(platform, shard["shard"], shard["shards"], run)
            try:
                shard_loaded = pipeline.load_shard(pipeline.parse_validate_shard(extracted, run), run)
            except CredentialsRejected as exc:
                # Loaded with its ledger; like the DAG, the other platforms go on and the run fails at the end.
                refused.append(str(exc))
                continue
            for table, rows in shard_loaded.items():
                loaded[table] = loaded.get(table, 0) + rows
    loaded["agency_daily_indicators"] = pipeline.compute_indicators(run)
    if refused:
        raise SystemExit(f"pantau: {day}: credentials refused; other platforms and the indicators are loaded: {refused[0]}")
    return loaded


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pantau", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="create or upgrade the warehouse schema")
    sub.add_parser("sync-registry", help="load the registry files into the dimension tables")
    report = sub.add_parser("report", help="write the static HTML report for a day into reports/")
    report.add_argument("--date", type=date.fromisoformat, help="default: the latest day with indicators")
    limits = sub.add_parser("limits", help="what each API said about its limits, blocks first")
    limits.add_argument("--clear", metavar="CONNECTION", help="lift every block on an Airflow connection (e.g. x_api, meta_graph)")
    for name in ("run", "indicators"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--date", type=date.fromisoformat, required=True, help="first day (YYYY-MM-DD, Jakarta calendar)")
        cmd.add_argument("--to", type=date.fromisoformat, help="last day, inclusive (default: --date)")
        if name == "run":
            cmd.add_argument(
                "--platform", action="append", choices=list(PLATFORMS),
                help="platforms to collect (default: every platform whose credentials are set; YouTube if none is)",
            )
    args = parser.parse_args(argv)
    import structlog  # noqa: PLC0415

    # The command's own output goes to stdout (it may be piped); structured logs go to stderr.
    # sys.stderr is looked up at each log call, not bound once (it may be swapped: pytest, redirections).
    structlog.configure(logger_factory=lambda *_: structlog.PrintLogger(sys.stderr))

    if args.command == "report":
        from etl.report import main as report_main  # noqa: PLC0415

        return report_main(["--date", args.date.isoformat()] if args.date else [])

    from etl import pipeline  # noqa: PLC0415

    if args.command == "migrate":
        warehouse = pipeline.open_warehouse()
        print(f"warehouse ready: {warehouse!r}")
        warehouse.dispose()
        return 0
    if args.command == "limits":
        from etl.budget import clear_limits, current_limits  # noqa: PLC0415

        warehouse = pipeline.open_warehouse()
        try:
            if args.clear:
                print(f"{args.clear}: {clear_limits(warehouse, args.clear)} block(s) lifted")
            for row in current_limits(warehouse):
                state = f"blocked until {row['blocked_until']} UTC ({row['status']}): {row['message']}" if row["blocked_until"] else "open"
                seen = ", ".join(f"{k}={row[k]}" for k in ("calls_remaining", "usage_percent") if row[k] is not None)
                print(f"{row['connection']:<12} {row['scope']:<14} {state}" + (f" [{seen}]" if seen else ""))
        finally:
            warehouse.dispose()
        return 0
    today = datetime.now(UTC).date()
    if args.command == "sync-registry":
        print(pipeline.sync_registry(RunContext.for_day(today, run_id=_run_id("sync"), dag_id="cli")))
        return 0
    days = _days(args.date, args.to)
    run_id = _run_id(args.command)
    for day in tqdm(days, desc=args.command, unit="day", file=sys.stderr):
        if args.command == "indicators":
            rows = pipeline.compute_indicators(RunContext.for_day(day, run_id=run_id, dag_id="cli"))
            tqdm.write(f"{day}: {rows} indicator rows")
        else:
            tqdm.write(f"{day}: {run_day(day, args.platform or configured_platforms(), run_id)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
