"""Summarise a py-spy raw profile of ``python -m etl.bench``: share of samples per pipeline stage and top functions.

    py-spy record -r 20 -f raw -o night.txt -- .venv/bin/python -m etl.bench --scale national --engines duckdb
    python scripts/profile_summary.py night.txt

Each sample goes to the innermost pipeline step on its stack (the steps ``etl.bench`` times); samples
under none are Airflow's (or the bench's own setup). Prints the stages and the five functions with the
most samples of their own (self time).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etl.bench import STAGES  # noqa: E402

STEP_OF = {function: stage for _, function, stage in STAGES}


def summarise(path: Path) -> tuple[Counter[str], Counter[str], int]:
    stages: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        total += n
        stage = "Airflow overhead and setup"
        for frame in frames:
            name = frame.split(" (", 1)[0]
            stage = STEP_OF.get(name, stage)
        stages[stage] += n
        leaves[frames[-1]] += n
    return stages, leaves, total


def main() -> int:
    for name in sys.argv[1:]:
        stages, leaves, total = summarise(Path(name))
        print(f"{name}: {total:,} samples")
        for stage, n in stages.most_common():
            print(f"  {stage:<28} {n / total:5.1%}")
        print("  top functions (self):")
        for leaf, n in leaves.most_common(5):
            print(f"    {n / total:5.1%}  {leaf}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
