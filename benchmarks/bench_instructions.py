"""Instructions per classified message, counted by valgrind: repeatable where wall-clock time is not.

Runs this same file under `valgrind --tool=callgrind` twice (classifying the corpus REPS times, then
0 times) and divides the difference by the number of messages, so start-up is left out.

Run from the repository root:  .venv/bin/python benchmarks/bench_instructions.py [CORPUS.jsonl] [--reps 5]
Needs valgrind (Debian package `valgrind`); each layer takes a minute or two.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

DEFAULT = Path("../shared/corpus/dev.jsonl")


def _classify(corpus: Path, reps: int, learned: bool) -> None:
    sys.path.insert(0, ".")
    import rules

    rows = [json.loads(line) for line in corpus.read_text("utf-8").splitlines() if line.strip()]
    classifier = rules.Classifier(learned=learned)
    for _ in range(reps):
        for row in rows:
            classifier.classify(row["text"], kind=row.get("kind", "comment"))


def _instructions(corpus: Path, reps: int, learned: bool) -> int:
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__]
    cmd += [str(corpus), "--reps", str(reps), "--inner", "learned" if learned else "rules"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stderr
    found = re.search(r"Collected : (\d+)", out)
    if found is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{out[-500:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--inner", choices=["rules", "learned"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        _classify(args.corpus, args.reps, args.inner == "learned")
        return
    n = sum(1 for line in args.corpus.read_text("utf-8").splitlines() if line.strip()) * args.reps
    for name, learned in (("phrase rules only", False), ("default", True)):
        base = _instructions(args.corpus, 0, learned)
        total = _instructions(args.corpus, args.reps, learned)
        print(f"[{name}] {n} messages: {(total - base) / n / 1e6:.2f} million instructions per message")
        print(f"[{name}] start-up (import and compile): {base / 1e9:.2f} billion instructions")


if __name__ == "__main__":
    main()
