"""Turn pydantic validation errors into one readable line per problem, with an example value."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping

from pydantic import ValidationError


def dotted(loc: tuple[int | str, ...]) -> str:
    """('accounts', 0, 'platform') -> 'accounts[0].platform'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def describe(
    err: ValidationError,
    source: str,
    examples: Mapping[str, str],
    rename: Callable[[str], str] = str,
) -> str:
    """A message listing every invalid key of `source` with the problem and an example."""
    lines = [f"{source} is not valid:"]
    for problem in err.errors():
        key = dotted(tuple(p for p in problem["loc"] if p not in ("function-after", "function-wrap")))
        msg = problem["msg"]
        parts = re.sub(r"\[\d+\]", "", key).split(".")
        # the key's own example, else its table's (e.g. templates.crisis.default -> templates)
        example = examples.get(parts[-1]) or examples.get(key) or examples.get(parts[0])
        if problem["type"] == "missing":
            msg = "is required but missing"
        elif problem["type"] == "extra_forbidden":
            msg = "is not a known setting (check the spelling)"
            near = difflib.get_close_matches(parts[-1], [k for k in examples if k != parts[-1]], n=1, cutoff=0.75)
            example = examples[near[0]] if near else None
            if near:
                msg = f"is not a known setting; did you mean {rename(near[0])}?"
        msg = msg.removeprefix("Value error, ")
        line = f"  {rename(key)}: {msg}"
        if example:
            line += f" — for example: {example}"
        lines.append(line)
    return "\n".join(lines)
