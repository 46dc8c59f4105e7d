"""Every rule document: its sections, and its examples run through the engine."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bnlint.rules import all_rules
from bnlint.rules.config import Settings
from bnlint.rules.docs import SECTIONS, _files, all_docs, main, sections
from bnlint.rules.engine import run

ROOT = Path(__file__).resolve().parents[1]
RULES = all_rules()
FENCE = re.compile(r"^```python([^\n]*)\n(.*?)^```", re.DOTALL | re.MULTILINE)


def _cases() -> list:
    out = []
    for code, text in sorted(all_docs().items()):
        secs = sections(text)
        for section in ("Example", "Use instead"):
            for i, m in enumerate(FENCE.finditer(secs.get(section, ""))):
                out.append(pytest.param(code, section, m.group(1).strip(), m.group(2),
                                        id=f"{code}-{section.replace(' ', '_')}-{i}"))
    return out


def test_every_rule_has_a_document_with_the_ruff_sections() -> None:
    docs = all_docs()
    assert set(docs) == set(RULES)
    for code, text in docs.items():
        cls = RULES[code]
        assert text.startswith(f"# {cls.name} ({code})\n"), code
        assert [s for s in sections(text) if s in SECTIONS] == list(SECTIONS), code
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", cls.name), cls.name


def test_every_rule_has_three_examples_each_way() -> None:
    for code, text in all_docs().items():
        secs = sections(text)
        n_bad = len(FENCE.findall(secs["Example"]))
        n_good = len(FENCE.findall(secs["Use instead"]))
        want = 1 if RULES[code].needs_weights else 3
        assert n_bad >= want and n_good >= want, (code, n_bad, n_good)


def test_embedded_copy_is_in_sync() -> None:
    assert main([]) == 0, "run: python -m bnlint.rules.docs --write"
    from bnlint.rules._docs_data import DOCS

    assert DOCS == _files()


@pytest.mark.parametrize(("code", "section", "info", "source"), _cases())
def test_doc_example(code: str, section: str, info: str, source: str, tmp_path: Path) -> None:
    m = re.search(r"checks=(\S+)", info)
    if m:  # a saved-model example: the block shows how the file came to be
        target = ROOT / m.group(1)
        assert target.is_file(), target
    else:
        target = tmp_path / f"{code.lower()}_example.py"
        target.write_text(source, "utf-8")
    result = run([str(target)], Settings(extend_select=[code]))
    got = sorted({f.code for f in result.findings if f.code == code or section == "Use instead"
                  or not m})
    if section == "Example":
        assert got == [code], [f.where() + " " + f.code + " " + f.message
                               for f in result.findings]
    else:
        assert code not in got and (m or got == []), [f.code + " " + f.message
                                                     for f in result.findings]
