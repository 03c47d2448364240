"""Make platform text storable: valid UTF-8, no NUL characters (PostgreSQL refuses them)."""

from __future__ import annotations


def clean_text(raw: str | bytes) -> tuple[str, bool]:
    """Return (text, repaired). Invalid UTF-8 and lone surrogates become U+FFFD; NULs are dropped."""
    if isinstance(raw, bytes):
        text = raw.decode("utf-8", errors="replace")
        repaired = "\ufffd" in text and "\ufffd".encode() not in raw
    else:
        try:
            raw.encode("utf-8")
            text, repaired = raw, False
        except UnicodeEncodeError:
            text = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in raw)
            repaired = True
    if "\x00" in text:
        text, repaired = text.replace("\x00", ""), True
    return text, repaired
