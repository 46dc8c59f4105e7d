"""The rule documents: ``rules/<CODE>.md`` at the top of the repository.

One source of truth: the Markdown files under ``rules/`` (readable on GitHub, the
sections ruff uses).  ``bnlint rule``, SARIF's rule descriptions and the tests
all read them through this module.  So that an installed wheel (which does not
ship the repository's ``rules/`` directory) has them too, ``_docs_data.py`` is a
generated copy (``python -m bnlint.rules.docs --write``); a test fails when it
is out of date.  At run time the files win when they exist (a source checkout
or an editable install), so an edited document is live immediately.
"""

from __future__ import annotations

import re
import sys
from functools import cache
from pathlib import Path

SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead", "References")
DOCS_DIR = Path(__file__).resolve().parents[2] / "rules"
_DATA = Path(__file__).with_name("_docs_data.py")
_FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)


def _embedded() -> dict[str, str]:
    try:
        from bnlint.rules._docs_data import DOCS
    except ImportError:  # pragma: no cover
        return {}
    return dict(DOCS)


@cache
def _files() -> dict[str, str]:
    if not DOCS_DIR.is_dir():
        return {}
    return {p.stem: p.read_text("utf-8") for p in sorted(DOCS_DIR.glob("*.md"))
            if re.fullmatch(r"[A-Z]+\d+", p.stem)}


def all_docs() -> dict[str, str]:
    return _files() or _embedded()


def doc(code: str) -> str | None:
    return all_docs().get(code.upper())


def sections(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    current = None
    for line in text.splitlines(keepends=True):
        m = re.match(r"^## (.+?)\s*$", line)
        if m:
            current = m.group(1)
            out[current] = ""
        elif current is not None:
            out[current] += line
    return {k: v.strip() for k, v in out.items()}


def examples(text: str, section: str) -> list[str]:
    return [m.group(1) for m in _FENCE.finditer(sections(text).get(section, ""))]


def summary(code: str) -> str:
    """The first sentence of "What it does"."""
    text = doc(code)
    if not text:
        return ""
    what = " ".join(sections(text).get("What it does", "").split())
    m = re.match(r"(.+?\.)(\s|$)", what)
    return m.group(1) if m else what


def render_data() -> str:
    docs = _files()
    body = "".join(f"    {code!r}: {text!r},\n" for code, text in docs.items())
    return ('"""Generated from rules/*.md by `python -m bnlint.rules.docs --write`; '
            'do not edit."""\n\n'
            "DOCS: dict[str, str] = {\n" + body + "}\n")


def main(argv: list[str]) -> int:
    if "--write" in argv:
        _DATA.write_text(render_data(), "utf-8")
        return 0
    current = _DATA.read_text("utf-8") if _DATA.exists() else ""
    if current != render_data():
        print("bnlint/rules/_docs_data.py is out of date: python -m bnlint.rules.docs --write")
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
