"""scripts/profile_summary.py: where a py-spy sample of a bench night goes (issue 11's profile in the README)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "scripts" / "profile_summary.py"

MAIN = "_run_module_as_main (<frozen runpy>:198);main (etl/bench.py:320);test (airflow/sdk/definitions/dag.py:1400)"
LANE = ("_bootstrap (threading.py:1002);_worker (concurrent/futures/thread.py:83);run (concurrent/futures/thread.py:59);"
        "run (etl/sources/concurrency.py:120);<lambda> (etl/sources/youtube/source.py:88)")
RAW = "\n".join([
    # a GX check inside the staging step: the innermost step wins
    f"{MAIN};parse_validate_shard (etl/pipeline.py:300);validate_or_hold (etl/pipeline.py:250);validate (etl/quality.py:90) 7",
    f"{MAIN};parse_validate_shard (etl/pipeline.py:300);write (gzip.py:289) 5",
    f"{MAIN};extract_shard (etl/pipeline.py:200);run_shard (etl/sources/base.py:400) 4",
    # a shard's worker thread: its frames hold no step, and it is extraction
    f"{LANE};loads (etl/jsontext.py:20) 11",
    f"{LANE};get (requests/sessions.py:600);readinto (socket.py:706) 30",
    f"{LANE};spend (etl/sources/base.py:200);under_lock (etl/sources/base.py:153) 2",
    "_bootstrap (threading.py:1002);_worker (concurrent/futures/thread.py:81) 6",
    # Airflow's own work, under no step
    f"{MAIN};update_state (airflow/models/dagrun.py:900) 3",
    "not a sample line",
])


def load_script():
    spec = importlib.util.spec_from_file_location("profile_summary", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up
    spec.loader.exec_module(module)
    return module


def test_worker_threads_count_as_extraction_and_waits_are_counted_apart(tmp_path: Path) -> None:
    """Before, a worker thread's samples fell to Airflow and its waits for the sandbox's answers counted as work:
    a 1,560-account night read "Airflow 72%, HTTP 5%" where the busy samples say HTTP 35%, Airflow 29%."""
    raw = tmp_path / "night.txt"
    raw.write_text(RAW, encoding="utf-8")

    profile = load_script().summarise(raw)

    assert (profile.total, profile.waiting, profile.busy) == (68, 38, 30)
    assert dict(profile.stages) == {
        "GX": 7, "staging files, quarantine": 5, "HTTP (extract, landing)": 15, "Airflow overhead and setup": 3,
    }
    assert profile.leaves.most_common(1) == [("loads (etl/jsontext.py:20)", 11)]


def test_main_prints_shares_of_the_busy_samples(tmp_path: Path, capsys, monkeypatch) -> None:
    raw = tmp_path / "night.txt"
    raw.write_text(RAW, encoding="utf-8")
    monkeypatch.setattr("sys.argv", ["profile_summary.py", str(raw)])

    assert load_script().main() == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{raw}: 68 samples, 38 of them a thread waiting (an API answer, a lock); shares of the 30 busy samples:"
    assert lines[1] == "  HTTP (extract, landing)      50.0%"
    assert "    36.7%  loads (etl/jsontext.py:20)" in lines


def test_the_sandboxs_own_process_is_a_stage_of_its_own(tmp_path: Path) -> None:
    """py-spy --subprocesses puts the process first on every stack; the sandbox's samples hold no step and fell to
    Airflow (a demo's profile read "Airflow 33.7%", of which 1,081 of 2,341 samples were the sandbox's)."""
    demo = 'process 4242:".venv/bin/python -m etl.demo"'
    sandbox = 'process 4250:"/work/.venv/bin/python -m etl.sandbox serve --accounts a.csv --seed 7"'
    handler = "_bootstrap (threading.py:1002);handle_one_request (http/server.py:424);_youtube (etl/sandbox/server.py:560)"
    raw = tmp_path / "demo.txt"
    raw.write_text("\n".join([
        f"{demo};{MAIN};update_state (airflow/models/dagrun.py:900) 3",
        f"{demo};{LANE};loads (etl/jsontext.py:20) 2",
        f"{demo};{sandbox};{handler};upload_count (etl/sandbox/youtube_data.py:413) 9",
        f"{demo};{sandbox};_bootstrap (threading.py:1002);select (selectors.py:415) 4",
    ]), encoding="utf-8")

    profile = load_script().summarise(raw)

    assert (profile.total, profile.waiting) == (18, 4)
    assert dict(profile.stages) == {"Airflow overhead and setup": 3, "HTTP (extract, landing)": 2, "sandbox (its own process)": 9}
    assert profile.leaves.most_common(1) == [("upload_count (etl/sandbox/youtube_data.py:413)", 9)]
