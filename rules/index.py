"""First-word index: run only the patterns whose possible first word occurs in the message.

Python's `re` tries every branch of an alternation at every position, so one big alternation per
label costs hundreds of microseconds. Instead each pattern's parse tree is walked once (at compile
time) for the literal words it can start with; a message's words then select the few patterns worth
running. A pattern that can start with anything (a class, `\\w+`) is always run.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from typing import Any

_sre: Any = importlib.import_module("re._parser")
_MAX_HEADS = 3000
_WORD = re.compile(r"\w+")

Head = tuple[str, bool]  # (literal prefix, whether the prefix is a whole word)


def _op(name: str) -> Any:
    return getattr(_sre, name)


_LITERAL, _AT, _BRANCH, _SUBPATTERN = _op("LITERAL"), _op("AT"), _op("BRANCH"), _op("SUBPATTERN")
_MAX_REPEAT, _MIN_REPEAT, _IN = _op("MAX_REPEAT"), _op("MIN_REPEAT"), _op("IN")
_ASSERT, _ASSERT_NOT = _op("ASSERT"), _op("ASSERT_NOT")


def _is_word_char(code: int) -> bool:
    ch = chr(code)
    return ch.isalnum() or ch == "_"


def _heads(seq: Sequence[Any], prefix: str, words: int) -> list[Head] | None:
    """Possible literal prefixes of `seq` up to the end of word number `words`; None = can start anywhere."""
    if not seq:
        return [(prefix, True)]
    op, av = seq[0]
    rest = list(seq[1:])
    if op is _LITERAL:
        if _is_word_char(av):
            return _heads(rest, prefix + chr(av), words)
        if av == 32 and prefix and words > 1 and not prefix.endswith(" "):
            return _heads(rest, prefix + " ", words - 1)
        return [(prefix, True)]
    if op is _AT or op is _ASSERT or op is _ASSERT_NOT:
        if op is _AT and prefix and not prefix.endswith(" "):
            return [(prefix, True)]
        return _heads(rest, prefix, words)
    if op is _SUBPATTERN:
        return _heads(list(av[-1]) + rest, prefix, words)
    if op is _BRANCH:
        return _union([_heads(list(branch) + rest, prefix, words) for branch in av[1]])
    if op is _MAX_REPEAT or op is _MIN_REPEAT:
        low, high, item = av
        if high == 1:
            once = _heads(list(item) + rest, prefix, words)
            return _union([once, _heads(rest, prefix, words)]) if low == 0 else once
        first = _heads(list(item), prefix, words)
        options = [None if first is None else [(p, p.endswith(" ")) for p, _ in first]]
        if low == 0:
            options.append(_heads(rest, prefix, words))
        return _union(options)
    if op is _IN and all(kind is _LITERAL for kind, _ in av):
        return _union([_heads([(_LITERAL, code), *rest], prefix, words) for _, code in av])
    return [(prefix, prefix.endswith(" "))] if prefix.strip() else None


def _union(options: Sequence[list[Head] | None]) -> list[Head] | None:
    out: list[Head] = []
    for option in options:
        if option is None:
            return None
        out.extend(option)
        if len(out) > _MAX_HEADS:
            return None
    return out


#: First words so common that a pattern starting with one is keyed on its first two words.
COMMON = frozenset(
    [
        "i",
        "im",
        "ive",
        "id",
        "ill",
        "me",
        "my",
        "you",
        "your",
        "yours",
        "u",
        "ur",
        "the",
        "a",
        "an",
        "to",
        "is",
        "it",
        "its",
        "and",
        "of",
        "in",
        "on",
        "for",
        "be",
        "been",
        "do",
        "does",
        "did",
        "can",
        "could",
        "would",
        "will",
        "we",
        "he",
        "she",
        "they",
        "hes",
        "shes",
        "theyre",
        "this",
        "that",
        "what",
        "whats",
        "how",
        "with",
        "have",
        "has",
        "had",
        "was",
        "were",
        "not",
        "so",
        "just",
        "all",
        "any",
        "some",
        "at",
        "or",
        "if",
        "are",
        "get",
        "got",
        "as",
        "our",
        "his",
        "her",
        "their",
        "them",
        "him",
        "us",
        "no",
        "dont",
        "cant",
        "wont",
    ]
)


def _key(prefix: str, whole: bool) -> str | None:
    whole = whole or prefix.endswith(" ")
    prefix = prefix.strip()
    if not prefix:
        return None
    words = prefix.split(" ")
    if len(words) >= 2 and words[0] in COMMON and (whole or len(words) > 2):
        return f"b:{words[0]} {words[1]}"
    first = words[0]
    if len(words) >= 2 or whole:
        return f"w:{first}"
    return f"h3:{first[:3]}" if len(first) >= 3 else None


def index_keys(pattern: str) -> frozenset[str] | None:
    """Keys a message must contain for `pattern` to possibly match; None = always run it."""
    parsed = list(_sre.parse(pattern))
    heads = _heads(parsed, "", 2)
    if heads is None:
        return None
    keys: set[str] = set()
    for prefix, whole in heads:
        key = _key(prefix, whole)
        if key is None:
            return None
        keys.add(key)
    return frozenset(keys)


_BIGRAM = re.compile(r"(?=\b(\w+ \w+))")


def message_keys(text: str) -> set[str]:
    """The keys present in a (lower-cased, normalised) message: its words, 3-letter heads and bigrams."""
    words = set(_WORD.findall(text))
    keys = {"w:" + w for w in words}
    keys.update({"h3:" + w[:3] for w in words if len(w) >= 3})
    keys.update("b:" + pair for pair in _BIGRAM.findall(text))
    return keys
