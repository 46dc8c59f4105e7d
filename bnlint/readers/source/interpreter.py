"""The interpreter: one Python evaluator over one module context, holding the Keras world it
delegates Keras values to.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bnlint import graph
from bnlint.guard import check_deadline
from bnlint.memo import IdentityCache
from bnlint.readers.source.facts import ProgramFacts
from bnlint.readers.source.imports import Imports, _search_roots
from bnlint.readers.source.keras_world import KerasWorld
from bnlint.readers.source.parse import _MAX_NODE_CACHE, _LazyPositions
from bnlint.readers.source.py_calls import Calls
from bnlint.readers.source.py_expressions import Expressions
from bnlint.readers.source.py_statements import Statements
from bnlint.readers.source.values import MAX_STEPS, ModuleCtx, Scope, _Budget, _CallBudget


class Interpreter(Statements, Imports, Expressions, Calls):
    def __init__(self, module: Any, source: str, version: int, defines: dict[str, Any],
                 line_map: Any = None, path: Path | None = None, modules: Any = None):
        import libcst as cst

        self.cst = cst
        self.module = module
        self.source = source
        self.version = version
        self.defines = defines
        self.line_map = line_map
        self.positions = _LazyPositions(module)
        self.globals = Scope()
        self.steps = 0
        self.step_limit = MAX_STEPS  # lowered while one custom layer call is read
        self.depth = 0
        self.notes: list[str] = []
        self.facts = ProgramFacts.model_construct()
        # code generation dominates loops that run many iterations
        self._texts: IdentityCache[str] = IdentityCache(_MAX_NODE_CACHE)
        self.uncertain: list[str] = []
        self.ctx = ModuleCtx(module, self.positions, source, line_map, path)
        self.main_ctx = self.ctx
        # path -> UserModule (None while loading: a cycle); shared with sub-interpreters
        self.modules: dict[Path, Any] = modules if modules is not None else {}
        self.import_depth = 0
        self.unresolved: dict[str, str] = {}  # module bnlint did not find -> its import
        self.unresolved_noted: set[str] = set()
        self.forced: dict[Any, bool] = {}
        self.define_exprs = any(not k.isidentifier() for k in defines)
        self.decisions: list[tuple[Any, str, bool]] = []  # unknown ifs: (key, text, taken)
        # os.environ as the program set it; a variable it did not set is assumed unset
        self.environ: dict[str, Any] = {}
        self.environ_unknown = False  # it set a variable whose name is not known
        self.roots = _search_roots(path)
        # modules imported but found nowhere bnlint looks: dotted name -> the import's line
        self.keras = KerasWorld(self)

    # -------------------------------------------------------------- helpers
    def switch(self, ctx: ModuleCtx) -> ModuleCtx:
        old = self.ctx
        self.ctx = ctx
        self.module, self.positions, self.source, self.line_map = (
            ctx.module, ctx.positions, ctx.source, ctx.line_map)
        return old

    def text(self, node: Any) -> str:
        return self._texts.get(node, self._code)

    def _code(self, node: Any) -> str:
        try:
            return self.module.code_for_node(node).strip()
        except Exception:  # pragma: no cover - defensive
            return "?"

    def pos(self, node: Any) -> tuple[int, int, int | None]:
        try:
            p = self.positions[node].start
        except KeyError:
            return 0, 0, None
        line = p.line
        if self.line_map is not None:
            cell, cline = self.line_map(line)
            return cline, p.column, cell
        return line, p.column, None

    def loc(self, node: Any) -> graph.Location:
        line, col, cell = self.pos(node)
        return graph.Location.model_construct(file=self.source, line=line, column=col + 1, cell=cell)

    def note(self, node: Any, msg: str) -> None:
        line, _, cell = self.pos(node) if node is not None else (0, 0, None)
        where = f"cell {cell} line {line}" if cell is not None else f"line {line}"
        if self.ctx is not self.main_ctx and node is not None:
            where = f"{Path(self.source).name} {where}"
        text = f"{where}: {msg}"
        if text not in self.notes:
            self.notes.append(text)

    def tick(self) -> None:
        self.steps += 1
        if self.steps > self.step_limit:
            if self.steps > MAX_STEPS:
                raise _Budget(f"step budget of {MAX_STEPS} exhausted")
            raise _CallBudget()
        if not self.steps & 255:
            check_deadline()
