"""Our labelled messages are our own: none repeats a passage of ../shared (the dev corpus, public posts).

Short stock phrases are shared by any two authors ("I'm writing a novel where the main character",
"is going to be the death of me"); ten words in a row in common is a copied line, not a phrase.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
RUN = 10


def _runs(text: str) -> set[str]:
    words = text.lower().split()
    return {" ".join(words[i : i + RUN]) for i in range(len(words) - RUN + 1)}


def _texts(path: Path) -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    return [(str(row.get("id", "")), str(row["text"])) for row in rows]


@pytest.mark.skipif(not SHARED.exists(), reason="../shared not present")
def test_no_labelled_line_repeats_ten_words_of_shared_text() -> None:
    shared: set[str] = set()
    for path in [SHARED / "corpus" / "dev.jsonl", *sorted((SHARED / "external").glob("*.jsonl"))]:
        for _, text in _texts(path):
            shared |= _runs(text)
    copied = [
        f"{path.name}:{line_id}"
        for path in sorted((ROOT / "tests" / "rules" / "data").glob("*.jsonl"))
        for line_id, text in _texts(path)
        if _runs(text) & shared
    ]
    assert copied == []
