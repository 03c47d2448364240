"""Score the default classifier on each training file with a learned layer trained on the others.

Run from the repository root:  .venv/bin/python tools/leave_one_file_out.py [--errors LABEL:fn|fp|benign] [--dump F]
Needs the `train` extra (scikit-learn). Takes about 4 minutes on a 2-core machine (one training per file).

Why: scoring the shipped model on its own training lines flatters it, and error analysis on the
holdout sets would make them tuned. Holding out one training file at a time gives honest figures
and honest error lists on text the team may read and learn from; the holdouts stay untouched.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tools.train_learned as training
from rules import Classifier
from rules.evaluation import score
from rules.learned import parse_model


def predictions(c: float = training.C) -> list[dict[str, Any]]:
    """One row per training line: id, file, gold and predicted labels, evidence, text."""
    out: list[dict[str, Any]] = []
    for held in training.TRAIN_FILES:
        others = [name for name in training.TRAIN_FILES if name != held]
        rows = training.load([training.DATA / name for name in others])
        with contextlib.redirect_stdout(io.StringIO()):
            labels = training.train(rows, c)
        model = {"version": training.VERSION, "trained_on": others, "lines": len(rows), "labels": labels}
        classifier = Classifier(learned=parse_model(model))
        for row in training.load([training.DATA / held]):
            found = classifier.classify(row["text"], kind=row.get("kind", "comment"), platform=row.get("platform", ""))
            out.append(
                {
                    "where": f"{held}:{row['id']}",
                    "gold": set(row["labels"]),
                    "pred": set(found.labels),
                    "evidence": [(e.label, e.rule_id, row["text"][e.start : e.end]) for e in found.evidence],
                    "text": row["text"],
                }
            )
        print(f"scored {held}", file=sys.stderr)
    return out


def report(rows: list[dict[str, Any]]) -> str:
    """The figures the README quotes, scored by rules.evaluation like `monitor eval`."""
    scored = score((r["where"], frozenset(r["gold"]), frozenset(r["pred"])) for r in rows)
    lines = [f"{len(rows)} lines in {len(training.TRAIN_FILES)} files, each scored by a model trained on the others"]
    for label, s in scored.labels.items():
        lines.append(f"{label:<20} precision {s.precision:.3f} recall {s.recall:.3f} F1 {s.f1:.3f} support {s.support}")
    benign = [r for r in rows if not r["gold"]]
    flagged = sum(1 for r in benign if r["pred"])
    rate = scored.benign_false_positive_rate
    lines.append(f"false alarms on messages with no label: {flagged}/{len(benign)} = {rate:.3f}")
    return "\n".join(lines)


def errors(rows: list[dict[str, Any]], which: str) -> str:
    label, kind = which.split(":")
    picked = [
        r
        for r in rows
        if (kind == "fn" and label in r["gold"] - r["pred"])
        or (kind == "fp" and label in r["pred"] - r["gold"])
        or (kind == "benign" and not r["gold"] and r["pred"])
    ]
    return "\n".join(f"{r['where']} gold={sorted(r['gold'])} got={sorted(r['pred'])}\n  {r['text']}" for r in picked)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", help="also list errors, e.g. crisis:fn, crisis:fp or any:benign")
    parser.add_argument("--dump", type=Path, help="also write every scored line as JSON lines (for error analysis)")
    parser.add_argument("--c", type=float, default=training.C, help="regularisation (experiments only)")
    args = parser.parse_args()
    rows = predictions(args.c)
    print(report(rows))
    if args.dump:
        with args.dump.open("w", encoding="utf-8") as out:
            for r in rows:
                row = {**r, "gold": sorted(r["gold"]), "pred": sorted(r["pred"])}
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    if args.errors:
        print(errors(rows, args.errors))


if __name__ == "__main__":
    main()
