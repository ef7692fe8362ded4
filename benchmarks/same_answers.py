"""Check that this checkout writes the same items.csv, topics.csv, issues.csv and segments.csv as another one
(e.g. main before a refactor) on the four sample weeks, byte for byte.

    git -C /work/main archive main | tar -x -C /tmp/main_copy
    python benchmarks/same_answers.py /tmp/main_copy
    python benchmarks/same_answers.py /tmp/main_copy W46 W47    # only the weeks whose names contain these

Each checkout runs `vocnlp run WEEK --no-history` in its own folder with its own fresh caches. Exit 1 on a difference.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = ["items.csv", "topics.csv", "issues.csv", "segments.csv"]


def runs(code: Path, work: Path, only: list[str] | None = None) -> Path:
    work.mkdir(parents=True)
    for week in sorted((ROOT / "data" / "sample").glob("*.csv")):
        if only and not any(o in week.stem for o in only):
            continue
        subprocess.run([sys.executable, "-m", "vocnlp.cli.main", "run", str(week), "-o", str(work / week.stem),
                        "--no-history", "-q"], check=True, cwd=work, env={**os.environ, "PYTHONPATH": str(code)})
    return work


def main() -> int:
    other = Path(sys.argv[1]).resolve()
    with tempfile.TemporaryDirectory() as d:
        only = sys.argv[2:]
        a, b = runs(other, Path(d) / "other", only), runs(ROOT, Path(d) / "this", only)
        weeks = [w for w in sorted(a.iterdir()) if w.is_dir() and not w.name.startswith(".")]
        bad = [f"{w.name}/{f}" for w in weeks for f in FILES if (w / f).read_bytes() != (b / w.name / f).read_bytes()]
    n = len(weeks)
    print("different: " + ", ".join(bad) if bad else f"same bytes: {len(FILES)} files x {n} weeks")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
