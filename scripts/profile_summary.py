"""Summarise a py-spy raw profile of ``python -m etl.bench``: share of samples per pipeline stage and top functions.

    py-spy record -r 20 -f raw -o night.txt -- .venv/bin/python -m etl.bench --scale national --engines duckdb
    python scripts/profile_summary.py night.txt

Each sample goes to the innermost pipeline step on its stack (the steps ``etl.bench`` times). A shard's calls run
on worker threads (``etl.sources.concurrency``) whose stacks hold none of those steps: their samples go to the
HTTP stage. Samples under no step are Airflow's (or the bench's own setup).

With ``--subprocesses`` every stack starts with its process (``process 4242:"<command line>"``, a child's after its
parent's): the samples of the
sandbox's own process (``python -m etl.sandbox serve``, the demo's and the bench's stand-in for the APIs) form a
stage of their own, :data:`SANDBOX`; its frames hold no step, and they were counted as Airflow's.

py-spy samples every thread, and counts a thread blocked in ``recv`` as active: with a shard's calls in flight,
most of a worker's samples are the thread waiting for the API's answer. Samples whose innermost frame is such a
wait (:data:`WAITS`) are counted apart, so the stages and the top functions are shares of the busy samples: where
the process spends its CPU, not its threads' time.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etl.bench import AIRFLOW as AIRFLOW_STAGE  # noqa: E402
from etl.bench import STAGES  # noqa: E402

STEP_OF = {function: stage for _, function, stage in STAGES}
HTTP_STAGE = next(stage for _, function, stage in STAGES if function == "extract_shard")
#: Samples under no step: the bench times them as Airflow's; a profile also holds the bench's own setup.
AIRFLOW = f"{AIRFLOW_STAGE} and setup"
#: Samples of the sandbox's process, when py-spy followed subprocesses (its command line runs this module).
SANDBOX = "sandbox (its own process)"
SANDBOX_MODULE = "etl.sandbox"
#: A worker thread of a shard's lanes: its frames are the call, the parse of the answer and its landing.
LANE_FILE = "etl/sources/concurrency.py"
#: Innermost frames (function and file) that are a thread waiting: for an answer, a socket, a lock, a timer.
WAITS = {
    ("readinto", "socket.py"),  # an HTTP answer not yet arrived
    ("do_poll", "urllib3/util/wait.py"),  # urllib3 checking a pooled connection is still open
    ("under_lock", "etl/sources/base.py"),  # a worker waiting for the shard's budget lock
    ("wait", "threading.py"),
    ("select", "selectors.py"),
    ("_worker", "concurrent/futures/thread.py"),  # an idle worker waiting for the next item
}


@dataclass
class Profile:
    total: int = 0
    waiting: int = 0
    stages: Counter[str] = field(default_factory=Counter)
    leaves: Counter[str] = field(default_factory=Counter)

    @property
    def busy(self) -> int:
        return self.total - self.waiting


def _function_and_file(frame: str) -> tuple[str, str]:
    name, _, where = frame.partition(" (")
    return name, where.rsplit(":", 1)[0]


def summarise(path: Path) -> Profile:
    profile = Profile()
    for line in path.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        profile.total += n
        if _function_and_file(frames[-1]) in WAITS:
            profile.waiting += n
            continue
        profile.stages[_stage(frames)] += n
        profile.leaves[frames[-1]] += n
    return profile


def _stage(frames: list[str]) -> str:
    """The sandbox's process (a child's frame after its parent's), else the innermost step, else Airflow."""
    if any(SANDBOX_MODULE in frame for frame in frames if frame.startswith("process ")):
        return SANDBOX
    stage = AIRFLOW
    for frame in frames:
        name, where = _function_and_file(frame)
        if where.endswith(LANE_FILE) and stage == AIRFLOW:
            stage = HTTP_STAGE
        stage = STEP_OF.get(name, stage)
    return stage


def main() -> int:
    for name in sys.argv[1:]:
        profile = summarise(Path(name))
        busy = max(profile.busy, 1)
        print(f"{name}: {profile.total:,} samples, {profile.waiting:,} of them a thread waiting "
              f"(an API answer, a lock); shares of the {profile.busy:,} busy samples:")
        for stage, n in profile.stages.most_common():
            print(f"  {stage:<28} {n / busy:5.1%}")
        print("  top functions (self):")
        for leaf, n in profile.leaves.most_common(5):
            print(f"    {n / busy:5.1%}  {leaf}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
