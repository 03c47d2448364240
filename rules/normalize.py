"""Text normalisation for matching, with a map back to the original offsets.

Packs are written against one spelling: no apostrophes in contractions ("im", "dont"), hyphens and
quote marks as spaces, single spaces, elongations collapsed ("sooo" -> "so"), accents stripped
("más" -> "mas"). Case is kept (honorific + surname detection needs it); packs match ignoring case.
Evidence must point into the text staff read, so every normalised offset maps back.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass


def _fold_table() -> dict[int, str]:
    """Length-preserving folds: accented Latin letters to their base letter, typographic quotes to ASCII."""
    table: dict[int, str] = {}
    for code in range(0xC0, 0x250):
        base = unicodedata.normalize("NFD", chr(code))[0]
        if base != chr(code) and base.isascii() and base.isalpha():
            table[code] = base
    for ch in "\u2018\u2019\u201a\u201b\u02bc\u00b4`\u2032":
        table[ord(ch)] = "'"
    for ch in "\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033":
        table[ord(ch)] = '"'
    for ch in "\u2010\u2011\u2012\u2013\u2014\u2015":
        table[ord(ch)] = "-"
    for ch in "\u00a0\u2009\u200a\u202f":
        table[ord(ch)] = " "
    return table


_FOLD = _fold_table()
_APOSTROPHE = r"(?P<apo>'(?<=[^\W\d_]')(?=[^\W\d_]))"  # contraction apostrophe: removed ("don't" -> "dont")
_ELONGATION = r"(?P<elong>(?P<ch>[^\W\d_])(?P=ch){2,})"  # three or more of a letter: one ("sooo" -> "so")
_SPACING = r"(?P<ws>[ \t]*['\"*_~][ \t'\"*_~]*|[ \t]{2,}|\t)"  # quote marks and runs of spaces: one space
_EDITS = re.compile(f"{_APOSTROPHE}|{_ELONGATION}|{_SPACING}")
#: Most messages have no elongation; without that branch every branch starts with a punctuation or
#: space character, which lets `re` skip straight past letters (about twice as fast).
_EDITS_NO_ELONGATION = re.compile(f"{_APOSTROPHE}|{_SPACING}")
_TRIPLE = re.compile(r"([^\W\d_])\1\1")


@dataclass(frozen=True)
class Normalized:
    """Normalised text plus the breakpoints that map its offsets back to the original."""

    text: str
    _norm_marks: tuple[int, ...] = (0,)
    _orig_marks: tuple[int, ...] = (0,)

    def to_original(self, pos: int) -> int:
        """Original offset of normalised offset `pos` (a start offset)."""
        i = bisect_right(self._norm_marks, pos) - 1
        return self._orig_marks[i] + (pos - self._norm_marks[i])

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original (start, end) of the normalised span [start, end)."""
        if end <= start:
            s = self.to_original(start)
            return s, s
        return self.to_original(start), self.to_original(end - 1) + 1


def normalize(text: str) -> Normalized:
    """Normalise `text` for matching; see the module docstring for what changes."""
    folded = text.translate(_FOLD)
    pieces: list[str] = []
    norm_marks = [0]
    orig_marks = [0]
    last = 0
    out_len = 0
    edits = _EDITS if _TRIPLE.search(folded) else _EDITS_NO_ELONGATION
    for m in edits.finditer(folded):
        kind = m.lastgroup
        start, end = m.span()
        if kind == "ws" and m.group() == " ":
            continue
        pieces.append(folded[last:start])
        out_len += start - last
        if kind == "apo":
            repl = ""
        elif kind == "elong":
            repl = m.group("ch")
        else:
            repl = " "
        pieces.append(repl)
        out_len += len(repl)
        last = end
        norm_marks.append(out_len)
        orig_marks.append(end)
    if last == 0:
        out = folded
    else:
        pieces.append(folded[last:])
        out = "".join(pieces)
    out = _HYPHEN.sub(" ", out)  # a hyphen inside a word: a space ("self-harm"); same length, no breakpoint
    return Normalized(out, tuple(norm_marks), tuple(orig_marks))


_HYPHEN = re.compile(r"(?<=[^\W\d_])-(?=[^\W\d_])")


def lower_keeping_length(text: str) -> str:
    """Lower-case without changing the length (a few characters lower-case to two), so offsets still map."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
