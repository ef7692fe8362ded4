"""Print the bad-input matrix of tests/test_bad_input.py as a Markdown table (docs/hardening.md).

Runs every case through the CLI exactly as the test does (fake embedder, prototype classifiers, lexicon
sentiment, a fresh cache) and writes one row per case: the input, the exit code, and either the status
counts of the run or its one-line error.

    python benchmarks/hardening_matrix.py            # all cases (the 100,000-row one takes ~30 s)
    python benchmarks/hardening_matrix.py --skip rows_100k
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip", nargs="*", default=[])
    args = ap.parse_args(argv)

    import vocnlp.pipeline as pipeline
    from tests import test_bad_input as M
    from tests.conftest import FakeEmbedder

    pipeline.create_embedder = lambda cfg: FakeEmbedder()
    os.environ.pop("VOCNLP_PROGRESS", None)
    print("| # | case | input | outcome |")
    print("|---|---|---|---|")
    for k, (name, build) in enumerate(M.CASES.items(), 1):
        if name in args.skip:
            continue
        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d)
            old = os.getcwd()
            os.chdir(tmp)
            try:
                case = build(tmp)
                cfg = tmp / "config.yaml"
                cfg.write_text(M.CONFIG.format(cache=(tmp / "cache").as_posix()) + case.config, encoding="utf-8")
                out = tmp / "run"
                res = M.runner.invoke(M.app, ["run", str(case.path), "--output", str(out), "--config", str(cfg),
                                              *case.args])
            finally:
                os.chdir(old)
            what = " ".join((inspect.getdoc(build) or "").split()) or name.replace("_", " ")
            if res.exit_code == 0:
                m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
                c = m["counts"]
                skipped = ", ".join(f"{s} {v}" for s, v in c["skipped"].items()) or "none skipped"
                warns = ", ".join(sorted({w["code"] for w in m["warnings"]}))
                enc = m["input"].get("encoding")
                outcome = (f"exit 0: read {c['read']}, analysed {c['analysed']}, {skipped}"
                           f"{'; encoding ' + enc if enc else ''}{'; warnings ' + warns if warns else ''}")
            else:
                lines = [ln for ln in res.output.splitlines() if ln.strip()]
                first = lines[0] if lines else repr(res.output)
                outcome = f"exit {res.exit_code}: `{first}`"
                if len(lines) > 1:
                    outcome += f" (+{len(lines) - 1} more lines)"
            args_text = f" `{' '.join(case.args)}`" if case.args else ""
            print(f"| {k} | {name} | `{case.path.name}`{args_text}: {what} | {outcome.replace('|', '/')} |")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
