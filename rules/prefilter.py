"""One RE2 pass that tells which of the packs' patterns and context cues can match a message at all.

Python's `re` searches one pattern at a time, and most of the ~400 patterns find nothing in a given
message. RE2's FilteredRE2 (google-re2) works out, for each pattern, the literal strings it cannot
match without, finds those present in the message in one linear-time pass, and names the patterns
that remain possible: about 6 a message, which are then searched with `re` for their exact spans
and judged in context. RE2 has no lookarounds or back-references, and its `\\b`, `\\w`, `\\d` and
`\\s` are ASCII-only, so each pattern is translated from its `re` parse tree into a *looser* RE2
pattern (zero-width assertions dropped, classes widened to every non-ASCII character): the
prefilter may say "maybe" for a pattern that then finds nothing, but never "no" for one that
matches. A pattern it cannot translate safely (a back-reference, say) is always a candidate.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from typing import Any

import re2

_sre: Any = importlib.import_module("re._parser")
_c: Any = importlib.import_module("re._constants")

#: Classes that match at least what Python's Unicode classes match: the ASCII class plus every
#: non-ASCII character (exact Unicode classes such as \\p{L} make RE2 several times slower).
_WIDE = {
    _c.CATEGORY_WORD: r"\w\x{80}-\x{10ffff}",
    _c.CATEGORY_DIGIT: r"\d\x{80}-\x{10ffff}",
    _c.CATEGORY_SPACE: r"\s\x{80}-\x{10ffff}\x{1c}-\x{1f}\x{0b}",
    # RE2's negated classes are ASCII-based, so they match more than Python's: safe as they are.
    _c.CATEGORY_NOT_WORD: r"\W",
    _c.CATEGORY_NOT_DIGIT: r"\D",
    _c.CATEGORY_NOT_SPACE: r"\S",
}
#: Inside a negated class the complement flips the direction: use RE2's narrower ASCII classes.
_NARROW = {_c.CATEGORY_WORD: r"\w", _c.CATEGORY_DIGIT: r"\d", _c.CATEGORY_SPACE: r"\s"}
_ZERO_WIDTH = (_c.AT, _c.ASSERT, _c.ASSERT_NOT)
_REPEATS = (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", _c.MAX_REPEAT))
#: RE2 refuses counted repeats above 1000; a larger bound is loosened to "any number".
_RE2_MAX_COUNT = 1000


class Untranslatable(ValueError):
    """The pattern uses something with no safe RE2 equivalent; it is always searched instead."""


def _char(code: int) -> str:
    return chr(code) if chr(code).isalnum() and code < 128 else f"\\x{{{code:x}}}"


def _class(items: Sequence[tuple[Any, Any]]) -> str:
    negate = bool(items) and items[0][0] is _c.NEGATE
    body = []
    for op, av in items[1:] if negate else items:
        if op is _c.LITERAL:
            body.append(_char(av))
        elif op is _c.RANGE:
            body.append(f"{_char(av[0])}-{_char(av[1])}")
        elif op is _c.CATEGORY and not negate and av in _WIDE:
            body.append(_WIDE[av])
        elif op is _c.CATEGORY and negate and av in _NARROW:
            body.append(_NARROW[av])
        else:
            raise Untranslatable(f"class item {op} {av}")
    return ("[^" if negate else "[") + "".join(body) + "]"


def _emit(seq: Sequence[tuple[Any, Any]]) -> str:
    out: list[str] = []
    for op, av in seq:
        if op in _ZERO_WIDTH:
            continue  # dropping a zero-width condition can only widen what matches
        if op is _c.LITERAL:
            out.append(_char(av))
        elif op is _c.NOT_LITERAL:
            out.append(f"[^{_char(av)}]")
        elif op is _c.ANY:
            out.append("(?s:.)")
        elif op is _c.IN:
            out.append(_class(av))
        elif op is _c.BRANCH:
            out.append("(?:" + "|".join(_emit(branch) for branch in av[1]) + ")")
        elif op is _c.SUBPATTERN:
            _group, add_flags, _del_flags, body = av
            if add_flags & ~_c.SRE_FLAG_UNICODE:
                raise Untranslatable(f"inline flags {add_flags}")
            out.append("(?:" + _emit(body) + ")")
        elif op is getattr(_c, "ATOMIC_GROUP", None):
            out.append("(?:" + _emit(av) + ")")
        elif op in _REPEATS:
            low, high, body = av
            if high is _c.MAXREPEAT or high > _RE2_MAX_COUNT:
                count = "*" if low == 0 else "+" if low == 1 else f"{{{min(low, _RE2_MAX_COUNT)},}}"
            else:
                count = f"{{{low},{high}}}"
            out.append("(?:" + _emit(body) + ")" + count)
        else:
            raise Untranslatable(f"op {op}")
    return "".join(out)


def to_re2(pattern: str, flags: int = 0) -> str:
    """A looser RE2 version of Python `re` pattern `pattern` (see the module docstring).

    An IGNORECASE pattern stays case-insensitive, so it may be run on the lower-cased text.
    """
    parsed = _sre.parse(pattern, flags)
    body = _emit(list(parsed))
    return "(?i)" + body if parsed.state.flags & _c.SRE_FLAG_IGNORECASE else body


class Prefilter:
    """Which of a list of compiled `re` patterns can match a text, from one RE2 pass.

    RE2's FilteredRE2 works out the literal strings ("atoms") each pattern cannot match without,
    finds the atoms present in the text in one pass, and names the patterns whose atoms are all
    there. A pattern with no usable atom, or none that RE2 can express, is always a candidate.
    """

    def __init__(self, patterns: Sequence[re.Pattern[str]]) -> None:
        self._filter = re2.Filter()
        self._slots: list[int] = []
        always: list[int] = []
        for n, pattern in enumerate(patterns):
            try:
                translated = to_re2(pattern.pattern, pattern.flags)
            except Untranslatable:
                always.append(n)
                continue
            self._filter.Add(translated)
            self._slots.append(n)
        self._filter.Compile()
        #: Patterns that are candidates for every message (untranslatable ones).
        self.always: frozenset[int] = frozenset(always)

    def candidates(self, text: str) -> set[int]:
        """Indices of the patterns that may match `text`: a superset of those that do."""
        slots = self._slots
        hits = {slots[i] for i in self._filter.Match(text, True) or ()}
        hits.update(self.always)
        return hits
