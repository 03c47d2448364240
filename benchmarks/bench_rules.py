"""Rule-layer speed: messages/second, p99 latency, peak RSS and the import-time compile of the packs.

Measured twice: the phrase rules alone (`Classifier(learned=False)`, the issue's "rule layer") and
the default classifier, which adds the learned layer (rules/learned.py).

Run from the repository root:  .venv/bin/python benchmarks/bench_rules.py [CORPUS.jsonl] [--n 100000]
Targets (issue 3): >= 20,000 messages/s, p99 < 1 ms, compile < 0.5 s, on one core.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path

DEFAULTS = [Path("../shared/corpus/dev.jsonl"), Path("tests/rules/data/untuned.jsonl")]


def _texts(path: Path | None) -> list[tuple[str, str]]:
    candidates = [path] if path else DEFAULTS
    for p in candidates:
        if p is not None and p.exists():
            rows = [json.loads(line) for line in p.read_text("utf-8").splitlines() if line.strip()]
            print(f"corpus: {p} ({len(rows)} lines)")
            return [(r["text"], r.get("kind", "comment")) for r in rows]
    raise SystemExit("no corpus found")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", nargs="?", type=Path)
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()

    t0 = time.perf_counter()
    import rules

    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    rules.Classifier(practice_names=["Example Counseling"], clinicians=["Dr. Lena Ortiz", "Sam Reyes"])
    compile_s = time.perf_counter() - t0

    texts = _texts(args.corpus)
    repeats = -(-args.n // len(texts))
    work = texts * repeats
    print(f"machine: {platform.machine()} {platform.processor() or ''} python {sys.version.split()[0]}".strip())
    layers = (("phrase rules only", rules.Classifier(learned=False).classify), ("default", rules.classify))
    for name, classify in layers:
        latencies = []
        clock = time.perf_counter_ns
        start = time.perf_counter()
        for text, kind in work:
            t = clock()
            classify(text, kind=kind)
            latencies.append(clock() - t)
        total = time.perf_counter() - start
        latencies.sort()
        p50 = latencies[len(latencies) // 2] / 1e6
        p99 = latencies[int(len(latencies) * 0.99)] / 1e6
        print(f"[{name}] messages: {len(work)}  messages/s: {len(work) / total:,.0f}")
        print(f"[{name}] latency p50: {p50:.3f} ms  p99: {p99:.3f} ms  max: {latencies[-1] / 1e6:.3f} ms")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    big = "I have been feeling okay, thanks for the post. " * 22_000
    t0 = time.perf_counter()
    rules.classify(big)
    big_s = time.perf_counter() - t0
    print(f"peak RSS: {rss_mb:.1f} MB")
    print(f"import rules (default Classifier compiled): {import_s:.3f} s  one more Classifier: {compile_s:.3f} s")
    print(f"1 MB message (default): {big_s:.3f} s")


if __name__ == "__main__":
    main()
