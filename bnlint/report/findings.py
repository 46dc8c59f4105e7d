"""Renderers for findings: text, concise, json (ruff's shape), sarif 2.1.0, github."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from bnlint.rules.base import Finding

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"error": "error", "warning": "warning", "note": "note"}


def render_text(findings: list[Finding], concise: bool = False,
                fixable: set[int] | None = None) -> str:
    """ruff's text output; ``fixable`` (ids of findings ``--fix`` would fix under their file's
    settings) marks those ``[*]`` and adds ruff's count of them and of the hidden fixes (the
    other findings that carry a fix, ``Finding.edits``)."""
    marked = fixable or set()
    out = []
    for f in findings:
        out.append(f"{f.where()}: {f.code} {'[*] ' if id(f) in marked else ''}{f.message}")
        if not concise:
            if f.why:
                out.append(f"  why: {f.why}")
            if f.fix:
                out.append(f"  help: {f.fix}")
    n = len(findings)
    if n and fixable is not None:
        out.append(f"Found {n} finding{'s' if n != 1 else ''}.")
        line = fixable_line(sum(id(f) in marked for f in findings), sum(
            1 for f in findings if f.edits is not None and id(f) not in marked))
        if line:
            out.append(line)
    elif n:
        out.append(f"Found {n} finding{'s' if n != 1 else ''}.")
    return "\n".join(out) + ("\n" if out else "")


def fixable_line(fixable: int, hidden: int) -> str:
    """ruff's ``[*] 2 fixable with the `--fix` option (1 hidden fix can be enabled with the
    `--unsafe-fixes` option).`` (empty when there is neither)."""
    hint = (f"{hidden} hidden fix{'es' if hidden != 1 else ''} can be enabled with the "
            "`--unsafe-fixes` option") if hidden else ""
    if fixable:
        return f"[*] {fixable} fixable with the `--fix` option" + (f" ({hint})." if hint
                                                                      else ".")
    return f"No fixes available ({hint})." if hint else ""


def render_statistics(findings: list[Finding]) -> str:
    counts = Counter((f.code, f.name) for f in findings)
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][0]))
    return "".join(f"{n:>5}\t{code}\t{name}\n" for (code, name), n in rows)


def _loc(row: int | None, col: int | None) -> dict[str, int] | None:
    if row is None:
        return None
    return {"row": row, "column": col or 1}


def as_json(f: Finding, show_fix: bool = True) -> dict[str, Any]:
    end = _loc(f.end_line, f.end_column) if f.end_line is not None else _loc(f.line, f.column)
    return {
        "cell": f.cell,
        "code": f.code,
        "name": f.name,
        "message": f.message,
        "severity": f.severity,
        "filename": f.path,
        "location": _loc(f.line, f.column),
        "end_location": end,
        "config_path": f.config_path,
        "noqa_row": f.line,
        "why": f.why,
        "fix": f.edits if show_fix else None,
        "help": f.fix,
        "url": None,
    }


def render_json(findings: list[Finding], show_fixes: bool = True) -> str:
    return json.dumps([as_json(f, show_fixes) for f in findings], indent=2) + "\n"


def _rule_descriptor(code: str, cls: Any) -> dict[str, Any]:
    from bnlint.rules.docs import doc, sections, summary

    text = doc(code) or ""
    why = " ".join(sections(text).get("Why is this bad?", "").split()) if text else cls.why
    return {
        "id": code,
        "name": cls.name,
        "shortDescription": {"text": summary(code) or cls.name},
        "fullDescription": {"text": why or cls.name},
        "help": {"text": text or cls.fix, "markdown": text or cls.fix},
        "defaultConfiguration": {"level": _SARIF_LEVEL[cls.severity],
                                 "enabled": bool(cls.default)},
        "properties": {"tags": ["keras", "batchnorm"] if code.startswith("BN") else ["keras"]},
    }


def render_sarif(findings: list[Finding], version: str) -> str:
    from bnlint.rules.base import all_rules

    rules = all_rules()
    codes = sorted(rules)
    index = {c: i for i, c in enumerate(codes)}
    results = []
    for f in findings:
        phys: dict[str, Any] = {"artifactLocation": {"uri": f.path.replace("\\", "/")}}
        if f.line is not None:
            region = {"startLine": f.line, "startColumn": f.column or 1}
            if f.end_line is not None:
                region.update(endLine=f.end_line, endColumn=f.end_column or 1)
            phys["region"] = region
        loc: dict[str, Any] = {"physicalLocation": phys}
        if f.config_path:
            loc["logicalLocations"] = [{"fullyQualifiedName": f.config_path, "kind": "member"}]
        if f.cell is not None:
            loc["properties"] = {"cell": f.cell}
        results.append({
            "ruleId": f.code,
            "ruleIndex": index.get(f.code, 0),
            "level": _SARIF_LEVEL.get(f.severity, "warning"),
            "message": {"text": f"{f.message}. {f.why} Fix: {f.fix}".strip()},
            "locations": [loc],
        })
    sarif = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "bnlint",
                "version": version,
                "informationUri": "https://github.com/bnlint/bnlint",
                "rules": [_rule_descriptor(c, rules[c]) for c in codes],
            }},
            "results": results,
        }],
    }
    return json.dumps(sarif, indent=2) + "\n"


def _gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def render_github(findings: list[Finding]) -> str:
    out = []
    for f in findings:
        level = {"error": "error", "warning": "warning", "note": "notice"}[f.severity]
        props = [f"file={_gh_escape(f.path, True)}"]
        if f.line is not None:
            props += [f"line={f.line}", f"col={f.column or 1}"]
            if f.end_line is not None:
                props += [f"endLine={f.end_line}", f"endColumn={f.end_column or 1}"]
        props.append(f"title={_gh_escape(f'{f.code} {f.name}', True)}")
        where = f"{f.config_path}: " if f.config_path else (
            f"cell {f.cell}: " if f.cell is not None else "")
        out.append(f"::{level} {','.join(props)}::{_gh_escape(where + f.code + ' ' + f.message)}")
    return "\n".join(out) + ("\n" if out else "")
