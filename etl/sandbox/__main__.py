"""CLI: ``python -m etl.sandbox serve --accounts registry/sandbox/accounts.csv --seed 7
--port 0 --port-file /tmp/sandbox.port``.

The port file is written (atomically) only once the socket is listening, so a
parent process can poll for it and then connect. Runs until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from datetime import datetime
from pathlib import Path
from types import FrameType

from etl.gc_tuning import tune_for_batch_work

from . import API_KEY
from .server import SandboxServer

log = logging.getLogger("etl.sandbox")


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m etl.sandbox")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the sandbox HTTP server")
    serve.add_argument("--accounts", type=Path, required=True, help="accounts CSV")
    serve.add_argument("--seed", type=int, default=7)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port")
    serve.add_argument("--port-file", type=Path, help="write the bound port here when ready")
    serve.add_argument(
        "--api-key",
        default=os.environ.get("PANTAU_SANDBOX_API_KEY", API_KEY),
        help=f"valid key (default: $PANTAU_SANDBOX_API_KEY or '{API_KEY}')",
    )
    serve.add_argument("--youtube-daily-quota", type=int, default=10_000)
    serve.add_argument(
        "--campaign-hashtag",
        action="append",
        dest="campaign_hashtags",
        help="hashtag (without #) carried by ~10%% of videos; repeatable; default SandboxBerAKSI",
    )
    serve.add_argument("--clock", help="freeze the clock at this aware ISO 8601 time")
    serve.add_argument("--latency-ms", type=float, default=0.0, help="delay every API answer this long (benchmarks)")
    serve.add_argument("--warm-days", type=int, default=0,
                       help="when started, work out each YouTube channel's videos of this many days in the background")
    serve.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    sandbox = SandboxServer(
        args.accounts,
        seed=args.seed,
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        youtube_daily_quota=args.youtube_daily_quota,
        campaign_hashtags=args.campaign_hashtags,
        latency_seconds=args.latency_ms / 1000,
    )
    tune_for_batch_work()  # the universes' rules and the accounts are loaded: they live as long as the process
    if args.clock:
        sandbox.set_clock(datetime.fromisoformat(args.clock.replace("Z", "+00:00")))
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("sandbox got signal %d, stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    sandbox.start()
    if args.warm_days:
        sandbox.warm(args.warm_days)
    try:
        if args.port_file:
            tmp = args.port_file.with_name(args.port_file.name + ".tmp")
            tmp.write_text(f"{sandbox.port}\n", encoding="utf-8")
            tmp.replace(args.port_file)
        while not stop.wait(0.5):
            pass
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
