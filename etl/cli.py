"""The ``pantau`` command: run the pipeline outside Airflow, for analysts and backfills (see ``DESCRIPTION`` and README)."""

from __future__ import annotations

import argparse
import secrets
import sys
import traceback
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from tqdm import tqdm

from etl.errors import DeterministicError
from etl.platforms import PLATFORMS
from etl.runtime import RunContext

DESCRIPTION = """Pantau outside Airflow: collect, load and compute indicators for given days, write the report, read standings.

Credentials come from the environment (YOUTUBE_API_KEY, X_BEARER_TOKEN, META_GRAPH_TOKEN, TIKTOK_CLIENT_TOKEN);
the warehouse from WAREHOUSE_URL (default: data/warehouse.duckdb). Dates are YYYY-MM-DD, Jakarta calendar.
Example: pantau run --date 2026-11-20 --to 2026-11-21 --platform youtube

An error is one line on stderr, pantau: <what, where, how to fix>, and a non-zero exit (--verbose adds the traceback);
pantau run collects every platform even when one fails, and ends with one line per failed platform."""


class _OneLineFormatter(argparse.RawDescriptionHelpFormatter):
    """Every command's help on one line: wide, and the help column past the longest command name.

    argparse measures sub-command names without their extra indent, so `sync-registry` would be pushed to a line of its own.
    """

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=24, width=130)

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001 - the sub-commands' action has no public type
            self._action_max_length += self._indent_increment


class PlatformsFailed(Exception):
    """Some platforms of a ``pantau run`` failed; the others, and the indicators, are loaded."""

    def __init__(self, failures: list[str]) -> None:
        super().__init__("\n".join(failures))
        self.failures = failures


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one ``pantau: ...`` line (the usage stays in ``--help``)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"pantau: {message} (see {self.prog} --help)\n")


def day_argument(value: str) -> date:
    """A date argument: YYYY-MM-DD, said plainly when it is not one."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date; use YYYY-MM-DD, e.g. 2026-11-20") from None


def _days(first: date, last: date | None) -> list[date]:
    last = last or first
    if last < first:
        raise SystemExit(f"pantau: --to {last} is before --date {first}")
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _run_id(command: str) -> str:
    """Unique below the second (microseconds and a random suffix): two runs started together never share landing
    files or audit rows."""
    return f"cli__{command}__{datetime.now(UTC).strftime('%Y%m%dT%H%M%S.%f')}_{secrets.token_hex(3)}"


def configured_platforms() -> list[str]:
    """Platforms whose secret is set (Airflow connection or environment): what a bare ``pantau run`` collects."""
    found = [platform.name for platform in PLATFORMS.values() if platform.endpoint().secret]
    # With nothing configured, YouTube's run fails with the message that names the missing key.
    return found or ["youtube"]


def run_day(day: date, platforms: Sequence[str], run_id: str) -> dict[str, int]:
    """One nightly run for ``day`` without Airflow: every shard of every platform, then the indicators.

    A platform that fails (refused credentials, an unreachable API, a shard that cannot be loaded) does not stop
    the others: like the DAG, they and the indicators are loaded, and :class:`PlatformsFailed` names each failed
    platform at the end. Its committed shards and ledger stay loaded.
    """
    from etl import pipeline  # noqa: PLC0415 - keep `pantau --help` fast

    run = RunContext.for_day(day, run_id=run_id, dag_id="cli")
    counts = pipeline.sync_registry(run)
    if not counts.get("dim_account"):
        print(f"pantau: warning: {day}: the accounts file lists no account; nothing will be collected "
              "(set PANTAU_ACCOUNTS_FILE or add rows to registry/accounts.csv)", file=sys.stderr)
    loaded: dict[str, int] = {}
    failures: list[str] = []
    for platform in platforms:
        try:
            for shard in pipeline.plan_shards(platform, run):
                extracted = pipeline.extract_shard(platform, shard["shard"], shard["shards"], run)
                shard_loaded = pipeline.load_shard(pipeline.parse_validate_shard(extracted, run), run)
                for table, rows in shard_loaded.items():
                    loaded[table] = loaded.get(table, 0) + rows
        except Exception as exc:  # noqa: BLE001 - one platform's failure is reported at the end, the others go on
            failures.append(f"{day} {platform} failed: {_one_line(exc)}")
    loaded["agency_daily_indicators"] = pipeline.compute_indicators(run)
    if failures:
        raise PlatformsFailed(failures)
    return loaded


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if isinstance(exc, DeterministicError | ValueError) else f"{type(exc).__name__}: {text}"


# -- pantau import: platform analytics exports, one-off, outside Airflow ------------------------------


def add_import_command(sub: Any) -> None:
    text = "import platform analytics export files (Meta Business Suite, YouTube Studio, TikTok Studio, X analytics)"
    command = sub.add_parser("import", help=text, description=text)
    command.add_argument("files", nargs="+", type=Path, metavar="FILE")
    command.add_argument("--platform", choices=list(PLATFORMS), help="the files' platform (default: told by their header)")
    command.add_argument("--account", help="the registered account (handle or platform id) for exports that name none")
    command.add_argument("--date", type=day_argument,
                         help="the day the export ends, its snapshot day (default: today in Jakarta); daily tables use their own dates")


def run_import(args: argparse.Namespace) -> int:
    """Import each file with a progress bar, a line per file and a one-line summary; exit 1 when a file was rejected."""
    from etl.dropbox import import_export  # noqa: PLC0415
    from etl.runtime import JAKARTA  # noqa: PLC0415

    day = args.date or datetime.now(JAKARTA).date()
    run = RunContext.for_day(day, run_id=_run_id("import"), dag_id="cli")
    results = []
    with tqdm(args.files, desc="import", unit="file", file=sys.stderr) as bar:
        for path in bar:
            if not path.is_file():
                raise FileNotFoundError(f"import: {path}: no such export file")
            # An operator importing by hand may retry a file quarantined for an account the registry now has.
            result = import_export(path, run, platform=args.platform, account=args.account, retry_quarantined=True,
                                   on_progress=lambda step, p=path: bar.set_postfix_str(f"{p.name}: {step}"))
            results.append(result)
            tqdm.write(result.summary())
    by_status = {s: sum(r.status == s for r in results) for s in ("loaded", "duplicate", "quarantined", "rejected")}
    rows = sum(r.loaded.get("fact_post_metrics_daily", 0) + r.loaded.get("fact_account_daily", 0) for r in results)
    print(f"{len(results)} file(s) for {day}: " + ", ".join(f"{n} {s}" for s, n in by_status.items())
          + f"; {rows} rows loaded, {sum(r.quarantined for r in results)} quarantined")
    return 1 if any(r.failed for r in results) else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; every error ends as one ``pantau: ...`` line and a non-zero exit (``--verbose``: the traceback)."""
    parser = OneLineParser(prog="pantau", description=DESCRIPTION, formatter_class=_OneLineFormatter)
    parser.add_argument("--verbose", action="store_true", help="on an error, print the traceback too")
    sub = parser.add_subparsers(dest="command", required=True, title="commands", metavar="COMMAND")
    for name, text in (("run", "collect, validate, load and compute indicators, day by day"),
                       ("indicators", "recompute the indicators of days already loaded")):
        cmd = sub.add_parser(name, help=text, description=text)
        cmd.add_argument("--date", type=day_argument, required=True, help="first day (YYYY-MM-DD, Jakarta calendar)")
        cmd.add_argument("--to", type=day_argument, help="last day, inclusive (YYYY-MM-DD; default: --date)")
        if name == "run":
            cmd.add_argument(
                "--platform", action="append", choices=list(PLATFORMS),
                help="platforms to collect (default: every platform whose credentials are set; YouTube if none is)",
            )
    report = sub.add_parser("report", help="write the HTML report of a day into reports/<day>/ (--pdf: also an A4 PDF)")
    report.add_argument("--date", type=day_argument, help="the day (YYYY-MM-DD; default: the latest day with indicators)")
    report.add_argument("--pdf", action="store_true", help="also print it to reports/<day>/laporan-<day>.pdf (A4) with headless Chromium")
    standings = sub.add_parser("standings", help="a campaign's standings over its whole period, per category")
    standings.add_argument("--campaign", required=True, metavar="CODE", help="campaign code (registry/campaigns.csv)")
    sub.add_parser("migrate", help="create or upgrade the warehouse schema")
    sub.add_parser("sync-registry", help="load the registry files into the dimension tables")
    limits = sub.add_parser("limits", help="what each API said about its limits (--clear lifts a connection's blocks)")
    limits.add_argument("--clear", metavar="CONNECTION", help="lift every block on an Airflow connection (e.g. x_api, meta_graph)")
    setup = sub.add_parser("airflow-setup", help="migrate Airflow, create the pools, check connections and storage")
    setup.add_argument("--no-migrate", action="store_true", help="skip `airflow db migrate` (already done)")
    setup.add_argument("--require", action="append", metavar="CONN",
                       help="connections that must exist (default: warehouse; give `none` for the embedded DuckDB)")
    add_import_command(sub)
    args = parser.parse_args(argv)
    import structlog  # noqa: PLC0415

    # The command's own output goes to stdout (it may be piped); structured logs go to stderr.
    # sys.stderr is looked up at each log call, not bound once (it may be swapped: pytest, redirections).
    structlog.configure(logger_factory=lambda *_: structlog.PrintLogger(sys.stderr))
    try:
        return _command(args)
    except PlatformsFailed as exc:
        _traceback(args)
        for line in exc.failures:
            print(f"pantau: {line}", file=sys.stderr)
        print(f"pantau: {len(exc.failures)} platform run(s) failed; the other platforms and the indicators are loaded "
              "(see etl_run and etl_account_coverage)", file=sys.stderr)
        return 1
    except (DeterministicError, ValueError, OSError) as exc:
        _traceback(args)
        print(f"pantau: {_one_line(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - the one-line contract holds for the unexpected too
        _traceback(args)
        print(f"pantau: {_one_line(exc)} (run again with --verbose for the traceback)", file=sys.stderr)
        return 1


def _traceback(args: argparse.Namespace) -> None:
    if args.verbose:
        traceback.print_exc(file=sys.stderr)


def _command(args: argparse.Namespace) -> int:
    if args.command == "airflow-setup":
        from etl.deployment import airflow_setup  # noqa: PLC0415 - imports Airflow

        require = tuple(c for c in (args.require or ["warehouse"]) if c != "none")
        try:
            report = airflow_setup(migrate=not args.no_migrate, require=require)
        except (RuntimeError, ValueError) as exc:
            print(f"pantau: {exc}", file=sys.stderr)
            return 1
        print("\n".join(report.lines()))
        return 0
    if args.command == "report":
        from etl.report import build  # noqa: PLC0415

        return build(args.date, pdf=args.pdf)
    if args.command == "standings":
        from etl.standings import main as standings_main  # noqa: PLC0415

        return standings_main(args.campaign)

    if args.command == "import":
        return run_import(args)

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
        counts = pipeline.sync_registry(RunContext.for_day(today, run_id=_run_id("sync"), dag_id="cli"))
        print(counts)
        if not counts.get("dim_account"):
            print("pantau: warning: the accounts file lists no account; nothing will be collected", file=sys.stderr)
        return 0
    days = _days(args.date, args.to)
    run_id = _run_id(args.command)
    failures: list[str] = []
    for day in tqdm(days, desc=args.command, unit="day", file=sys.stderr):
        if args.command == "indicators":
            rows = pipeline.compute_indicators(RunContext.for_day(day, run_id=run_id, dag_id="cli"))
            tqdm.write(f"{day}: {rows} indicator rows")
            continue
        try:
            tqdm.write(f"{day}: {run_day(day, args.platform or configured_platforms(), run_id)}")
        except PlatformsFailed as exc:  # the next days still run; every failure is listed at the end
            failures += exc.failures
    if failures:
        raise PlatformsFailed(failures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
