"""Detection quality as the README reports it: phrase rules alone vs the default classifier.

Run from the repository root:  .venv/bin/python benchmarks/bench_detection.py [--thresholds 0.55,0.65,0.70]
Prints, for every never-trained holdout set, crisis recall / precision, macro-F1 and false alarms on
unlabelled lines; F1 per label pooled over the seven larger holdouts (3 to 9); the share of
real public posts in ../shared/external flagged crisis (recall and false-alarm checks only, never
training), and what other learned crisis thresholds would trade. Only counts are printed.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import rules
from rules.evaluation import CorpusLine, evaluate, load_corpus
from rules.learned import LabelModel, load_model

DATA = Path("tests/rules/data")
HOLDOUTS = [f"holdout{n}.jsonl" for n in ("", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11")]
POOLED = HOLDOUTS[2:]
EXTERNAL = Path("../shared/external")
Classify = Callable[..., rules.Detection]


def _corpus(name: str) -> list[CorpusLine]:
    return load_corpus((DATA / name).read_text("utf-8").splitlines())


def _external(name: str) -> list[dict[str, str]]:
    path = EXTERNAL / name
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def _share(fn: Classify, rows: Sequence[dict[str, str]], kind: str) -> float:
    return sum("crisis" in fn(r["text"], kind=kind).labels for r in rows) / max(len(rows), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--thresholds", default="0.55,0.65,0.70", help="other learned crisis thresholds to try")
    args = parser.parse_args()
    phrase, default = rules.Classifier(learned=False).classify, rules.classify

    print("| set | lines | crisis recall / precision | macro-F1 | false alarms on unlabelled lines |")
    print("|---|---|---|---|---|")
    for name in HOLDOUTS:
        lines = _corpus(name)
        a, b = evaluate(lines, phrase), evaluate(lines, default)
        ca, cb = a.labels["crisis"], b.labels["crisis"]
        print(
            f"| `{name}` | {len(lines)} | {ca.recall:.2f} / {ca.precision:.2f} → {cb.recall:.2f} / {cb.precision:.2f} "
            f"| {a.macro_f1:.2f} → {b.macro_f1:.2f} | {a.benign_false_positive_rate:.2f} → "
            f"{b.benign_false_positive_rate:.2f} |"
        )

    pooled = [line for name in POOLED for line in _corpus(name)]
    a, b = evaluate(pooled, phrase), evaluate(pooled, default)
    print(f"\npooled over {', '.join(POOLED)} ({len(pooled)} lines), F1 rules → default:")
    for label in rules.PRIORITY:
        print(f"  {label}: {a.labels[label].f1:.2f} → {b.labels[label].f1:.2f}")
    print(
        f"  crisis recall {a.labels['crisis'].recall:.2f} → {b.labels['crisis'].recall:.2f}, "
        f"precision {a.labels['crisis'].precision:.2f} → {b.labels['crisis'].precision:.2f}"
    )

    sdcnl = _external("sdcnl.jsonl")
    checks = [
        ("r/SuicideWatch posts (comments)", [r for r in sdcnl if r.get("label") == "SuicideWatch"], "comment"),
        ("r/depression posts (comments)", [r for r in sdcnl if r.get("label") == "depression"], "comment"),
        ("questions to therapists (as DMs)", _external("counsel_chat_questions.jsonl"), "dm"),
        ("questions to therapists (as comments)", _external("counsel_chat_questions.jsonl"), "comment"),
        ("booking-dialogue turns (as DMs)", _external("sgd_therapist_booking.jsonl"), "dm"),
    ]
    checks = [c for c in checks if c[1]]
    if checks:
        print("\nshare of public posts flagged crisis, rules → default:")
        for name, rows, kind in checks:
            print(f"  {name}, n={len(rows)}: {_share(phrase, rows, kind):.3f} → {_share(default, rows, kind):.3f}")

    every = [line for name in HOLDOUTS for line in _corpus(name)]
    shipped = load_model().labels["crisis"]
    print(f"\nlearned crisis threshold (shipped {shipped.threshold:.2f}): crisis recall/precision on all holdouts "
          f"({len(every)} lines) and the share of therapist questions (as DMs) flagged crisis")  # fmt: skip
    questions = _external("counsel_chat_questions.jsonl")
    for t in [shipped.threshold, *(float(x) for x in args.thresholds.split(","))]:
        model = load_model()
        model.labels["crisis"] = LabelModel(shipped.bias, t)
        fn = rules.Classifier(learned=model).classify
        report = evaluate(every, fn)
        share = f"{_share(fn, questions, 'dm'):.3f}" if questions else "-"
        crisis = report.labels["crisis"]
        print(f"  {t:.2f}: {crisis.recall:.2f} / {crisis.precision:.2f}; questions flagged {share}")


if __name__ == "__main__":
    main()
