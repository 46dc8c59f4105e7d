"""``# noqa`` / ``# noqa: BN001,KR002`` on a line and ``# bnlint: noqa`` for a whole file."""

from __future__ import annotations

import re

_LINE = re.compile(r"#\s*noqa(?:\s*:\s*(?P<codes>[A-Za-z]+\d*(?:\s*[,\s]\s*[A-Za-z]+\d*)*))?",
                   re.IGNORECASE)
_FILE = re.compile(r"^\s*#\s*bnlint\s*:\s*noqa\s*$", re.IGNORECASE | re.MULTILINE)

ALL = "all"


def line_noqa(text: str) -> str | set[str] | None:
    """``None`` (no noqa), ``"all"`` (a bare ``# noqa``) or the set of codes it names."""
    m = _LINE.search(text)
    if m is None:
        return None
    codes = m.group("codes")
    if not codes:
        return ALL
    return {c.upper() for c in re.split(r"[,\s]+", codes.strip()) if c}


def suppressed(code: str, text: str) -> bool:
    spec = line_noqa(text)
    if spec is None:
        return False
    if spec == ALL:
        return True
    return any(code.startswith(c) for c in spec)


def file_noqa(text: str) -> bool:
    return _FILE.search(text) is not None
