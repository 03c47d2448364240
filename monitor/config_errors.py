"""Turn pydantic validation errors into one readable line per problem, with an example value."""

from __future__ import annotations

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
        if problem["type"] == "missing":
            msg = "is required but missing"
        elif problem["type"] == "extra_forbidden":
            msg = "is not a known setting (check the spelling)"
        msg = msg.removeprefix("Value error, ")
        line = f"  {rename(key)}: {msg}"
        example = examples.get(re.sub(r"\[\d+\]", "", key).split(".")[-1]) or examples.get(key)
        if example:
            line += f" — for example: {example}"
        lines.append(line)
    return "\n".join(lines)
