"""The optional semantic layer, measured: crisis quality with and without it, speed, memory, size.

Run from the repository root (needs the extra: .venv/bin/pip install wordllama==0.4.0.post1):
    .venv/bin/python benchmarks/bench_semantic.py              # the tables for the report
    .venv/bin/python benchmarks/bench_semantic.py --choose     # how THRESHOLD was chosen (tune splits + exemplars)
Corpora: our splits in tests/rules/data and ../shared/corpus/dev.jsonl; ../shared/external (real public
posts, recall / false-alarm checks only, never training) when present. Only ids and counts are printed.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path

from rules import Classifier, Detection
from rules.evaluation import CorpusLine, evaluate, load_corpus

DATA = Path("tests/rules/data")
TUNE = [DATA / "tune.jsonl", DATA / "tune2.jsonl", DATA / "tune3.jsonl"]
REPORT = [DATA / "untuned.jsonl", DATA / "holdout.jsonl", Path("../shared/corpus/dev.jsonl")]
EXTERNAL = Path("../shared/external")
Fn = Callable[..., Detection]


def _corpus(path: Path) -> list[CorpusLine]:
    return load_corpus(path.read_text("utf-8").splitlines())


def _row(name: str, lines: list[CorpusLine], fn: Fn) -> str:
    report = evaluate(lines, fn)
    c = report.labels["crisis"]
    return f"| {name} | {c.support} | {c.recall:.3f} | {c.precision:.3f} | {report.benign_false_positive_rate:.3f} |"


def quality(rules_fn: Fn, semantic_fn: Fn, paths: Iterable[Path]) -> None:
    print("| corpus | crisis support | recall | precision | benign FP rate |")
    print("|---|---|---|---|---|")
    added: list[str] = []
    for path in paths:
        if not path.exists():
            print(f"| {path} | (absent) | | | |")
            continue
        lines = _corpus(path)
        print(_row(f"{path} default", lines, rules_fn))
        print(_row(f"{path} default+semantic", lines, semantic_fn))
        right, wrong = [], []
        for line in lines:
            if "crisis" in semantic_fn(line.text, kind=line.kind).labels - rules_fn(line.text, kind=line.kind).labels:
                (right if "crisis" in line.labels else wrong).append(line.id)
        added.append(f"{path.name}: crisis added correctly {right or '-'}; wrongly {wrong or '-'}")
    print("\nids where the layer added crisis (ids only):")
    print("\n".join(f"  {row}" for row in added))


def _external(name: str) -> list[dict[str, str]]:
    path = EXTERNAL / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def external(rules_fn: Fn, semantic_fn: Fn) -> None:
    """Share of real posts flagged crisis. Noisy labels (forum of origin): a recall check, not truth."""
    if not EXTERNAL.exists():
        print("../shared/external absent: skipped")
        return
    sets = [
        ("sdcnl", "SuicideWatch", "r/SuicideWatch posts flagged crisis (recall)"),
        ("sdcnl", "depression", "r/depression posts flagged crisis (many are suicidal too)"),
        ("counsel_chat_questions", None, "questions to therapists flagged crisis (mostly not crisis)"),
        ("sgd_therapist_booking", None, "booking-dialogue turns flagged crisis (false alarms)"),
    ]
    print("| set | n | default | default+semantic |")
    print("|---|---|---|---|")
    for name, label, title in sets:
        rows = [r for r in _external(name) if label is None or r["label"] == label]
        kinds = "dm" if name != "sdcnl" else "comment"
        flagged = [
            sum("crisis" in fn(r["text"], kind=kinds, platform="reddit").labels for r in rows)
            for fn in (rules_fn, semantic_fn)
        ]
        print(f"| {title} | {len(rows)} | {flagged[0] / len(rows):.3f} | {flagged[1] / len(rows):.3f} |")


def speed(rules_fn: Fn, semantic_fn: Fn, n: int) -> None:
    lines = _corpus(Path("../shared/corpus/dev.jsonl")) if REPORT[2].exists() else _corpus(REPORT[0])
    work = (lines * (-(-n // len(lines))))[:n]
    for name, fn in (("default", rules_fn), ("default+semantic", semantic_fn)):
        latencies = []
        for line in work:
            t = time.perf_counter_ns()
            fn(line.text, kind=line.kind, platform=line.platform)
            latencies.append(time.perf_counter_ns() - t)
        latencies.sort()
        mean = sum(latencies) / len(latencies) / 1e6
        p50, p99 = latencies[len(latencies) // 2] / 1e6, latencies[int(len(latencies) * 0.99)] / 1e6
        rate = len(work) / sum(latencies) * 1e9
        print(f"| {name} | {len(work)} | {mean:.3f} | {p50:.3f} | {p99:.3f} | {rate:,.0f} |")


def _rss_probe(mode: str) -> None:
    """Run in a child process: load what the daemon would load, classify a little, print peak RSS (MB)."""
    import rules

    fn: Fn = rules.Classifier(practice_names=["Example Counseling"]).classify
    if mode == "semantic":
        from rules.semantic import SemanticClassifier

        fn = SemanticClassifier(fn).classify
    for line in _corpus(REPORT[0]):
        fn(line.text, kind=line.kind)
    status = Path("/proc/self/status")
    if status.exists():  # VmHWM is this process's own peak; ru_maxrss would include the parent's at fork
        for row in status.read_text().splitlines():
            if row.startswith("VmHWM:"):
                print(int(row.split()[1]) / 1024)
                return
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def memory() -> None:
    out = {}
    for mode in ("rules", "semantic"):
        done = subprocess.run(
            [sys.executable, __file__, "--rss-probe", mode], capture_output=True, text=True, check=True
        )
        out[mode] = float(done.stdout.split()[-1])
    print(f"peak RSS, process with the default classifier: {out['rules']:.1f} MB; with the semantic layer loaded: "
          f"{out['semantic']:.1f} MB (+{out['semantic'] - out['rules']:.1f} MB)")  # fmt: skip


def _requires(dist: str) -> set[str]:
    """Names a distribution requires unconditionally (no extras), normalised."""
    found = set()
    for req in metadata.requires(dist) or []:
        if "extra ==" in req:
            continue
        name = req.split(";")[0].strip()
        for sep in "<>=!~[ (":
            name = name.split(sep)[0]
        found.add(name.lower().replace("_", "-"))
    return found


def _closure(roots: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        try:
            metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen.add(name)
        todo.extend(_requires(name))
    return seen


def _size(dist: str) -> int:
    d = metadata.distribution(dist)
    total = 0
    for f in d.files or []:
        p = Path(str(d.locate_file(f)))
        if p.is_file() and "__pycache__" not in p.parts:
            total += p.stat().st_size
    return total


def install_size() -> None:
    base = _closure(_requires("practice-monitor"))
    extra = sorted(_closure(["wordllama"]) - base)
    sizes = {name: _size(name) for name in extra}
    mb = 1024 * 1024
    print("installed size in site-packages (files from each distribution's RECORD, no __pycache__):")
    for name in sorted(sizes, key=lambda k: -sizes[k]):
        print(f"  {name:<20} {sizes[name] / mb:6.1f} MB")
    both = sizes.get("wordllama", 0) + sizes.get("numpy", 0)
    print(f"  wordllama + numpy: {both / mb:.1f} MB; everything the extra adds to the default install: "
          f"{sum(sizes.values()) / mb:.1f} MB")  # fmt: skip


def choose(rules_fn: Fn) -> None:
    """The threshold sweep THRESHOLD was picked from: tune splits + leave-one-out over our exemplars."""
    from rules.semantic import SemanticLayer, load_exemplars

    exemplars = load_exemplars()
    layer = SemanticLayer(exemplars)
    loo = []
    for item in exemplars:
        rest = SemanticLayer([e for e in exemplars if e.id != item.id], model=layer._model)
        found = rest.score(item.text)
        loo.append((item.crisis, -1.0 if found is None or found.vetoed_by else found.value))
    tune = [line for path in TUNE for line in _corpus(path)]
    scored = []
    for line in tune:
        found = layer.score(line.text)
        value = -1.0 if found is None or found.vetoed_by else found.value
        scored.append(("crisis" in line.labels, not line.labels, value))
    print("| threshold | LOO crisis caught | LOO hard negatives fired | tune crisis caught (layer alone) "
          "| tune non-crisis fired | tune benign fired |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for t in [x / 100 for x in range(3, 13)]:
        pos = [v >= t for c, v in loo if c]
        neg = [v >= t for c, v in loo if not c]
        tc = [v >= t for c, _, v in scored if c]
        tn = [v >= t for c, _, v in scored if not c]
        tb = [v >= t for c, b, v in scored if b]
        print(f"| {t:.2f} | {sum(pos) / len(pos):.3f} | {sum(neg) / len(neg):.3f} | {sum(tc) / len(tc):.3f} "
              f"| {sum(tn) / len(tn):.3f} | {sum(tb) / len(tb):.3f} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--choose", action="store_true", help="print the threshold sweep on tune splits")
    parser.add_argument("--n", type=int, default=5_000, help="messages for the latency run")
    parser.add_argument("--threshold", type=float, help="explore another threshold (not for choosing)")
    parser.add_argument("--rss-probe", choices=["rules", "semantic"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_probe:
        _rss_probe(args.rss_probe)
        return

    from rules.semantic import THRESHOLD, SemanticClassifier, SemanticLayer

    rules_fn = Classifier().classify
    t0 = time.perf_counter()
    layer = SemanticLayer() if args.threshold is None else SemanticLayer(threshold=args.threshold)
    load_s = time.perf_counter() - t0
    semantic_fn = SemanticClassifier(rules_fn, layer).classify
    print(f"machine: {platform.machine()} {platform.processor() or ''} python {sys.version.split()[0]}".strip())
    print(f"semantic layer: threshold {layer.threshold} (shipped: {THRESHOLD}), built in {load_s:.2f} s")
    if args.choose:
        choose(rules_fn)
        return
    print("\n## crisis, default (phrase rules + learned layer) vs default+semantic")
    quality(rules_fn, semantic_fn, [*REPORT, *TUNE])
    print("\n## real public posts (../shared/external), share flagged crisis")
    external(rules_fn, semantic_fn)
    print(f"\n## latency per message (dev corpus repeated to {args.n}), one core")
    print("| classifier | messages | mean ms | p50 ms | p99 ms | messages/s |")
    print("|---|---|---|---|---|---|")
    speed(rules_fn, semantic_fn, args.n)
    print()
    memory()
    install_size()


if __name__ == "__main__":
    main()
