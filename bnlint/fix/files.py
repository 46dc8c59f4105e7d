"""Apply fixes to files: sources and notebook cells, non-overlapping, to a fixed point.

One pass asks every fixer for its edits, keeps the fixes whose edits do not overlap the
ones already kept (removals first, so that a fix of a layer that is being removed is
dropped), applies them, and checks the new text with the same engine as ``bnlint check``
(in memory: nothing is written until the last pass).  Passes repeat while they fix
something, at most :data:`MAX_PASSES` times, as ruff does.  A pass whose result does not
parse, or that bnlint cannot check any more, is abandoned and the file keeps the previous
text.  Notebooks are fixed cell by cell inside the ``.ipynb`` JSON; everything else in it
(outputs, metadata, other cells) is left as it was, byte for byte — a notebook whose JSON
bnlint cannot write back byte for byte is not fixed.  Saved models are never modified.
"""

from __future__ import annotations

import ast
import difflib
import io
import json
import re
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bnlint.fix import may_fix, safety
from bnlint.rules.base import Finding
from bnlint.rules.config import Settings
from bnlint.rules.engine import SAVED_SUFFIXES, Task, analyse_file

# ruff stops after 100 passes too; each pass fixes at least one finding, so fewer run
MAX_PASSES = 100


@dataclass
class FileFix:
    """What fixing one file did (``after`` is ``before`` when nothing was fixed)."""

    display: str
    path: str
    before: bytes
    after: bytes
    fixed: int = 0
    remaining: list[Finding] = field(default_factory=list)
    hidden: int = 0  # unsafe fixes that --unsafe-fixes would apply
    notes: list[str] = field(default_factory=list)
    fixed_codes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.after != self.before


# ------------------------------------------------------------------------ text level


def _conflict(a: tuple[int, int], b: tuple[int, int]) -> bool:
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    if a[0] == a[1] or b[0] == b[1]:  # an insertion conflicts with anything it touches
        return lo <= hi
    return lo < hi


def _offsets(text: str) -> list[int]:
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    return starts


def _apply(text: str, edits: Iterable[tuple[int, int, str]]) -> str:
    for start, end, new in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


@dataclass
class _Planned:
    finding: Finding
    edits: list[tuple[int, int, str]]
    removes: set[str]
    needs: set[str]


def fix_text(text: str, findings: list[Finding], s: Settings, unsafe: bool, *,
             parse_text: str | None = None, numpy: tuple[str | None, set[str]] | None = None,
             ) -> tuple[str, list[Finding], int]:
    """One pass over one text: (new text, findings fixed, unsafe fixes left out).

    ``parse_text`` is what libcst parses when it differs from ``text`` with the same lines
    (a notebook cell with its IPython magics blanked); ``numpy`` the program's numpy alias
    and names when the text is one cell of a larger program.
    """
    from bnlint.fix.fixers import FIXERS, Source

    blank = (lambda t: t) if parse_text is None else _blanker()
    try:
        src = Source(text, parse_text)
    except Exception:  # libcst cannot parse what ast did: no fixes for this text
        return text, [], 0
    starts = _offsets(text)

    def offset(pos: tuple[int, int]) -> int:
        line, col = pos
        if line - 1 >= len(starts):
            return len(text)
        return min(starts[line - 1] + col, len(text))

    planned: list[_Planned] = []
    hidden = 0
    for f in findings:
        fixer = FIXERS.get(f.code)
        if fixer is None or not f.fix_args or not may_fix(f, s):  # no fix_args: no fix
            continue
        try:
            if f.code == "BN012" and numpy is not None:
                fx = fixer(src, f, program_names=numpy[1], numpy_alias=numpy[0])
            else:
                fx = fixer(src, f)
        except Exception:  # a fixer that fails leaves the finding as it is
            fx = None
        if fx is None:
            continue
        if safety(f.code, fx.safety, s) == "unsafe" and not unsafe:
            hidden += 1
            continue
        planned.append(_Planned(f, [(offset(e.start), offset(e.end), e.text)
                                    for e in fx.edits], fx.removes, fx.needs))
    planned.sort(key=lambda p: (not p.removes, min((e[0] for e in p.edits), default=0)))
    kept: list[_Planned] = []
    duplicates: list[_Planned] = []
    removed: set[str] = set()
    for p in planned:
        if p.needs & removed:
            continue
        if any(p.edits == k.edits for k in kept):  # the same edit (one call site of several
            duplicates.append(p)               # layers, e.g. a helper called in a loop): ruff
            continue                           # counts each finding it fixes
        spans = [(e[0], e[1]) for e in p.edits]
        if any(_conflict(a, b) for k in kept for a in spans for b in
               ((e[0], e[1]) for e in k.edits)):
            continue
        kept.append(p)
        removed |= p.removes
    if not kept:
        return text, [], hidden
    new = _apply(text, (e for p in kept for e in p.edits))
    if not _parses(blank(new)):
        # keep only the fixes that parse one by one (a fixer bug must not break the file)
        good: list[_Planned] = []
        for p in kept:
            trial = _apply(text, (e for q in [*good, p] for e in q.edits))
            if _parses(blank(trial)):
                good.append(p)
        kept = good
        new = _apply(text, (e for p in kept for e in p.edits))
        duplicates = [d for d in duplicates if any(d.edits == k.edits for k in kept)]
    return new, [p.finding for p in [*kept, *duplicates]], hidden


def _blanker() -> Any:
    from bnlint.readers.notebook import blank_magics

    return blank_magics


def numpy_names(program: str) -> tuple[str | None, set[str]]:
    """The numpy alias bound at the top level of a program, and every name it uses."""
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None, set()
    alias = None
    for node in tree.body:
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "numpy":
                    alias = a.asname or "numpy"
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    names |= {a.asname or a.name.split(".")[0] for n in ast.walk(tree)
              if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    return alias, names


# ------------------------------------------------------------------------ file level


class CannotFix(Exception):
    """The file cannot be fixed (a note for the user)."""


def _decode(raw: bytes) -> tuple[str, str]:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        return raw.decode(encoding), encoding
    except (SyntaxError, UnicodeDecodeError, LookupError):
        raise CannotFix("not decodable text: not fixed") from None


def _notebook_dump(data: Any, like: str) -> str:
    m = re.search(r"\n( +)\S", like)
    indent = len(m.group(1)) if m else None
    text = json.dumps(data, indent=indent, ensure_ascii="\\u" in like and like.isascii())
    return text + ("\n" if like.endswith("\n") else "")


def _fix_once(suffix: str, raw: bytes, findings: list[Finding], s: Settings, unsafe: bool,
              ) -> tuple[bytes, list[Finding], int]:
    if suffix == ".ipynb":
        return _fix_notebook(raw, findings, s, unsafe)
    text, encoding = _decode(raw)
    new, fixed, hidden = fix_text(text, findings, s, unsafe)
    return (new.encode(encoding) if fixed else raw), fixed, hidden


def _fix_notebook(raw: bytes, findings: list[Finding], s: Settings, unsafe: bool,
                  ) -> tuple[bytes, list[Finding], int]:
    from bnlint.readers.notebook import blank_magics, join_cells, notebook_cells

    try:
        like = raw.decode("utf-8")
        data = json.loads(like)
        cells = data["cells"]
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, RecursionError):
        raise CannotFix("not a JSON notebook: not fixed") from None
    if _notebook_dump(data, like) != like:
        raise CannotFix("bnlint cannot write this notebook's JSON back byte for byte: "
                        "not fixed")
    program, _ = join_cells(notebook_cells(data))
    numpy = numpy_names(program)
    fixed: list[Finding] = []
    hidden = 0
    by_cell: dict[int, list[Finding]] = {}
    for f in findings:
        if f.cell is not None:
            by_cell.setdefault(f.cell, []).append(f)
    removing = {number: {str(f.fix_args.get("bn")) for f in group if f.fix_args.get("remove")}
                for number, group in by_cell.items()} if unsafe else {}
    for number, group in sorted(by_cell.items()):
        if not 1 <= number <= len(cells) or not isinstance(cells[number - 1], dict):
            continue
        elsewhere = set().union(*(names for n, names in removing.items() if n != number))
        # a fix that needs a layer another cell's fix removes waits for the next pass
        group = [f for f in group if str(f.fix_args.get("bn")) not in elsewhere
                 or f.fix_args.get("remove")]
        cell = cells[number - 1]
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        new, done, h = fix_text(text, group, s, unsafe, parse_text=blank_magics(text),
                                numpy=numpy)
        hidden += h
        if not done:
            continue
        fixed.extend(done)
        cell["source"] = new.splitlines(keepends=True) if isinstance(source, list) else new
    if not fixed:
        return raw, [], hidden
    return _notebook_dump(data, like).encode("utf-8"), fixed, hidden


def fix_file(task: Task, findings: list[Finding], unsafe: bool) -> FileFix:
    """Fix one file in memory (nothing is written): passes to a fixed point, re-checked."""
    path = Path(task.path)
    out = FileFix(task.display, task.path, b"", b"", remaining=list(findings))
    if path.suffix.lower() in SAVED_SUFFIXES:
        n = sum(1 for f in findings if may_fix(f, task.settings))
        if n:
            out.notes.append(f"saved models are never modified: {n} finding"
                             f"{'s' if n != 1 else ''} left unfixed")
        return out
    try:
        raw = path.read_bytes()
    except OSError as exc:
        out.notes.append(f"cannot read ({exc.strerror or exc}): not fixed")
        return out
    out.before = out.after = raw
    current, current_findings = raw, list(findings)
    suffix = path.suffix.lower()
    for _ in range(MAX_PASSES):
        if not any(may_fix(f, task.settings) for f in current_findings):
            break
        try:
            new, done, _ = _fix_once(suffix, current, current_findings, task.settings, unsafe)
        except CannotFix as exc:
            out.notes.append(str(exc))
            break
        if not done:
            break
        outcome = analyse_file(task, raw=new)
        if outcome.status not in ("checked", "skipped"):
            out.notes.append("a fix made the file unreadable to bnlint; that pass was not "
                             "applied (please report this)")
            break
        current, current_findings = new, outcome.findings
        out.fixed += len(done)
        out.fixed_codes.extend(f.code for f in done)
    if not unsafe and any(may_fix(f, task.settings) for f in current_findings):
        try:  # the unsafe fixes left out: ruff's "hidden fixes" hint
            _, _, out.hidden = _fix_once(suffix, current, current_findings, task.settings,
                                         False)
        except CannotFix:
            pass
    out.after = current
    out.remaining = current_findings
    return out


def unified_diff(fx: FileFix) -> str:
    """The change as a unified diff ``git apply`` accepts (``a/`` and ``b/`` prefixes)."""
    before = _text_for_diff(fx.before)
    after = _text_for_diff(fx.after)
    name = fx.display.replace("\\", "/")
    # A path outside the working directory stays absolute, without the a/ b/ prefixes
    # (`patch -p0` takes it; `a//abs/x.py` would be nobody's path).
    absolute = Path(fx.display).is_absolute()
    lines = difflib.unified_diff(before.splitlines(keepends=True),
                                 after.splitlines(keepends=True),
                                 fromfile=name if absolute else f"a/{name}",
                                 tofile=name if absolute else f"b/{name}")
    out = []
    for line in lines:
        if not line.endswith("\n"):
            line += "\n\\ No newline at end of file\n"
        out.append(line)
    return "".join(out)


def _text_for_diff(raw: bytes) -> str:
    try:
        return _decode(raw)[0]
    except CannotFix:
        return raw.decode("utf-8", errors="replace")


def write(fx: FileFix) -> None:
    if fx.changed:
        Path(fx.path).write_bytes(fx.after)




# ------------------------------------------------------------------- fix previews


def fix_previews(findings: list[Finding], s: Settings, raw: bytes, notebook: bool) -> None:
    """Set ruff's ``fix`` (``Finding.edits``) on each finding of one file that has one under
    its settings: ``{"applicability": "safe" | "unsafe", "message", "edits": [{"content",
    "location", "end_location"}]}`` with 1-based rows and columns (a notebook finding's rows
    are in its cell, as its location is).  Each fix is computed alone, as ``--fix`` would try
    it; libcst is imported only when some finding's rule has a fixer."""
    wanted = [f for f in findings if f.fix_args and may_fix(f, s)]
    if not wanted:
        return
    from bnlint.fix.fixers import FIXERS, Source

    wanted = [f for f in wanted if f.code in FIXERS]
    try:
        texts = _texts_to_fix(raw, notebook)
    except CannotFix:
        return
    sources: dict[int | None, Any] = {}
    for f in wanted:
        if f.cell not in texts:
            continue
        text, parse_text, numpy = texts[f.cell]
        try:
            if f.cell not in sources:
                sources[f.cell] = Source(text, parse_text)
            src = sources[f.cell]
            if f.code == "BN012" and numpy is not None:
                fx = FIXERS[f.code](src, f, program_names=numpy[1], numpy_alias=numpy[0])
            else:
                fx = FIXERS[f.code](src, f)
        except Exception:  # a fixer that fails offers no fix
            continue
        if fx is None or not fx.edits:
            continue
        f.edits = {
            "applicability": safety(f.code, fx.safety, s),
            "message": f.fix or None,
            "edits": [{"content": e.text,
                       "location": {"row": e.start[0], "column": e.start[1] + 1},
                       "end_location": {"row": e.end[0], "column": e.end[1] + 1}}
                      for e in fx.edits],
        }


def _texts_to_fix(raw: bytes, notebook: bool
                  ) -> dict[int | None, tuple[str, str | None, tuple[str | None, set[str]] | None]]:
    """The texts fixers work on: the source (cell None), or each notebook cell (1-based) with
    its magics blanked for parsing and the whole program's numpy names."""
    if not notebook:
        return {None: (_decode(raw)[0], None, None)}
    from bnlint.readers.notebook import blank_magics, join_cells, notebook_cells

    try:
        data = json.loads(raw.decode("utf-8"))
        cells = data["cells"]
        program, _ = join_cells(notebook_cells(data))
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, RecursionError):
        raise CannotFix("not a JSON notebook") from None
    numpy = numpy_names(program)
    out: dict[int | None, tuple[str, str | None, tuple[str | None, set[str]] | None]] = {}
    for number, cell in enumerate(cells, 1):
        if isinstance(cell, dict):
            source = cell.get("source", "")
            text = "".join(source) if isinstance(source, list) else str(source)
            out[number] = (text, blank_magics(text), numpy)
    return out
