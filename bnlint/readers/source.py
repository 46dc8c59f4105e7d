"""Read Keras model-building Python source statically: a small abstract interpreter.

The user's code is parsed with libcst and *interpreted* over abstract values —
never imported, executed or passed to ``eval``.  Values are plain Python data
(numbers, strings, tuples, lists, dicts), :class:`~bnlint.symbolic.Sym` for
integers that cannot be known (named after their source text), :class:`Opaque`
for anything else unknown, references into Keras (:class:`KRef`), the abstract
Keras objects of :mod:`bnlint.keras.builder`, and user functions/classes whose
bodies are interpreted with bound arguments.  Every loop, recursion and the
total number of steps is bounded; hitting a bound leaves a note and a partial
result.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field

from bnlint import graph
from bnlint.guard import check_deadline
from bnlint.memo import IdentityCache
from bnlint.symbolic import Sym

__all__ = [
    "CallFact",
    "FunctionInfo",
    "ProgramFacts",
    "Reference",
    "SourceError",
    "SourceResult",
    "TrainableFact",
    "mentions_keras",
    "read_source",
    "read_text",
]

MAX_STEPS = 200_000
MAX_DEPTH = 40
MAX_LOOP = 10_000
MAX_SEQ = 1_000_000
MAX_IMPORT_DEPTH = 8
MAX_MODULES = 64

_KERAS_RE = re.compile(r"\b(keras|tensorflow|tf_keras)\b")


def mentions_keras(text: str) -> bool:
    """Cheap pre-filter: does the text mention Keras or TensorFlow at all?"""
    return _KERAS_RE.search(text) is not None


# --------------------------------------------------------------------------- results


class SourceError(Exception):
    """The source cannot be read (message: one line, ``line N: message``)."""


class Reference(graph.Record):
    """A ``layers[i]`` / ``get_layer`` / ``get_weights()[k]`` expression and what it denotes."""

    line: int
    column: int | None = None
    cell: int | None = None
    text: str
    kind: str  # "layer" | "weight"
    model: str | None = None  # model name
    layer: str | None = None
    weight: str | None = None
    shape: str | None = None
    description: str  # e.g. "batch_normalization_1.moving_mean (256,)"


class CallFact(graph.Record):
    """A call on a model: compile/fit/predict/evaluate/load_weights/__call__..."""

    variable: str  # receiver as written, e.g. "modelbatch"
    model: str | None  # the model's Keras name
    method: str
    line: int
    cell: int | None = None
    kwargs: dict[str, Any] = Field(default_factory=dict)
    training: Any = None  # value of training= when given


class TrainableFact(graph.Record):
    target: str  # expression as written
    resolved: str | None  # layer/model name
    is_model: bool = False
    value: Any
    line: int
    cell: int | None = None


class ProgramFacts(graph.Record):
    calls: list[CallFact] = Field(default_factory=list)
    trainable: list[TrainableFact] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)


class FunctionInfo(graph.Record):
    name: str
    parameters: list[tuple[str, str | None]]  # (name, default as text or None)
    line: int


class SourceResult(graph.Record):
    models: list[graph.Model] = Field(default_factory=list)
    functions: list[FunctionInfo] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    facts: ProgramFacts = Field(default_factory=ProgramFacts.model_construct)
    notes: list[str] = Field(default_factory=list)
    keras_version: int = 3


# --------------------------------------------------------------------------- values


class Opaque:
    """A value bnlint cannot know; ``text`` is its source text."""

    __slots__ = ("_text",)

    def __init__(self, text: Any):
        self._text = text  # a str, or a lazy object whose str() is the text

    @property
    def text(self) -> str:
        t = self._text
        if not isinstance(t, str):
            t = self._text = str(t)
        return t

    def __repr__(self) -> str:
        return f"<opaque {self.text}>"


@dataclass(eq=False)
class KRef:
    """A reference to a Keras (or TensorFlow) module/attribute: ``keras.layers.Dense``."""

    path: str


@dataclass(eq=False)
class PyMod:
    """A plain Python module (``math``, ``copy``, ``os``...): only pure helpers are modelled."""

    name: str


@dataclass(eq=False)
class Builtin:
    name: str


@dataclass(eq=False)
class UserFunc:
    node: Any
    closure: Scope
    name: str
    defaults: dict[str, Any]
    owner: UserClass | None = None
    is_lambda: bool = False
    ctx: Any = None  # the ModuleCtx the function was defined in
    kind: str = "function"  # "staticmethod" / "classmethod" when so decorated


@dataclass(eq=False)
class ModuleCtx:
    """What text/positions of a node refer to: the module being interpreted."""

    module: Any
    positions: Any
    source: str
    line_map: Any = None
    path: Path | None = None


@dataclass(eq=False)
class UserModule:
    """A helper module of the project (or of Keras's own source), read statically."""

    name: str
    path: Path
    scope: Scope
    ctx: ModuleCtx
    is_package: bool = False


@dataclass(eq=False)
class UserClass:
    node: Any
    name: str
    bases: list[Any]
    ns: dict[str, Any]
    closure: Scope

    def lookup(self, name: str, depth: int = 0) -> Any:
        if name in self.ns:
            return self.ns[name]
        if depth > 20:
            return _MISSING
        for b in self.bases:
            if isinstance(b, UserClass):
                v = b.lookup(name, depth + 1)
                if v is not _MISSING:
                    return v
        return _MISSING

    def keras_base(self, depth: int = 0) -> str | None:
        """'model' / 'layer' when the class derives from keras.Model / keras.layers.Layer."""
        for b in self.bases:
            if isinstance(b, KRef):
                last = b.path.rsplit(".", 1)[-1]
                if last in ("Model", "Functional", "Sequential"):
                    return "model"
                if last == "Layer":
                    return "layer"
            if isinstance(b, UserClass) and depth < 20:
                k = b.keras_base(depth + 1)
                if k:
                    return k
        return None


@dataclass(eq=False)
class Instance:
    cls: UserClass
    attrs: dict[str, Any] = field(default_factory=dict)
    kmodel: Any = None  # KModel for keras.Model subclasses
    klayer: Any = None  # KLayer for keras.layers.Layer subclasses
    tracked: list[Any] = field(default_factory=list)
    weights: list[Any] = field(default_factory=list)  # WeightSpec from add_weight, in order
    calling_build: bool = False  # its own build() runs as part of Keras's first call


@dataclass(eq=False)
class Bound:
    obj: Any
    func: Any  # UserFunc, or a str naming a native method


@dataclass(eq=False)
class SuperProxy:
    inst: Any
    cls: UserClass


@dataclass(eq=False)
class WeightList:
    owner: Any  # KLayer / KModel
    entries: list[graph.Weight]
    text: str
    model_name: str | None


@dataclass(eq=False)
class WeightArray:
    weight: graph.Weight
    layer: str

    @property
    def shape(self) -> tuple:
        return tuple(self.weight.shape)


@dataclass(eq=False)
class WeightVar:
    """A variable a custom layer created with ``self.add_weight(...)``."""

    spec: Any  # catalogue.WeightSpec
    layer: str

    @property
    def shape(self) -> tuple:
        return tuple(self.spec.shape)


@dataclass
class SeqState:
    layers: list[Any] = field(default_factory=list)
    input: Any = None  # KTensor
    dirty: bool = True
    added: list[tuple[Any, int]] = field(default_factory=list)


_MISSING = object()


class _Return(Exception):
    def __init__(self, value: Any):
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _Raise(Exception):
    pass


class _Budget(Exception):
    pass


class Scope:
    __slots__ = ("globals_decl", "parent", "vars")

    def __init__(self, parent: Scope | None = None):
        self.vars: dict[str, Any] = {}
        self.parent = parent
        self.globals_decl: set[str] = set()

    def lookup(self, name: str) -> Any:
        s: Scope | None = self
        while s is not None:
            if name in s.vars:
                return s.vars[name]
            s = s.parent
        return _MISSING

    def root(self) -> Scope:
        s = self
        while s.parent is not None:
            s = s.parent
        return s

    def set(self, name: str, value: Any) -> None:
        if name in self.globals_decl:
            self.root().vars[name] = value
        else:
            self.vars[name] = value


_PURE_BUILTINS = {
    "len", "range", "int", "float", "str", "bool", "list", "tuple", "dict", "set", "min", "max",
    "sum", "abs", "round", "enumerate", "zip", "reversed", "sorted", "isinstance", "print", "any",
    "all", "map", "filter", "super", "hasattr", "getattr", "setattr", "type", "divmod", "pow",
    "frozenset", "iter", "next", "callable", "repr", "format", "chr", "ord", "hex",
}
_STR_METHODS = {"format", "upper", "lower", "join", "split", "replace", "startswith", "endswith",
                "strip", "lstrip", "rstrip", "title", "capitalize", "zfill", "count", "find",
                "rsplit", "isdigit"}
_LIST_PURE = {"index", "count", "copy"}
_DICT_PURE = {"get", "items", "keys", "values", "copy"}
_MERGE_FUNCS = {"add": "Add", "subtract": "Subtract", "multiply": "Multiply", "average": "Average",
                "maximum": "Maximum", "minimum": "Minimum", "concatenate": "Concatenate",
                "dot": "Dot"}
_MODEL_FACT_METHODS = {"compile", "fit", "fit_generator", "train_on_batch", "predict",
                       "predict_on_batch", "evaluate", "evaluate_generator", "predict_generator",
                       "test_on_batch", "load_weights", "save_weights", "save"}


# Keras 3 layers that are built in __init__ (they call ``_build_at_init`` or set ``built``):
# a subclass holding only these has no "unbuilt state", so Keras does not run its call() an
# extra time to build it (``Layer._maybe_build``).
_BUILT_AT_INIT = frozenset({
    "Activation", "ELU", "LeakyReLU", "ReLU", "Softmax", "Identity", "Masking",
    "UnitNormalization", "Reshape", "ActivityRegularization", "AlphaDropout", "Dropout",
    "GaussianDropout", "GaussianNoise", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D",
    "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "GlobalMaxPooling1D",
    "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GlobalAveragePooling1D",
    "GlobalAveragePooling2D", "GlobalAveragePooling3D",
})

_STATE_IN_CALL = ("Keras 3 raises ValueError when call() creates state: 'You cannot add new "
                  "elements of state (variables or sub-layers) to a layer that is already "
                  "built' (create it in __init__ or build)")

_KERAS_CONSTANTS = {"image_data_format": "channels_last", "floatx": "float32",
                    "epsilon": 1e-07, "backend": "tensorflow"}


def _search_roots(path: Path | None) -> list[Path]:
    """Where ``import x`` of the analysed file looks: its directory, then the directory that
    holds its top-level package (walking up through ``__init__.py`` files)."""
    if path is None:
        return []
    d = path.resolve().parent
    roots = [d]
    while (d / "__init__.py").is_file() and d.parent != d:
        d = d.parent
        roots.append(d)
    # Installed libraries are never read (only Keras's own applications, see keras_source).
    return [r for r in roots if not _is_library_dir(r)]


def _is_library_dir(d: Path) -> bool:
    import sys
    import sysconfig

    if any(part in ("site-packages", "dist-packages") for part in d.parts):
        return True
    paths = sysconfig.get_paths()
    libs = {Path(paths[k]).resolve() for k in ("stdlib", "platstdlib") if k in paths}
    del sys
    return any(d == lib or lib in d.parents for lib in libs)


_APPS_DIR: dict[int, Any] = {}
_APP_INDEX: dict[int, dict[str, str]] = {}


def _keras_apps_dir(version: int) -> Path | None:
    """keras/src/applications (tf_keras/src/applications) of the installed package, on disk."""
    if version in _APPS_DIR:
        return _APPS_DIR[version]
    import sys

    pkg = "keras" if version == 3 else "tf_keras"
    found = None
    for entry in sys.path:
        cand = Path(entry or ".") / pkg / "src" / "applications"
        if cand.is_dir():
            found = cand
            break
    _APPS_DIR[version] = found
    return found


def _keras_app_index(version: int) -> dict[str, str]:
    """Public application function name -> module (a text scan for ``def Name(``)."""
    if version in _APP_INDEX:
        return _APP_INDEX[version]
    index: dict[str, str] = {}
    root = _keras_apps_dir(version)
    if root is not None:
        for f in sorted(root.glob("*.py")):
            if f.name.endswith("_test.py") or f.name.startswith("_"):
                continue
            try:
                text = f.read_text(encoding="utf-8")
            except OSError:
                continue
            for m in re.finditer(r"^def ([A-Z]\w*)\(", text, re.MULTILINE):
                index.setdefault(m.group(1), f.stem)
    _APP_INDEX[version] = index
    return index


def _norm_text(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _canon_import(path: str) -> tuple[Any, bool]:
    """An imported dotted module path as a value; second item: it is tf_keras."""
    parts = path.split(".")
    if parts[0] == "tf_keras":
        return KRef(".".join(["keras", *parts[1:]])), True
    if parts[0] == "keras":
        return KRef(path), False
    if parts[0] == "tensorflow":
        if len(parts) >= 2 and parts[1] == "keras":
            return KRef(".".join(["keras", *parts[2:]])), False
        if len(parts) >= 3 and parts[1] == "python" and parts[2] == "keras":
            return KRef(".".join(["keras", *parts[3:]])), False
        return KRef(path), False
    return PyMod(path), False


# --------------------------------------------------------------------------- interpreter


class Interpreter:
    def __init__(self, module: Any, source: str, version: int, defines: dict[str, Any],
                 line_map: Any = None, path: Path | None = None, modules: Any = None):
        import libcst as cst

        from bnlint.keras.naming import NameCounters

        self.cst = cst
        self.module = module
        self.source = source
        self.version = version
        self.defines = defines
        self.line_map = line_map
        self.positions = _LazyPositions(module)
        self.counters = NameCounters(version)
        self.globals = Scope()
        self.steps = 0
        self.depth = 0
        self.notes: list[str] = []
        self.facts = ProgramFacts.model_construct()
        self.models: list[Any] = []  # every KModel / model Instance created, in order
        self.seq: dict[int, SeqState] = {}
        self.input_arg: dict[int, tuple | None] = {}
        # code generation dominates loops that run many iterations
        self._texts: IdentityCache[str] = IdentityCache(_MAX_NODE_CACHE)
        self.graph_cache: dict[int, tuple[int, graph.Model]] = {}
        self.uncertain: list[str] = []
        self.in_custom = 0  # > 0 while interpreting a custom layer's call()
        self.calling: list[Instance] = []  # subclass instances whose call() is running
        self.graph_depth = 0  # > 0 inside a tf_keras symbolic call (graph_scope)
        self.ctx = ModuleCtx(module, self.positions, source, line_map, path)
        self.main_ctx = self.ctx
        # path -> UserModule (None while loading: a cycle); shared with sub-interpreters
        self.modules: dict[Path, Any] = modules if modules is not None else {}
        self.import_depth = 0
        self.forced: dict[Any, bool] = {}
        self.define_exprs = any(not k.isidentifier() for k in defines)
        self.decisions: list[tuple[Any, str, bool]] = []  # unknown ifs: (key, text, taken)
        self.roots = _search_roots(path)

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
        if self.steps > MAX_STEPS:
            raise _Budget(f"step budget of {MAX_STEPS} exhausted")
        if not self.steps & 255:
            check_deadline()

    # -------------------------------------------------------------- statements
    def run_module(self) -> None:
        self.exec_block(self.module.body, self.globals)

    def exec_block(self, stmts: Any, scope: Scope) -> None:
        for st in stmts:
            self.exec_stmt(st, scope)

    def exec_stmt(self, st: Any, scope: Scope) -> None:
        self.tick()
        name = type(st).__name__
        fn = getattr(self, "st_" + name, None)
        if fn is None:
            return
        fn(st, scope)

    def body_of(self, node: Any) -> Any:
        return node.body.body if hasattr(node.body, "body") else node.body

    def st_SimpleStatementLine(self, st: Any, scope: Scope) -> None:
        for small in st.body:
            self.exec_stmt(small, scope)

    def st_SimpleStatementSuite(self, st: Any, scope: Scope) -> None:
        for small in st.body:
            self.exec_stmt(small, scope)

    def st_Expr(self, st: Any, scope: Scope) -> None:
        self.ev(st.value, scope)

    def st_Assign(self, st: Any, scope: Scope) -> None:
        value = self.ev(st.value, scope)
        for t in st.targets:
            self.assign(t.target, value, scope, st)

    def st_AnnAssign(self, st: Any, scope: Scope) -> None:
        if st.value is not None:
            self.assign(st.target, self.ev(st.value, scope), scope, st)

    def st_AugAssign(self, st: Any, scope: Scope) -> None:
        op = type(st.operator).__name__.replace("Assign", "")
        cur = self.ev(st.target, scope)
        rhs = self.ev(st.value, scope)
        if op == "Add" and isinstance(cur, list) and isinstance(rhs, (list, tuple)):
            cur.extend(rhs)
            return
        self.assign(st.target, self.binop(op, cur, rhs, st), scope, st)

    def st_Pass(self, st: Any, scope: Scope) -> None:
        return

    def st_Return(self, st: Any, scope: Scope) -> None:
        raise _Return(None if st.value is None else self.ev(st.value, scope))

    def st_Break(self, st: Any, scope: Scope) -> None:
        raise _Break()

    def st_Continue(self, st: Any, scope: Scope) -> None:
        raise _Continue()

    def st_Raise(self, st: Any, scope: Scope) -> None:
        raise _Raise()

    def st_Global(self, st: Any, scope: Scope) -> None:
        for item in st.names:
            scope.globals_decl.add(item.name.value)

    def st_Import(self, st: Any, scope: Scope) -> None:
        for alias in st.names:
            full = self.text(alias.name)
            value, _ = _canon_import(full)
            if isinstance(value, PyMod):
                um = self.import_user(full, 0, st)
                if um is not None:
                    if alias.asname is not None:
                        scope.set(self.text(alias.asname.name), um)
                    else:
                        top = full.split(".")[0]
                        scope.set(top, self.import_user(top, 0, st) or um)
                    continue
            if alias.asname is not None:
                scope.set(self.text(alias.asname.name), value)
            else:
                top = full.split(".")[0]
                v, _ = _canon_import(top)
                scope.set(top, v)

    def st_ImportFrom(self, st: Any, scope: Scope) -> None:
        level = len(st.relative) if st.relative else 0
        mod = self.text(st.module) if st.module is not None else ""
        if level or not isinstance(_canon_import(mod)[0], KRef):
            um = self.import_user(mod, level, st) if (mod or level) else None
            if um is not None:
                self.bind_from(um, st, scope)
                return
        if st.relative or st.module is None:
            if not isinstance(st.names, self.cst.ImportStar):
                for alias in st.names:
                    nm = self.text(alias.asname.name) if alias.asname else self.text(alias.name)
                    scope.set(nm, Opaque(nm))
            return
        base, _ = _canon_import(mod)
        if isinstance(st.names, self.cst.ImportStar):
            if isinstance(base, KRef):
                self.note(st, f"`from {mod} import *`: names are resolved lazily")
                scope.vars.setdefault("__star__", []).append(base)
            return
        for alias in st.names:
            nm = self.text(alias.name)
            bound = self.text(alias.asname.name) if alias.asname else nm
            if isinstance(base, KRef):
                ref, _ = _canon_import(f"{mod}.{nm}")
                scope.set(bound, ref)
            else:
                scope.set(bound, PyMod(f"{mod}.{nm}"))

    # -------------------------------------------------------------- helper modules
    def bind_from(self, um: UserModule, st: Any, scope: Scope) -> None:
        if isinstance(st.names, self.cst.ImportStar):
            for k, v in um.scope.vars.items():
                if not k.startswith("_"):
                    scope.set(k, v)
            return
        for alias in st.names:
            nm = self.text(alias.name)
            bound = self.text(alias.asname.name) if alias.asname else nm
            v = self.module_attr(um, nm, st)
            scope.set(bound, v if v is not _MISSING else Opaque(nm))

    def module_attr(self, um: UserModule, name: str, node: Any) -> Any:
        if name in um.scope.vars:
            return um.scope.vars[name]
        if um.is_package:
            sub = self.load_file(um.path.parent / name, f"{um.name}.{name}", node)
            if sub is not None:
                um.scope.vars[name] = sub
                return sub
        return _MISSING

    def import_user(self, dotted: str, level: int, node: Any) -> UserModule | None:
        """A module of the analysed project, found on disk (never imported)."""
        import sys

        parts = [p for p in dotted.split(".") if p]
        if not level and parts and (parts[0] in sys.stdlib_module_names or parts[0] in (
                "numpy", "pandas", "tensorflow", "keras", "tf_keras", "torch", "jax", "scipy",
                "sklearn", "matplotlib", "PIL", "cv2")):
            return None
        if level:
            cur = self.ctx.path
            if cur is None:
                return None
            base = cur.parent
            for _ in range(level - 1):
                base = base.parent
            bases = [base]
        else:
            bases = list(self.roots)
        for base in bases:
            um = None
            if not parts:
                um = self.load_file(base, base.name, node)
            else:
                cur_mod = None
                d = base
                for i, part in enumerate(parts):
                    m = self.load_file(d / part, ".".join(parts[: i + 1]), node)
                    if m is None:
                        cur_mod = None
                        break
                    if cur_mod is not None:
                        cur_mod.scope.vars.setdefault(part, m)
                    cur_mod = m
                    d = d / part
                um = cur_mod
            if um is not None:
                return um
        return None

    def load_file(self, stem: Path, name: str, node: Any,
                  is_keras: bool = False) -> UserModule | None:
        import libcst as cst

        is_pkg = False
        if (stem / "__init__.py").is_file():
            path, is_pkg = stem / "__init__.py", True
        elif stem.with_suffix(".py").is_file():
            path = stem.with_suffix(".py")
        else:
            return None
        path = path.resolve()
        if self.ctx.path is not None and path == self.ctx.path.resolve():
            return None
        if path in self.modules:
            return self.modules[path]  # None while it is being loaded (an import cycle)
        if len(self.modules) >= MAX_MODULES or self.import_depth >= MAX_IMPORT_DEPTH:
            self.note(node, f"`{name}`: import bound hit; not read")
            return None
        try:
            module, lazy = _parse_cached(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, cst.ParserSyntaxError, RecursionError, ValueError):
            self.note(node, f"`{name}`: cannot read {path}")
            self.modules[path] = None
            return None
        positions = lazy if not is_keras else {}
        ctx = ModuleCtx(module, positions, str(path), None, path)
        um = UserModule(name, path, Scope(), ctx, is_pkg)
        um.scope.vars["__name__"] = name
        self.modules[path] = um
        old = self.switch(ctx)
        self.import_depth += 1
        try:
            self.exec_block(module.body, um.scope)
        except (_Return, _Break, _Continue, _Raise):
            pass
        finally:
            self.import_depth -= 1
            self.switch(old)
        return um

    def keras_source(self, path: str, node: Any) -> Any:
        """A function/value of Keras's own applications source, read from the installed package."""
        parts = path.split(".")
        if parts[:3] == ["keras", "src", "applications"]:
            rest = parts[3:]
        elif parts[:2] == ["keras", "applications"]:
            rest = parts[2:]
        else:
            return _MISSING
        root = _keras_apps_dir(self.version)
        if root is None or not rest:
            return _MISSING
        if len(rest) == 1:
            mod = _keras_app_index(self.version).get(rest[0])
            if mod is None:
                um = self.load_file(root / rest[0], f"keras.applications.{rest[0]}", node, True)
                return um if um is not None else _MISSING
            rest = [mod, rest[0]]
        um = self.load_file(root / rest[0], f"keras.applications.{rest[0]}", node, True)
        if um is None:
            return _MISSING
        v: Any = um
        for attr in rest[1:]:
            if not isinstance(v, UserModule):
                return _MISSING
            v = self.module_attr(v, attr, node)
            if v is _MISSING:
                return _MISSING
        return v

    def st_FunctionDef(self, st: Any, scope: Scope) -> None:
        defaults = {}
        params = st.params
        for p in [*params.posonly_params, *params.params, *params.kwonly_params]:
            if p.default is not None:
                defaults[p.name.value] = self.ev(p.default, scope)
        fn = UserFunc(st, scope, st.name.value, defaults, ctx=self.ctx)
        for dec in st.decorators:
            d = self.text(dec.decorator)
            if d == "property":
                fn.defaults["__property__"] = True
            elif d in ("staticmethod", "classmethod"):
                fn.kind = d
        scope.set(st.name.value, fn)

    def st_ClassDef(self, st: Any, scope: Scope) -> None:
        bases = [self.ev(a.value, scope) for a in st.bases if not a.keyword]
        cls = UserClass(st, st.name.value, bases, {}, scope)
        ns = Scope(scope)
        self.exec_block(self.body_of(st), ns)
        for k, v in ns.vars.items():
            if isinstance(v, UserFunc):
                v.owner = cls
                v.closure = scope
            cls.ns[k] = v
        scope.set(st.name.value, cls)

    def st_If(self, st: Any, scope: Scope) -> None:
        cond = self.truth(self.ev(st.test, scope))
        if cond is True:
            self.exec_block(self.body_of(st), scope)
        elif cond is False:
            if st.orelse is not None:
                if isinstance(st.orelse, self.cst.If):
                    self.st_If(st.orelse, scope)
                else:
                    self.exec_block(self.body_of(st.orelse), scope)
        else:
            body = self.body_of(st)
            guard = bool(body) and self._is_guard(body[-1])
            take_else = (guard and st.orelse is not None) or (guard and st.orelse is None)
            msg = f"condition `{self.text(st.test)}` is not known statically; "
            forced = self.forced_decision(st, st.test, record=not guard)
            if forced is not None:
                take_else = not forced
            if take_else:
                self.note(st, msg + "assumed false (the other branch only raises/returns)")
                self.uncertain.append(msg)
                if st.orelse is not None:
                    if isinstance(st.orelse, self.cst.If):
                        self.st_If(st.orelse, scope)
                    else:
                        self.exec_block(self.body_of(st.orelse), scope)
            else:
                extra = " (the else branch was not evaluated)" if st.orelse is not None else ""
                self.note(st, msg + "assumed true" + extra)
                self.uncertain.append(msg)
                self.exec_block(body, scope)

    def forced_decision(self, node: Any, test: Any, record: bool = True) -> bool | None:
        """How an unknown condition is taken in this re-read (``self.forced``), or None on the
        first read, which records it (``record``) so that ``read_text`` re-reads the program
        with it flipped."""
        line, col, cell = self.pos(node)
        key = (self.source, cell, line, col)
        if key in self.forced:
            return self.forced[key]
        if record and not any(k == key for k, _, _ in self.decisions):
            self.decisions.append((key, self.text(test), True))
        return None

    def _is_guard(self, st: Any) -> bool:
        cst = self.cst
        if isinstance(st, cst.SimpleStatementLine):
            return any(isinstance(s, (cst.Raise,)) for s in st.body)
        return False

    def st_For(self, st: Any, scope: Scope) -> None:
        it = self.ev(st.iter, scope)
        items = self.iterate(it)
        if items is None:
            self.note(st, f"loop over `{self.text(st.iter)}`: the iterable is not known "
                          "statically; the body was not evaluated")
            return
        n = 0
        broke = False
        for item in items:
            n += 1
            if n > MAX_LOOP:
                self.note(st, f"loop bound of {MAX_LOOP} iterations hit")
                break
            self.assign(st.target, item, scope, st)
            try:
                self.exec_block(self.body_of(st), scope)
            except _Break:
                broke = True
                break
            except _Continue:
                continue
        if not broke and st.orelse is not None:
            self.exec_block(self.body_of(st.orelse), scope)

    def st_While(self, st: Any, scope: Scope) -> None:
        n = 0
        endless = None
        before: tuple = ()
        while True:
            cond = self.truth(self.ev(st.test, scope))
            if cond is None:
                self.note(st, f"while condition `{self.text(st.test)}` is not known statically;"
                              " the loop was not evaluated further")
                return
            if not cond:
                break
            n += 1
            if n > MAX_LOOP:
                self.note(st, f"loop bound of {MAX_LOOP} iterations hit")
                return
            if n == 2:
                if endless is None:
                    endless = self._never_exits(st)
                if endless and self._keras_state() == before:
                    # ``while True:`` with no break/return/raise in its body (a device or
                    # serving loop) that builds nothing: it never ends, and more iterations
                    # would only spend the budget (a loop that adds layers keeps running)
                    self.note(st, f"`while {self.text(st.test)}:` loop has no break, return or "
                                  "raise: it never ends; its body was evaluated once")
                    return
            elif n == 1:
                before = self._keras_state()
            try:
                self.exec_block(self.body_of(st), scope)
            except _Break:
                return
            except _Continue:
                continue
        if st.orelse is not None:
            self.exec_block(self.body_of(st.orelse), scope)

    def st_Try(self, st: Any, scope: Scope) -> None:
        try:
            self.exec_block(self.body_of(st), scope)
        except _Raise:
            pass
        else:
            if st.orelse is not None:
                self.exec_block(self.body_of(st.orelse), scope)
        finally:
            if st.finalbody is not None:
                self.exec_block(self.body_of(st.finalbody), scope)

    def st_With(self, st: Any, scope: Scope) -> None:
        for item in st.items:
            v = self.ev(item.item, scope)
            if item.asname is not None:
                self.assign(item.asname.name, Opaque(self.text(item.item)) if not isinstance(
                    v, (int, str)) else v, scope, st)
        self.exec_block(self.body_of(st), scope)

    # -------------------------------------------------------------- assignment
    def assign(self, target: Any, value: Any, scope: Scope, st: Any) -> None:
        cst = self.cst
        if isinstance(target, cst.Name):
            scope.set(target.value, value)
            if scope is self.globals or target.value in scope.globals_decl:
                self._bind_global(target.value, value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            elems = target.elements
            items = self.iterate(value)
            star = [i for i, e in enumerate(elems) if isinstance(e, cst.StarredElement)]
            if items is None:
                for i, e in enumerate(elems):
                    self.assign(e.value, Opaque(f"{self.text(st)}[{i}]"), scope, st)
                return
            items = list(items)
            if star:
                k = star[0]
                after = len(elems) - k - 1
                parts = [*items[:k], items[k:len(items) - after], *items[len(items) - after:]]
            else:
                parts = items
            if len(parts) != len(elems):
                for e in elems:
                    self.assign(e.value, Opaque(self.text(e.value)), scope, st)
                return
            for e, v in zip(elems, parts, strict=True):
                self.assign(e.value, v, scope, st)
        elif isinstance(target, cst.Attribute):
            obj = self.ev(target.value, scope)
            self.setattr_(obj, target.attr.value, value, target, st)
        elif isinstance(target, cst.Subscript):
            obj = self.ev(target.value, scope)
            key = self.ev_slice(target, scope)
            if isinstance(obj, (list, dict)) and not isinstance(key, (Opaque, Sym, slice)):
                try:
                    obj[key] = value
                except (IndexError, TypeError, KeyError):
                    pass

    def _bind_global(self, name: str, value: Any) -> None:
        m = self.as_model(value, materialize=False)
        if m is not None and getattr(m, "variable", None) is None:
            m.variable = name

    def setattr_(self, obj: Any, name: str, value: Any, target: Any, st: Any) -> None:
        from bnlint.keras.builder import KLayer

        if name == "trainable":
            layer = obj.kmodel if isinstance(obj, Instance) and obj.kmodel is not None else obj
            if isinstance(obj, Instance) and obj.klayer is not None:
                layer = obj.klayer
            line, _, cell = self.pos(st)
            if isinstance(layer, KLayer):
                v = self.truth(value)
                if v is not None:
                    _set_trainable(layer, v)
                    self._invalidate()
                self.facts.trainable.append(TrainableFact.model_construct(
                    target=self.text(target), resolved=layer.name, is_model=layer.is_model,
                    value=_plain(value), line=line, cell=cell))
                if not isinstance(obj, Instance):
                    return
            else:
                self.facts.trainable.append(TrainableFact.model_construct(
                    target=self.text(target), resolved=None, value=_plain(value), line=line,
                    cell=cell))
        if isinstance(obj, Instance):
            layers = self._layer_values(value)
            if layers and self.version == 3 and any(i is obj for i in self.calling):
                self.state_in_call(obj, layers, st)
            if layers and self.version == 2 and name in obj.attrs:
                # tf_keras untracks the old value: the new layer is tracked last.
                del obj.attrs[name]
            obj.attrs[name] = value
            if obj.kmodel is not None or obj.klayer is not None:
                self._track(obj, value)

    def _layer_values(self, value: Any) -> list[Any]:
        """The Keras layers (KLayer) a value assigned to an attribute holds."""
        from bnlint.keras.builder import KLayer

        out = []
        for v in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(v, Instance):
                v = v.kmodel or v.klayer
            if isinstance(v, KLayer):
                out.append(v)
        return out

    def state_in_call(self, inst: Instance, layers: list[Any], node: Any) -> None:
        """Keras 3: a layer or variable created inside call() makes the call raise."""
        reason = f"created in `{inst.cls.name}.call`: {_STATE_IN_CALL}"
        for la in [*layers, *([inst.klayer] if inst.klayer is not None else [])]:
            la.unknown = la.unknown or reason
        self.note(node, f"`{self.text(node)}`: {_STATE_IN_CALL}")

    def _track(self, inst: Instance, value: Any) -> None:
        from bnlint.keras.builder import KLayer

        vals = value if isinstance(value, (list, tuple)) else [value]
        for v in vals:
            target = v
            if isinstance(v, Instance):
                target = v.kmodel or v.klayer
            if isinstance(target, KLayer) and not any(t is target for t in inst.tracked):
                inst.tracked.append(target)

    def _invalidate(self) -> None:
        self.graph_cache.clear()

    # -------------------------------------------------------------- expressions
    def ev(self, node: Any, scope: Scope) -> Any:
        self.tick()
        if self.defines:
            if isinstance(node, self.cst.Name):
                if node.value in self.defines:
                    return self.defines[node.value]
            elif self.define_exprs and isinstance(node, (self.cst.Attribute, self.cst.Subscript,
                                                         self.cst.Call)):
                key = _norm_text(self.text(node))
                n_par = len(node.lpar)
                if n_par and len(node.rpar) == n_par:
                    key = key[n_par:-n_par]  # `(X.shape[1:])` is the `X.shape[1:]` defined
                if key in self.defines:
                    return self.defines[key]
        fn = getattr(self, "ev_" + type(node).__name__, None)
        if fn is None:
            return Opaque(self.text(node))
        return fn(node, scope)

    def ev_Name(self, node: Any, scope: Scope) -> Any:
        name = node.value
        v = scope.lookup(name)
        if v is not _MISSING:
            return v
        if name in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[name]
        for star in self.globals.vars.get("__star__", []):
            cand = KRef(f"{star.path}.{name}")
            if self.keras_kind(cand) is not None:
                return cand
        if name in _PURE_BUILTINS:
            return Builtin(name)
        return Opaque(name)

    def ev_Integer(self, node: Any, scope: Scope) -> Any:
        return _literal(node)

    def ev_Float(self, node: Any, scope: Scope) -> Any:
        return _literal(node)

    def ev_Imaginary(self, node: Any, scope: Scope) -> Any:
        return Opaque(node.value)

    def ev_SimpleString(self, node: Any, scope: Scope) -> Any:
        try:
            return _literal(node)
        except Exception:
            return Opaque(node.value)

    def ev_ConcatenatedString(self, node: Any, scope: Scope) -> Any:
        a, b = self.ev(node.left, scope), self.ev(node.right, scope)
        if isinstance(a, str) and isinstance(b, str):
            return a + b
        return Opaque(self.text(node))

    def ev_FormattedString(self, node: Any, scope: Scope) -> Any:
        out = []
        for part in node.parts:
            if isinstance(part, self.cst.FormattedStringText):
                out.append(part.value)
                continue
            v = self.ev(part.expression, scope)
            if isinstance(v, Opaque):
                return Opaque(self.text(node))
            spec = ""
            if part.format_spec:
                for sp in part.format_spec:
                    if isinstance(sp, self.cst.FormattedStringText):
                        spec += sp.value
                    else:
                        sv = self.ev(sp.expression, scope)
                        if not isinstance(sv, (int, str)):
                            return Opaque(self.text(node))
                        spec += str(sv)
            if part.conversion == "r":
                v = repr(v)
            try:
                out.append(format(_display(v), spec))
            except (ValueError, TypeError):
                return Opaque(self.text(node))
        return "".join(out)

    def ev_Tuple(self, node: Any, scope: Scope) -> Any:
        return tuple(self._elements(node.elements, scope))

    def ev_List(self, node: Any, scope: Scope) -> Any:
        return list(self._elements(node.elements, scope))

    def ev_Set(self, node: Any, scope: Scope) -> Any:
        try:
            return set(self._elements(node.elements, scope))
        except TypeError:
            return Opaque(self.text(node))

    def _elements(self, elements: Any, scope: Scope) -> list[Any]:
        out: list[Any] = []
        for e in elements:
            v = self.ev(e.value, scope)
            if isinstance(e, self.cst.StarredElement):
                items = self.iterate(v)
                if items is None:
                    out.append(Opaque(self.text(e)))
                else:
                    out.extend(items)
            else:
                out.append(v)
        return out

    def ev_Dict(self, node: Any, scope: Scope) -> Any:
        d: dict[Any, Any] = {}
        for e in node.elements:
            if isinstance(e, self.cst.StarredDictElement):
                v = self.ev(e.value, scope)
                if isinstance(v, dict):
                    d.update(v)
                continue
            k = self.ev(e.key, scope)
            try:
                d[k] = self.ev(e.value, scope)
            except TypeError:
                d[self.text(e.key)] = self.ev(e.value, scope)
        return d

    def ev_Ellipsis(self, node: Any, scope: Scope) -> Any:
        return ...

    def ev_Lambda(self, node: Any, scope: Scope) -> Any:
        defaults = {}
        for p in node.params.params:
            if p.default is not None:
                defaults[p.name.value] = self.ev(p.default, scope)
        return UserFunc(node, scope, "<lambda>", defaults, is_lambda=True, ctx=self.ctx)

    def ev_IfExp(self, node: Any, scope: Scope) -> Any:
        c = self.truth(self.ev(node.test, scope))
        if c is None:
            # Like an unknown `if` statement: read as true first; read_text re-reads the
            # program with this decision flipped and reports a different model as an alternative.
            msg = f"condition `{self.text(node.test)}` is not known statically; "
            forced = self.forced_decision(node, node.test)
            if forced is not None:
                c = forced
                self.note(node, msg + ("assumed true" if c else "assumed false"))
            else:
                c = True
                self.note(node, msg + "assumed true (the else value was not evaluated)")
            self.uncertain.append(msg)
        return self.ev(node.body if c else node.orelse, scope)

    def ev_NamedExpr(self, node: Any, scope: Scope) -> Any:
        v = self.ev(node.value, scope)
        self.assign(node.target, v, scope, node)
        return v

    def ev_BooleanOperation(self, node: Any, scope: Scope) -> Any:
        left = self.ev(node.left, scope)
        t = self.truth(left)
        is_and = isinstance(node.operator, self.cst.And)
        if t is None:
            return Opaque(self.text(node))
        if is_and:
            return self.ev(node.right, scope) if t else left
        return left if t else self.ev(node.right, scope)

    def ev_UnaryOperation(self, node: Any, scope: Scope) -> Any:
        v = self.ev(node.expression, scope)
        op = type(node.operator).__name__
        if op == "Not":
            t = self.truth(v)
            return Opaque(self.text(node)) if t is None else not t
        if isinstance(v, Sym) and op == "Minus":
            return -v
        if (isinstance(v, (int, float)) and not isinstance(v, bool)) or isinstance(v, bool):
            if op == "Minus":
                return -v
            if op == "Plus":
                return +v
            if op == "BitInvert" and isinstance(v, int):
                return ~v
        return Opaque(self.text(node))

    def ev_BinaryOperation(self, node: Any, scope: Scope) -> Any:
        left = self.ev(node.left, scope)
        right = self.ev(node.right, scope)
        return self.binop(type(node.operator).__name__, left, right, node)

    def binop(self, op: str, a: Any, b: Any, node: Any) -> Any:
        from bnlint import symbolic as sy

        text = _LazyText(self, node, op)
        from bnlint.keras.builder import KTensor

        if isinstance(a, (KTensor, WeightVar)) or isinstance(b, (KTensor, WeightVar)):
            if self.in_custom or self.calling:
                t = self.traced_op(op, [a, b], self.tensor_binop(op, a, b))
            else:
                t = self.graph_op(op, a, b, node)
            return t if t is not None else Opaque(text)
        if op == "Modulo" and isinstance(a, str):
            if isinstance(b, (Opaque, Sym)) or (isinstance(b, tuple) and any(
                    isinstance(x, (Opaque, Sym)) for x in b)):
                return Opaque(text)
            try:
                return a % (tuple(_display(x) for x in b) if isinstance(b, tuple) else _display(b))
            except (TypeError, ValueError, KeyError):
                return Opaque(text)
        ia = _as_int_like(a)
        ib = _as_int_like(b)
        if isinstance(a, (Opaque, Sym)) or isinstance(b, (Opaque, Sym)):
            if ia is not None and ib is not None:
                if op == "Add":
                    return sy.add(ia, ib)
                if op == "Subtract":
                    return sy.sub(ia, ib)
                if op == "Multiply":
                    return sy.mul(ia, ib)
                if op == "FloorDivide":
                    return sy.floordiv(ia, ib)
            if isinstance(a, tuple) and op == "Add":
                return Opaque(text)
            return Opaque(text)
        if (_is_num(a) and _is_num(b)) or (isinstance(a, (str, list, tuple)) and isinstance(
                b, (str, list, tuple, int))) or (isinstance(a, int) and isinstance(b, (str, list, tuple))):
            try:
                if op == "Power" and _is_num(b) and abs(b) > 64 and _is_num(a) and abs(a) > 1:
                    return Opaque(text)
                if op == "Multiply":
                    n = b if isinstance(a, (str, list, tuple)) else a
                    seq = a if isinstance(a, (str, list, tuple)) else b
                    if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(
                            seq) * n > MAX_SEQ:
                        return Opaque(text)
                if op in ("LeftShift",) and _is_num(b) and b > 64:
                    return Opaque(text)
                return _PY_OPS[op](a, b)
            except (KeyError, TypeError, ZeroDivisionError, ValueError, OverflowError):
                return Opaque(text)
        return Opaque(text)

    def ev_Comparison(self, node: Any, scope: Scope) -> Any:
        left = self.ev(node.left, scope)
        result = True
        for comp in node.comparisons:
            right = self.ev(comp.comparator, scope)
            op = type(comp.operator).__name__
            r = self._compare(op, left, right)
            if r is None:
                return Opaque(self.text(node))
            if not r:
                return False
            left = right
        return result

    def _compare(self, op: str, a: Any, b: Any) -> bool | None:
        if op in ("Is", "IsNot"):
            if a is None or b is None:
                if isinstance(a, Opaque) or isinstance(b, Opaque):
                    return None
                same = a is b
                return same if op == "Is" else not same
            if isinstance(a, (bool,)) and isinstance(b, bool):
                return (a is b) if op == "Is" else (a is not b)
            if isinstance(a, Builtin) and isinstance(b, Builtin):
                return (a.name == b.name) == (op == "Is")
            return None
        if isinstance(a, (Opaque, Sym)) or isinstance(b, (Opaque, Sym)):
            if op in ("Equal", "NotEqual") and isinstance(a, Sym) and isinstance(b, Sym):
                if a == b:
                    return op == "Equal"
            return None
        if not _plain_data(a) or not _plain_data(b):
            if op in ("Equal", "NotEqual"):
                return (a is b) if op == "Equal" else (a is not b)
            return None
        try:
            return bool(_CMP_OPS[op](a, b))
        except (TypeError, KeyError):
            return None

    def ev_Attribute(self, node: Any, scope: Scope) -> Any:
        obj = self.ev(node.value, scope)
        return self.getattr_(obj, node.attr.value, node)

    def ev_Subscript(self, node: Any, scope: Scope) -> Any:
        obj = self.ev(node.value, scope)
        key = self.ev_slice(node, scope)
        return self.subscript(obj, key, node)

    def ev_slice(self, node: Any, scope: Scope) -> Any:
        cst = self.cst
        keys = []
        for el in node.slice:
            s = el.slice
            if isinstance(s, cst.Index):
                keys.append(self.ev(s.value, scope))
            else:
                lo = None if s.lower is None else self.ev(s.lower, scope)
                hi = None if s.upper is None else self.ev(s.upper, scope)
                stp = None if s.step is None else self.ev(s.step, scope)
                if any(isinstance(x, (Opaque, Sym)) for x in (lo, hi, stp)):
                    keys.append(Opaque(self.text(s)))
                else:
                    keys.append(slice(lo, hi, stp))
        return keys[0] if len(keys) == 1 else tuple(keys)

    def subscript(self, obj: Any, key: Any, node: Any) -> Any:

        if isinstance(obj, WeightList):
            if isinstance(key, int) and -len(obj.entries) <= key < len(obj.entries):
                w = obj.entries[key]
                lname = w.path.split("/")[0]
                self.reference(node, "weight", obj.model_name, lname, w)
                return WeightArray(w, lname)
            if isinstance(key, int):
                self.note(node, f"`{self.text(node)}`: index {key} is out of range "
                                f"(get_weights() has {len(obj.entries)} arrays)")
            return Opaque(self.text(node))
        if isinstance(obj, _LayerList):
            if isinstance(key, int) and -len(obj.layers) <= key < len(obj.layers):
                layer = obj.layers[key]
                self.reference(node, "layer", obj.model_name, layer.name, None)
                return layer
            if isinstance(key, slice):
                return list(obj.layers[key])
            if isinstance(key, int):
                self.note(node, f"`{self.text(node)}`: index {key} is out of range "
                                f"(the model has {len(obj.layers)} layers)")
            return Opaque(self.text(node))
        if isinstance(key, Opaque) or isinstance(key, Sym):
            return Opaque(self.text(node))
        if isinstance(obj, (list, tuple, str, range)):
            try:
                return obj[key]
            except (IndexError, TypeError):
                return Opaque(self.text(node))
        if isinstance(obj, dict):
            try:
                return obj[key]
            except (KeyError, TypeError):
                return Opaque(self.text(node))
        return Opaque(self.text(node))

    def ev_Call(self, node: Any, scope: Scope) -> Any:
        func = self.ev(node.func, scope)
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for a in node.args:
            v = self.ev(a.value, scope)
            if a.star == "*":
                items = self.iterate(v)
                if items is None:
                    args.append(Opaque(self.text(a.value)))
                else:
                    args.extend(items)
            elif a.star == "**":
                if isinstance(v, dict):
                    kwargs.update({str(k): x for k, x in v.items()})
            elif a.keyword is not None:
                kwargs[a.keyword.value] = v
            else:
                args.append(v)
        return self.call(func, args, kwargs, node, scope)

    def _comp(self, node: Any, scope: Scope, kind: str) -> Any:
        out: list[Any] = []
        inner = Scope(scope)
        count = [0]

        def walk(for_in: Any) -> bool:
            items = self.iterate(self.ev(for_in.iter, inner))
            if items is None:
                return False
            for item in items:
                count[0] += 1
                if count[0] > MAX_LOOP:
                    self.note(node, f"comprehension bound of {MAX_LOOP} items hit")
                    return True
                self.assign(for_in.target, item, inner, node)
                ok = True
                for cond in for_in.ifs:
                    t = self.truth(self.ev(cond.test, inner))
                    if t is None:
                        return False
                    if not t:
                        ok = False
                        break
                if not ok:
                    continue
                if for_in.inner_for_in is not None:
                    if not walk(for_in.inner_for_in):
                        return False
                elif kind == "dict":
                    out.append((self.ev(node.key, inner), self.ev(node.value, inner)))
                else:
                    out.append(self.ev(node.elt, inner))
            return True

        if not walk(node.for_in):
            return Opaque(self.text(node))
        if kind == "dict":
            try:
                return dict(out)
            except TypeError:
                return Opaque(self.text(node))
        if kind == "set":
            try:
                return set(out)
            except TypeError:
                return Opaque(self.text(node))
        return out

    def ev_ListComp(self, node: Any, scope: Scope) -> Any:
        return self._comp(node, scope, "list")

    def ev_GeneratorExp(self, node: Any, scope: Scope) -> Any:
        return self._comp(node, scope, "list")

    def ev_SetComp(self, node: Any, scope: Scope) -> Any:
        return self._comp(node, scope, "set")

    def ev_DictComp(self, node: Any, scope: Scope) -> Any:
        return self._comp(node, scope, "dict")

    # -------------------------------------------------------------- truth / iteration
    def truth(self, v: Any) -> bool | None:
        if isinstance(v, (Opaque, Sym)):
            return None
        if v is None or isinstance(v, (bool, int, float, str, list, tuple, dict, set, range)):
            return bool(v)
        return True

    def iterate(self, v: Any) -> list[Any] | None:
        if isinstance(v, (list, tuple, str)):
            return list(v)
        if isinstance(v, range):
            if len(v) > MAX_LOOP:
                return list(v[: MAX_LOOP + 1])
            return list(v)
        if isinstance(v, dict):
            return list(v.keys())
        if isinstance(v, set):
            try:
                return sorted(v)
            except TypeError:
                return list(v)
        if isinstance(v, _LayerList):
            return list(v.layers)
        if isinstance(v, WeightList):
            return [WeightArray(w, w.path.split("/")[0]) for w in v.entries]
        return None

    # -------------------------------------------------------------- keras references
    def keras_kind(self, ref: KRef) -> tuple[str, str] | None:
        """What calling a Keras path does: (kind, class) or None."""
        from bnlint.keras.signatures import resolve_class

        parts = ref.path.split(".")
        if parts[0] != "keras" or len(parts) < 2:
            return None
        last = parts[-1]
        mid = parts[1:-1]
        if last == "Sequential" and (not mid or mid[0] in ("models", "src", "engine")):
            return ("sequential", "Sequential")
        if last in ("Model", "Functional") and (not mid or mid[0] in ("models", "src", "engine")):
            return ("model", "Functional")
        if last == "Input" and (not mid or mid[0] in ("layers", "src", "engine")):
            return ("input", "Input")
        if last == "InputLayer":
            return ("inputlayer", "InputLayer")
        if last == "clear_session" and mid and mid[0] in ("backend", "utils", "src"):
            return ("clear", "")
        if mid and mid[0] in ("layers", "src", "legacy"):
            if last in _MERGE_FUNCS:
                return ("merge", _MERGE_FUNCS[last])
            cls = resolve_class(last, self.version)
            if cls is not None:
                return ("layer", cls)
        return None

    # -------------------------------------------------------------- attribute access
    def getattr_(self, obj: Any, name: str, node: Any) -> Any:
        from bnlint.keras.builder import KLayer, KModel, KTensor


        if isinstance(obj, KRef):
            if obj.path == "tensorflow" and name == "keras":
                return KRef("keras")
            if obj.path.startswith("tensorflow.compat.v1") and name == "keras":
                return KRef("keras")
            return KRef(f"{obj.path}.{name}")
        if isinstance(obj, PyMod):
            return PyMod(f"{obj.name}.{name}")
        if isinstance(obj, UserModule):
            v = self.module_attr(obj, name, node)
            return Opaque(self.text(node)) if v is _MISSING else v
        if isinstance(obj, UserFunc) and name == "__doc__":
            doc = obj.node.get_docstring() if hasattr(obj.node, "get_docstring") else None
            return doc
        if isinstance(obj, Instance):
            if name == "build" and obj.kmodel is not None and not isinstance(
                    obj.cls.lookup("build"), UserFunc):
                return Bound(obj, "__build__")
            if name in ("add_weight", "add_variable") and (obj.klayer is not None
                                                           or obj.kmodel is not None):
                if obj.cls.lookup(name) is _MISSING:
                    return Bound(obj, "__add_weight__")
            if name in obj.attrs:
                return obj.attrs[name]
            v = obj.cls.lookup(name)
            if isinstance(v, UserFunc):
                if v.defaults.get("__property__"):
                    return self.call_user(v, [obj], {}, node)
                return self.bind_method(v, obj, obj.cls)
            if v is not _MISSING:
                return v
            if obj.kmodel is not None:
                self.materialize_instance(obj)
                return self.getattr_(obj.kmodel, name, node)
            if obj.klayer is not None:
                return self.getattr_(obj.klayer, name, node)
            return Opaque(self.text(node))
        if isinstance(obj, SuperProxy):
            for base in obj.cls.bases:
                if isinstance(base, UserClass):
                    v = base.lookup(name)
                    if isinstance(v, UserFunc):
                        return self.bind_method(v, obj.inst, obj.inst.cls)
            return Bound(obj.inst, f"super.{name}")
        if isinstance(obj, KTensor):
            if name == "shape":
                return obj.shape if obj.shape is not None else Opaque(self.text(node))
            if name == "dtype":
                return obj.dtype
            return Opaque(self.text(node))
        if isinstance(obj, KModel):
            self.materialize(obj)
            if name == "layers":
                return _LayerList(self.model_layers(obj), obj.name)
            if name in ("inputs", "outputs"):
                return list(obj.inputs if name == "inputs" else obj.outputs)
            if name in ("input", "output"):
                ts = obj.inputs if name == "input" else obj.outputs
                if not ts:
                    return Opaque(self.text(node))
                return ts[0] if len(ts) == 1 else list(ts)
            if name == "input_shape" and obj.inputs:
                return obj.inputs[0].shape
            if name == "output_shape" and obj.outputs:
                return obj.outputs[0].shape
        if isinstance(obj, KLayer):
            if name == "name":
                return obj.name
            if name == "trainable":
                return obj.trainable
            if name in ("output", "input") and obj.nodes:
                n = obj.nodes[0]
                ts = n.outputs if name == "output" else n.inputs
                if ts:
                    return ts[0] if len(ts) == 1 else list(ts)
            if name == "output_shape" and obj.nodes and obj.nodes[0].outputs:
                return obj.nodes[0].outputs[0].shape
            return Bound(obj, name)
        if isinstance(obj, (WeightArray, WeightVar)):
            if name == "shape":
                return obj.shape
            return Opaque(self.text(node))
        if isinstance(obj, (str, list, dict, tuple)) and not isinstance(obj, _LayerList):
            return Bound(obj, name)
        if isinstance(obj, UserClass):
            v = obj.lookup(name)
            if isinstance(v, UserFunc) and v.kind == "classmethod":
                return Bound(obj, v)
            return Opaque(self.text(node)) if v is _MISSING else v
        return Opaque(self.text(node))

    @staticmethod
    def bind_method(fn: UserFunc, inst: Any, cls: UserClass) -> Any:
        """``inst.name`` for a method found on the class: bound to the instance, to the class
        (classmethod) or not at all (staticmethod)."""
        if fn.kind == "staticmethod":
            return fn
        return Bound(cls if fn.kind == "classmethod" else inst, fn)

    def model_layers(self, model: Any) -> list[Any]:
        return list(model.layers)

    # -------------------------------------------------------------- calls
    def call(self, func: Any, args: list[Any], kwargs: dict[str, Any], node: Any,
             scope: Scope) -> Any:
        from bnlint.keras.builder import KLayer


        if isinstance(func, KRef):
            return self.call_keras(func, args, kwargs, node)
        if isinstance(func, UserFunc):
            return self.call_user(func, args, kwargs, node)
        if isinstance(func, UserClass):
            return self.instantiate(func, args, kwargs, node)
        if isinstance(func, Bound):
            if isinstance(func.func, UserFunc):
                return self.call_user(func.func, [func.obj, *args], kwargs, node)
            return self.call_method(func.obj, func.func, args, kwargs, node)
        if isinstance(func, Builtin):
            return self.call_builtin(func.name, args, kwargs, node, scope)
        if isinstance(func, PyMod):
            return self.call_pymod(func.name, args, kwargs, node)
        if isinstance(func, (KLayer, Instance)):
            return self.call_layer_value(func, args, kwargs, node)
        return Opaque(self.text(node))

    def call_user(self, fn: UserFunc, args: list[Any], kwargs: dict[str, Any], node: Any) -> Any:
        if self.depth >= MAX_DEPTH:
            raise _Budget(f"call depth bound of {MAX_DEPTH} hit in `{fn.name}`")
        scope = Scope(fn.closure)
        params = fn.node.params
        positional = [*params.posonly_params, *params.params]
        args = list(args)
        for p in positional:
            pname = p.name.value
            if args:
                scope.vars[pname] = args.pop(0)
            elif pname in kwargs:
                scope.vars[pname] = kwargs.pop(pname)
            elif pname in fn.defaults:
                scope.vars[pname] = fn.defaults[pname]
            else:
                scope.vars[pname] = Opaque(pname)
        star = params.star_arg
        if isinstance(star, self.cst.Param):
            scope.vars[star.name.value] = tuple(args)
            args = []
        for p in params.kwonly_params:
            pname = p.name.value
            if pname in kwargs:
                scope.vars[pname] = kwargs.pop(pname)
            elif pname in fn.defaults:
                scope.vars[pname] = fn.defaults[pname]
            else:
                scope.vars[pname] = Opaque(pname)
        if isinstance(params.star_kwarg, self.cst.Param):
            scope.vars[params.star_kwarg.name.value] = dict(kwargs)
        if fn.owner is not None:
            scope.vars["__class__"] = fn.owner
        if not fn.is_lambda and self._is_generator(fn.node):
            # calling a generator function runs none of its body (a data generator's
            # ``while True:`` loop must not spend the step budget)
            return Opaque(f"{fn.name}(...)")
        self.depth += 1
        old_ctx = self.switch(fn.ctx) if fn.ctx is not None and fn.ctx is not self.ctx else None
        try:
            if fn.is_lambda:
                return self.ev(fn.node.body, scope)
            body = self.body_of(fn.node)
            self.exec_block(body, scope)
        except _Return as r:
            return r.value
        except _Raise:
            return Opaque(f"{fn.name}(...)")
        except (_Break, _Continue):
            return None
        finally:
            self.depth -= 1
            if old_ctx is not None:
                self.switch(old_ctx)
        return None

    def _keras_state(self) -> tuple:
        """What an iteration could change of the models: names taken, models, layers added."""
        return (len(self.models), tuple(sorted(self.counters.counts.items())),
                sum(len(st.layers) for st in self.seq.values()))

    def _never_exits(self, st: Any) -> bool:
        """A ``while`` whose test is a truthy literal and whose body has no ``break`` (outside
        nested loops), ``return``, ``raise``, ``yield`` or call of ``exit``/``quit``."""
        cst = self.cst
        test = st.test
        if not (isinstance(test, cst.Name) and test.value == "True") and not (
                isinstance(test, cst.Integer) and test.value not in ("0",)):
            return False
        for n, in_loop in _own_nodes(cst, st.body):
            if isinstance(n, (cst.Return, cst.Raise, cst.Yield)):
                return False
            if isinstance(n, cst.Break) and not in_loop:
                return False
            if isinstance(n, cst.Call) and isinstance(n.func, (cst.Name, cst.Attribute)) and (
                    (n.func.value if isinstance(n.func, cst.Name) else n.func.attr.value)
                    in ("exit", "quit", "_exit")):
                return False
        return True

    def _is_generator(self, fn_node: Any) -> bool:
        """Does the function's own body (not a nested def, class or lambda) yield?

        Answered once per function node per process; a module whose text never says
        ``yield`` has no generator (walking big function bodies is costly in libcst)."""
        cst = self.cst
        if not _YIELDS.get(self.ctx.module, lambda m: True):  # parsed here: text known
            return False
        return _GENERATORS.get(fn_node, lambda f: any(
            isinstance(n, cst.Yield) for n, _ in _own_nodes(cst, f.body)))

    # ---- builtins
    def call_builtin(self, name: str, args: list[Any], kwargs: dict[str, Any], node: Any,
                     scope: Scope) -> Any:

        a0 = args[0] if args else None
        if name == "print":
            return None
        if name == "super":
            inst = scope.lookup("self")
            cls = scope.lookup("__class__")
            if len(args) == 2:
                cls, inst = args
            if isinstance(inst, Instance) and isinstance(cls, UserClass):
                return SuperProxy(inst, cls)
            return Opaque(self.text(node))
        if name == "len":
            if isinstance(a0, (list, tuple, str, dict, set, range)):
                return len(a0)
            if isinstance(a0, _LayerList):
                return len(a0.layers)
            if isinstance(a0, WeightList):
                return len(a0.entries)
            return Sym.atom(self.text(node)) if isinstance(a0, Opaque) else Opaque(self.text(node))
        if name == "isinstance":
            return self._isinstance(a0, args[1] if len(args) > 1 else None, self.text(node))
        if name == "type" and len(args) == 1 and type(a0) in _PY_TYPES.values():
            return Builtin(type(a0).__name__)  # `type(h) is not tuple` on a known value
        if name in ("hasattr", "getattr", "setattr", "type", "iter", "next", "callable"):
            if name == "getattr" and len(args) >= 2 and isinstance(args[1], str):
                v = self.getattr_(a0, args[1], node)
                if isinstance(v, Opaque) and len(args) == 3:
                    return args[2]
                return v
            if name == "setattr" and len(args) == 3 and isinstance(args[1], str):
                self.setattr_(a0, args[1], args[2], node, node)
                return None
            return Opaque(self.text(node))
        if name == "range":
            if all(isinstance(a, int) for a in args) and 1 <= len(args) <= 3:
                try:
                    return range(*args)
                except ValueError:
                    return Opaque(self.text(node))
            return Opaque(self.text(node))
        if name == "int":
            if isinstance(a0, Sym):
                return a0
            if isinstance(a0, Opaque):
                return Sym.atom(self.text(node))
        if name in ("map", "filter") and len(args) == 2:
            items = self.iterate(args[1])
            if items is None:
                return Opaque(self.text(node))
            out = []
            for it in items[:MAX_LOOP]:
                r = self.call(args[0], [it], {}, node, scope)
                if name == "map":
                    out.append(r)
                else:
                    t = self.truth(r)
                    if t is None:
                        return Opaque(self.text(node))
                    if t:
                        out.append(it)
            return out
        if name in ("enumerate", "zip", "reversed", "sorted", "list", "tuple", "set",
                    "frozenset", "dict", "min", "max", "sum", "any", "all"):
            conv = []
            for a in args:
                it = self.iterate(a) if not isinstance(a, (int, float)) else None
                if it is None and not isinstance(a, (int, float)):
                    if name in ("min", "max", "sum") and len(args) > 1 and isinstance(
                            a, (Sym, Opaque)):
                        return Opaque(self.text(node))
                    if name == "dict" and isinstance(a, dict):
                        conv.append(a)
                        continue
                    return Opaque(self.text(node))
                conv.append(it if it is not None else a)
            if name in ("min", "max", "sum"):
                flat = conv[0] if len(conv) == 1 else conv
                if any(isinstance(x, (Opaque, Sym)) for x in flat):
                    if name == "sum" and all(_as_int_like(x) is not None for x in flat):
                        from bnlint.symbolic import total

                        return total(_as_int_like(x) for x in flat)
                    return Opaque(self.text(node))
            if name == "dict":
                d = dict(conv[0]) if conv else {}
                d.update(kwargs)
                return d
            try:
                r = _BUILTIN_IMPL[name](*conv)
            except (TypeError, ValueError):
                return Opaque(self.text(node))
            return list(r) if name in ("enumerate", "zip", "reversed") else r
        if name in ("int", "float", "str", "bool", "abs", "round", "divmod", "pow", "repr",
                    "chr", "ord", "hex", "format"):
            if any(not _plain_data(a) for a in args):
                if name == "str" and isinstance(a0, Sym):
                    return str(a0)
                return Opaque(self.text(node))
            try:
                if name == "pow" and len(args) >= 2 and isinstance(args[1], int) and args[1] > 64:
                    return Opaque(self.text(node))
                return _BUILTIN_IMPL[name](*args)
            except (TypeError, ValueError, OverflowError, ZeroDivisionError):
                return Opaque(self.text(node))
        return Opaque(self.text(node))

    def _isinstance(self, v: Any, t: Any, text: str) -> Any:
        from bnlint.keras.builder import KTensor

        types = t if isinstance(t, tuple) else (t,)
        if not all(isinstance(x, Builtin) for x in types):
            return Opaque(text)
        if not all(x.name in _PY_TYPES for x in types):
            return Opaque(text)
        if isinstance(v, KTensor) or v is None or isinstance(v, tuple(_PY_TYPES.values())):
            return isinstance(v, tuple(_PY_TYPES[x.name] for x in types))
        return Opaque(text)

    def call_pymod(self, name: str, args: list[Any], kwargs: dict[str, Any], node: Any) -> Any:
        import math


        a0 = args[0] if args else None
        if name in ("copy.deepcopy", "copy.copy"):
            if isinstance(a0, (list, dict, tuple)) and _plain_data(a0):
                import copy

                return copy.deepcopy(a0)
            return a0 if _plain_data(a0) else Opaque(self.text(node))
        if name.startswith("math."):
            fn = name[5:]
            if fn in ("ceil", "floor") and isinstance(a0, Sym):
                return a0
            if fn in ("ceil", "floor", "sqrt", "log", "log2", "log10", "prod", "exp", "pow",
                      "gcd", "isqrt") and all(_plain_data(a) for a in args):
                try:
                    return getattr(math, fn)(*args)
                except (TypeError, ValueError, OverflowError):
                    return Opaque(self.text(node))
            if fn in ("ceil", "floor") and isinstance(a0, Opaque):
                return Sym.atom(self.text(node))
        if name == "numpy.linspace" and len(args) >= 3 and all(_is_num(x) for x in args[:3]) \
                and isinstance(args[2], int) and 0 <= args[2] <= MAX_LOOP:
            lo, hi, n = args[0], args[1], args[2]
            if n == 1:
                return [float(lo)]
            return [lo + (hi - lo) * i / (n - 1) for i in range(n)]
        if name in ("numpy.prod", "np.prod") and isinstance(a0, (list, tuple)):
            from bnlint.symbolic import product

            vals = [_as_int_like(x) for x in a0]
            if all(v is not None for v in vals):
                return product(vals)  # type: ignore[arg-type]
        return Opaque(self.text(node))

    # ---- methods on native values
    def call_method(self, obj: Any, name: str, args: list[Any], kwargs: dict[str, Any],
                    node: Any) -> Any:
        from bnlint.keras.builder import KLayer, KModel


        if isinstance(obj, Instance) and name.startswith("super."):
            return self.super_call(obj, name[6:], args, kwargs, node)
        if isinstance(obj, Instance) and name == "__add_weight__":
            return self.add_weight(obj, args, kwargs, node)
        if isinstance(obj, tuple) and name == "as_list" and not args:
            return list(obj)
        if isinstance(obj, Instance) and name == "__build__":
            shape = args[0] if args else kwargs.get("input_shape")
            self.subclass_build(obj, shape, node)
            return None
        if isinstance(obj, KModel):
            return self.model_method(obj, name, args, kwargs, node)
        if isinstance(obj, KLayer):
            return self.layer_method(obj, name, args, kwargs, node)
        if isinstance(obj, str) and name in _STR_METHODS:
            if any(not _plain_data(a) for a in [*args, *kwargs.values()]):
                return Opaque(self.text(node))
            try:
                return getattr(obj, name)(*[_display(a) for a in args],
                                          **{k: _display(v) for k, v in kwargs.items()})
            except (TypeError, ValueError, KeyError, IndexError):
                return Opaque(self.text(node))
        if isinstance(obj, list):
            if name == "append" and len(args) == 1:
                if len(obj) < MAX_SEQ:
                    obj.append(args[0])
                return None
            if name == "extend" and len(args) == 1:
                it = self.iterate(args[0])
                if it is not None:
                    obj.extend(it)
                return None
            if name == "insert" and len(args) == 2 and isinstance(args[0], int):
                obj.insert(args[0], args[1])
                return None
            if name == "pop":
                try:
                    return obj.pop(*args) if all(isinstance(a, int) for a in args) else Opaque(self.text(node))
                except IndexError:
                    return Opaque(self.text(node))
            if name == "reverse":
                obj.reverse()
                return None
            if name in _LIST_PURE:
                try:
                    return getattr(obj, name)(*args)
                except (ValueError, TypeError):
                    return Opaque(self.text(node))
        if isinstance(obj, dict):
            if name in _DICT_PURE:
                try:
                    r = getattr(obj, name)(*args)
                except TypeError:
                    return Opaque(self.text(node))
                return list(r) if name in ("items", "keys", "values") else r
            if name == "update":
                if args and isinstance(args[0], dict):
                    obj.update(args[0])
                obj.update(kwargs)
                return None
            if name in ("setdefault", "pop") and args:
                try:
                    return getattr(obj, name)(*args)
                except (KeyError, TypeError):
                    return Opaque(self.text(node))
        if isinstance(obj, tuple) and name in ("index", "count"):
            try:
                return getattr(obj, name)(*args)
            except (ValueError, TypeError):
                return Opaque(self.text(node))
        return Opaque(self.text(node))

    # -------------------------------------------------------------- keras calls
    def call_keras(self, ref: KRef, args: list[Any], kwargs: dict[str, Any], node: Any) -> Any:
        kind = self.keras_kind(ref)

        if kind is None:
            last = ref.path.rsplit(".", 1)[-1]
            if last == "get" and ".activations" in ref.path and args and isinstance(args[0], str):
                return KRef(f"keras.activations.{args[0]}")
            if last in ("int_shape", "shape") and len(args) == 1 and (
                    ".backend" in ref.path or ".ops" in ref.path):
                from bnlint.keras.builder import KTensor

                if isinstance(args[0], KTensor) and args[0].shape is not None:
                    return tuple(args[0].shape)
            if last == "VersionAwareLayers":  # tf_keras applications' `layers = ...()`
                return KRef("keras.layers")
            known = _KERAS_CONSTANTS.get(last)
            if known is not None and (".backend" in ref.path or ".config" in ref.path):
                return known
            if last == "is_keras_tensor":
                from bnlint.keras.builder import KTensor

                return isinstance(args[0], KTensor) if args else Opaque(self.text(node))
            if last == "get_source_inputs" and args:
                ts = self._tensors(args[0])
                if ts is not None:
                    return [t for t in ts if t.node.is_input] or Opaque(self.text(node))
            fn = self.keras_source(ref.path, node)
            if fn is not _MISSING:
                return self.call(fn, args, kwargs, node, self.globals)
            if (self.in_custom or self.calling) and args:
                fn = ref.path.rsplit(".", 1)[-1]
                t = self.traced_op(fn, args, self.tensor_op(fn, args, kwargs))
                if t is not None:
                    return t
            return Opaque(self.text(node))
        k, cls = kind
        if k == "clear":
            from bnlint.keras.naming import NameCounters

            self.counters = NameCounters(self.version)
            return None
        if k == "input":
            return self.make_input_call(args, kwargs, node)
        if k == "inputlayer":
            t = self.make_input_call(args, kwargs, node, layer_form=True)
            return t.node.layer if not isinstance(t, Opaque) else t
        if k == "sequential":
            return self.make_sequential(args, kwargs, node)
        if k == "model":
            return self.make_functional(args, kwargs, node)
        if k == "merge":
            inputs = args[0] if args else kwargs.pop("inputs", None)
            layer = self.make_layer(cls, list(args[1:]), kwargs, node, skip_positional=0)
            return self.call_layer_value(layer, [inputs], {}, node)
        if k == "layer":
            return self.make_layer(cls, args, kwargs, node)
        return Opaque(self.text(node))

    def _shape_value(self, v: Any) -> tuple | None:
        if isinstance(v, int) and not isinstance(v, bool):
            return (v,)
        if isinstance(v, Sym):
            return (v,)
        if isinstance(v, Opaque):
            return None
        if isinstance(v, (list, tuple)):
            out = []
            for d in v:
                if d is None or (isinstance(d, int) and not isinstance(d, bool)) or isinstance(d, Sym):
                    out.append(d)
                elif isinstance(d, Opaque):
                    out.append(Sym.atom(d.text))
                else:
                    return None
            return tuple(out)
        return None

    def make_input_call(self, args: list[Any], kwargs: dict[str, Any], node: Any,
                        layer_form: bool = False) -> Any:
        from bnlint.keras import builder as kb
        from bnlint.keras.signatures import signature

        if layer_form:
            sig = signature("InputLayer", self.version) or {}
            order = [p["name"] for p in sig.get("params", []) if p["kind"].startswith("POSITIONAL")]
        elif self.version == 3:
            order = ["shape", "batch_size", "dtype", "sparse", "ragged", "batch_shape", "name",
                     "tensor", "optional"]
        else:
            order = ["shape", "batch_size", "name", "dtype", "sparse", "tensor", "ragged",
                     "type_spec"]
        values = dict(kwargs)
        for pname, v in zip(order, args, strict=False):
            values[pname] = v
        batch = values.get("batch_shape", values.get("batch_input_shape"))
        if batch is not None:
            shape = self._shape_value(batch)
        else:
            raw = values.get("shape", values.get("input_shape"))
            inner = self._shape_value(raw) if raw is not None else None
            bs = values.get("batch_size")
            if inner is None:
                shape = None
            else:
                shape = (bs if isinstance(bs, int) else None, *inner)
        name = values.get("name")
        if not isinstance(name, str):
            name = self.counters.input_name()
        dtype = values.get("dtype") if isinstance(values.get("dtype"), str) else "float32"
        if shape is None:
            self.note(node, f"`{self.text(node)}`: input shape not known statically")
            t = kb.make_input(name, (None,), self.version, dtype=dtype, location=self.loc(node))
            t.shape = None
            t.node.layer.unknown = "input shape not known statically"
            return t
        return kb.make_input(name, shape, self.version, dtype=dtype, location=self.loc(node))

    def _cfg(self, v: Any) -> Any:
        from bnlint.keras.builder import KLayer

        if v is None or isinstance(v, (bool, int, float, str, Sym)):
            return v
        if isinstance(v, Opaque):
            return Sym.atom(v.text)
        if isinstance(v, (list, tuple)):
            return [self._cfg(x) for x in v] if isinstance(v, list) else tuple(
                self._cfg(x) for x in v)
        if isinstance(v, dict):
            return {str(k): self._cfg(x) for k, x in v.items()}
        if isinstance(v, KRef):
            return v.path.rsplit(".", 1)[-1]
        if isinstance(v, KLayer):
            # wrapped layers (Bidirectional(LSTM(...))): their config, as Keras serializes it
            return {"class_name": v.class_name, "config": dict(v.config)}
        from bnlint.keras.catalogue import unknown_value

        return unknown_value(type(v).__name__)

    def make_layer(self, cls: str, args: list[Any], kwargs: dict[str, Any], node: Any,
                   skip_positional: int = 0) -> Any:
        from bnlint.keras.builder import KLayer
        from bnlint.keras.signatures import signature

        sig = signature(cls, self.version) or {}
        order = [p["name"] for p in sig.get("params", [])
                 if p["kind"] in ("POSITIONAL_OR_KEYWORD", "POSITIONAL_ONLY")]
        values: dict[str, Any] = {}
        for pname, v in zip(order, args, strict=False):
            values[pname] = v
        if len(args) > len(order):
            self.note(node, f"`{cls}`: more positional arguments than Keras accepts")
        values.update(kwargs)
        name = values.pop("name", None)
        trainable = values.pop("trainable", True)
        batch_shape = None
        input_dim = values.pop("input_dim", None) if "input_dim" not in order else None
        input_shape = values.pop("input_shape", None)
        if cls == "Embedding" and self.version == 2 and input_shape is None and \
                "batch_input_shape" not in values:
            # tf_keras's Embedding always sets an input shape: (input_length,) when it is
            # truthy, else (None,) -- so a Sequential that starts with one is built.
            length = values.get("input_length")
            input_shape = (None,) if length is None or self.truth(length) is False else (length,)
        b_in = values.pop("batch_input_shape", None)
        batch_size = values.pop("batch_size", None) if cls != "InputLayer" else values.get(
            "batch_size")
        if b_in is not None:
            batch_shape = self._shape_value(b_in)
        elif input_dim is not None or input_shape is not None:
            inner = self._shape_value((input_dim,) if input_dim is not None else input_shape)
            if inner is not None:
                bs = batch_size if isinstance(batch_size, int) and self.version == 2 else None
                batch_shape = (bs, *inner)
        config = {k: self._cfg(v) for k, v in values.items()}
        if not isinstance(name, str):
            name = self.counters.layer_name(cls)
        config["name"] = name
        if cls == "MultiHeadAttention" and self.version == 3:
            self.counters.layer_name("Dropout")  # its internal dropout layer takes a name
        layer = KLayer(name, cls, config, self.version, trainable=self.truth(trainable) is not False,
                       location=self.loc(node))
        if batch_shape is not None:
            self.input_arg[id(layer)] = batch_shape
        elif input_dim is not None or input_shape is not None or b_in is not None:
            self.note(node, f"`{name}`: input shape not known statically")
            self.input_arg[id(layer)] = None  # a Sequential is built on it: shape unknown
        return layer

    def call_layer_value(self, layer: Any, args: list[Any], kwargs: dict[str, Any],
                         node: Any) -> Any:
        from bnlint.keras import builder as kb
        from bnlint.keras.builder import KModel, KTensor
        from bnlint.keras.catalogue import TensorArg


        if isinstance(layer, Instance):
            if layer.kmodel is not None or layer.klayer is not None:
                return self.call_subclass(layer, args, kwargs, node)
            call = layer.cls.lookup("__call__")
            if isinstance(call, UserFunc):
                return self.call_user(call, [layer, *args], kwargs, node)
            return Opaque(self.text(node))
        if isinstance(layer, KModel):
            self.materialize(layer)
            if "training" in kwargs:
                self.fact(layer, "__call__", kwargs, node)
            if layer.kind == "Sequential" and not layer.is_built and args and isinstance(
                    args[0], KTensor):
                self.build_sequential(layer, args[0].shape, node)
        if not args:
            return Opaque(self.text(node))
        first = args[0]
        list_input = isinstance(first, (list, tuple))
        firsts = list(first) if list_input else [first]
        if isinstance(first, dict):
            firsts = [first[k] for k in sorted(first)]
            list_input = True
        if not all(isinstance(t, KTensor) for t in firsts) or not firsts:
            if layer.built is None and layer.unknown is None:
                layer.unknown = f"called on `{self.text(node)}`, which is not a known tensor"
            return Opaque(self.text(node))
        inputs = list(firsts)
        first_count = len(inputs)
        for a in args[1:]:
            if isinstance(a, KTensor):
                inputs.append(a)
        call_kwargs: dict[str, Any] = {}
        for k, v in kwargs.items():
            if isinstance(v, KTensor):
                call_kwargs[k] = TensorArg(len(inputs))
                inputs.append(v)
            elif isinstance(v, (list, tuple)) and v and all(isinstance(x, KTensor) for x in v):
                call_kwargs[k] = TensorArg(len(inputs))
                inputs.append(v[0])
            elif _plain_data(v):
                call_kwargs[k] = v
        outs = kb.call_layer(layer, inputs, call_kwargs, list_input, first_count=first_count)
        self._invalidate()
        if isinstance(layer, KModel):
            return outs[0] if len(outs) == 1 else list(outs)
        return outs[0] if len(outs) == 1 else list(outs)

    # -------------------------------------------------------------- sequential
    def make_sequential(self, args: list[Any], kwargs: dict[str, Any], node: Any) -> Any:
        from bnlint.keras.builder import KModel

        layers = args[0] if args else kwargs.get("layers")
        pos_name = 2 if self.version == 3 else 1
        name = kwargs.get("name", args[pos_name] if len(args) > pos_name else None)
        if not isinstance(name, str):
            name = self.counters.model_name("Sequential")
        model = KModel(name, "Sequential", {"name": name}, self.version, location=self.loc(node),
                       kind="Sequential")
        trainable = kwargs.get("trainable", True)
        model.trainable = self.truth(trainable) is not False
        model.is_built = False
        self.seq[id(model)] = SeqState()
        self.models.append(model)
        if isinstance(layers, (list, tuple)):
            for la in layers:
                self.seq_add(model, la, node, rebuild=False)
            self.seq_rebuild(model, node)
        elif layers is not None and not isinstance(layers, (list, tuple)):
            self.note(node, f"`{self.text(node)}`: layers not known statically")
        return model

    def _as_seq_layer(self, v: Any) -> Any:
        from bnlint.keras.builder import KLayer, KTensor

        if isinstance(v, KTensor) and v.node.is_input:
            return v.node.layer
        if isinstance(v, Instance):
            if v.kmodel is not None:
                self.materialize_instance(v)
                return v.kmodel
            return v.klayer
        if isinstance(v, KLayer):
            return v
        return None

    def seq_add(self, model: Any, value: Any, node: Any, rebuild: bool = True) -> None:
        from bnlint.keras import builder as kb

        st = self.seq[id(model)]
        layer = self._as_seq_layer(value)
        if layer is None:
            self.note(node, f"`{self.text(node)}`: added value is not a known layer; skipped")
            return
        if layer.class_name == "InputLayer" and layer.nodes and layer.nodes[0].is_input:
            if st.input is None and not st.layers:
                st.input = layer.nodes[0].outputs[0]
                st.dirty = True
            return
        if st.input is None and not st.layers and id(layer) in self.input_arg:
            shape = self.input_arg[id(layer)]
            name = (self.counters.input_name() if self.version == 3 else f"{layer.name}_input")
            if shape is None:
                st.input = kb.make_input(name, (None,), self.version, location=layer.location)
                st.input.shape = None
                st.input.node.layer.unknown = "input shape not known statically"
            else:
                st.input = kb.make_input(name, shape, self.version, location=layer.location)
        st.layers.append(layer)
        st.dirty = True
        if rebuild:
            self.seq_rebuild(model, node)

    def seq_rebuild(self, model: Any, node: Any) -> None:
        """Keras 3 builds a Functional (consuming a ``functional`` name) on every rebuild."""
        from bnlint.keras import builder as kb
        from bnlint.keras.builder import KModel

        st = self.seq[id(model)]
        if not st.layers:
            return
        if st.input is None and isinstance(st.layers[0], KModel):
            self.materialize(st.layers[0])  # a nested Sequential builds its graph lazily
        if st.input is None and isinstance(st.layers[0], KModel) and st.layers[0].inputs \
                and st.layers[0].inputs[0].shape is not None:
            shape = st.layers[0].inputs[0].shape
            if self.version == 3:
                st.input = kb.make_input(self.counters.input_name(), shape, self.version,
                                         location=model.location)
            else:
                st.input = kb.make_input(f"{st.layers[0].name}_input", shape, self.version,
                                         location=model.location)
        if st.input is not None and self.version == 3:
            self.counters.model_name("Functional")
        self._invalidate()

    def build_sequential(self, model: Any, shape: Any, node: Any) -> None:
        from bnlint.keras import builder as kb

        st = self.seq.get(id(model))
        if st is None or st.input is not None:
            return
        if shape is None:
            return
        shape = tuple(shape)
        if self.version == 3:
            name = self.counters.input_name()
        else:
            name = f"{st.layers[0].name}_input" if st.layers else "input"
        st.input = kb.make_input(name, shape, self.version, location=self.loc(node))
        st.dirty = True
        if self.version == 3:
            self.counters.model_name("Functional")
        self.materialize(model)

    def materialize(self, model: Any) -> None:
        from bnlint.keras import builder as kb

        st = self.seq.get(id(model))
        if st is None or not st.dirty:
            return
        for layer, n in st.added:
            del layer.nodes[n:]
        st.added = [(la, len(la.nodes)) for la in st.layers]
        if st.input is None:
            model.seq_layers = list(st.layers)
            model.is_built = False
            model.inputs, model.outputs = [], []
        else:
            built = kb.sequential(model.name, st.layers, self.version, st.input,
                                  trainable=model.trainable, location=model.location)
            model.seq_layers = built.seq_layers
            model.input_layer = built.input_layer
            model.inputs, model.outputs = built.inputs, built.outputs
            model.is_built = True
        st.dirty = False
        self._invalidate()

    # -------------------------------------------------------------- functional
    def _tensors(self, v: Any) -> list[Any] | None:
        from bnlint.keras.builder import KTensor

        if isinstance(v, KTensor):
            return [v]
        if isinstance(v, dict):
            try:
                v = [v[k] for k in sorted(v)]  # Keras flattens dicts by sorted key
            except TypeError:
                v = list(v.values())
        if isinstance(v, (list, tuple)):
            out = []
            for x in v:
                sub = self._tensors(x)
                if sub is None:
                    return None
                out.extend(sub)
            return out
        return None

    def make_functional(self, args: list[Any], kwargs: dict[str, Any], node: Any,
                        kind: str = "Functional") -> Any:
        from bnlint.keras import builder as kb

        inputs = kwargs.get("inputs", args[0] if args else None)
        outputs = kwargs.get("outputs", args[1] if len(args) > 1 else None)
        name = kwargs.get("name", args[2] if len(args) > 2 else None)
        if inputs is None and outputs is None:
            return Opaque(self.text(node))
        ins = self._tensors(inputs)
        outs = self._tensors(outputs)
        if not isinstance(name, str):
            name = self.counters.model_name(kind)
        if ins is None or outs is None:
            self.note(node, f"`{name}`: inputs/outputs are not known tensors; not modelled")
            return Opaque(self.text(node))
        model = kb.functional(name, ins, outs, self.version, location=self.loc(node), kind=kind)
        trainable = kwargs.get("trainable", True)
        model.trainable = self.truth(trainable) is not False
        self.models.append(model)
        return model

    # -------------------------------------------------------------- methods on keras objects
    def fact(self, model: Any, method: str, kwargs: dict[str, Any], node: Any) -> None:
        line, _, cell = self.pos(node)
        recv = node.func.value if isinstance(node, self.cst.Call) and isinstance(
            node.func, self.cst.Attribute) else (node.func if isinstance(node, self.cst.Call)
                                                 else node)
        self.facts.calls.append(CallFact.model_construct(
            variable=self.text(recv), model=getattr(model, "name", None), method=method,
            line=line, cell=cell, kwargs={k: _plain(v) for k, v in kwargs.items()},
            training=_plain(kwargs["training"]) if "training" in kwargs else None))

    def model_method(self, model: Any, name: str, args: list[Any], kwargs: dict[str, Any],
                     node: Any) -> Any:

        st = self.seq.get(id(model))
        if name == "add" and st is not None and args:
            self.seq_add(model, args[0], node)
            return None
        if name == "pop" and st is not None and st.layers:
            la = st.layers.pop()
            st.dirty = True
            self.seq_rebuild(model, node)
            return la
        if name in _MODEL_FACT_METHODS:
            self.materialize(model)
            self.fact(model, name, kwargs, node)
            return None if name in ("compile", "load_weights", "save", "save_weights") else \
                Opaque(self.text(node))
        if name == "build":
            shape = args[0] if args else kwargs.get("input_shape")
            if st is not None:
                self.build_sequential(model, self._shape_value(shape), node)
            return None
        if name == "summary":
            return None
        self.materialize(model)
        return self.layer_method(model, name, args, kwargs, node)

    def layer_method(self, layer: Any, name: str, args: list[Any], kwargs: dict[str, Any],
                     node: Any) -> Any:
        from bnlint.keras.builder import KModel


        if name == "get_weights":
            g = self.graph_for(layer)
            entries = g.all_weights() if isinstance(g, graph.Model) else g
            return WeightList(layer, list(entries), self.text(node),
                              layer.name if isinstance(layer, KModel) else None)
        if name == "get_layer" and isinstance(layer, KModel):
            lname = args[0] if args else kwargs.get("name")
            index = kwargs.get("index", args[1] if len(args) > 1 else None)
            layers = self.model_layers(layer)
            found = None
            if isinstance(lname, str):
                found = next((la for la in layers if la.name == lname), None)
            elif isinstance(index, int) and -len(layers) <= index < len(layers):
                found = layers[index]
            if found is not None:
                self.reference(node, "layer", layer.name, found.name, None)
                return found
            return Opaque(self.text(node))
        if name == "count_params":
            g = self.graph_for(layer)
            if isinstance(g, graph.Model):
                return g.total_params if g.total_params is not None else Opaque(self.text(node))
            from bnlint.symbolic import total

            return total(w.size for w in g)
        if name == "__call__":
            return self.call_layer_value(layer, args, kwargs, node)
        return Opaque(self.text(node))

    def graph_for(self, layer: Any) -> Any:
        """graph.Model for a model; list of graph.Weight for a plain layer."""
        from bnlint.keras import builder as kb
        from bnlint.keras.builder import KModel

        if isinstance(layer, KModel):
            self.materialize(layer)
            key = id(layer)
            cached = self.graph_cache.get(key)
            if cached is not None:
                return cached[1]
            g = kb.to_graph(layer, self.source)
            self.graph_cache[key] = (0, g)
            return g
        if layer.built is None:
            return []
        from bnlint.keras.builder import _layer_weights

        return _layer_weights(layer, False)

    def reference(self, node: Any, kind: str, model: str | None, layer: str,
                  weight: graph.Weight | None) -> None:
        line, col, cell = self.pos(node)

        if weight is not None:
            shape = graph.fmt_shape(weight.shape)
            desc = f"{layer}.{weight.name} {shape}"
        else:
            shape = None
            desc = layer
        refs = self.facts.references
        # The inner `X.layers[i]` of `X.layers[i].get_weights()[k]` is subsumed.
        refs[:] = [r for r in refs if not (r.line == line and r.cell == cell and r.kind == "layer"
                                           and weight is not None and self.text(node).startswith(r.text))]
        if any(r.line == line and r.column == col + 1 and r.text == self.text(node) for r in refs):
            return
        refs.append(Reference.model_construct(
            line=line, column=col + 1, cell=cell, text=self.text(node), kind=kind, model=model,
            layer=layer, weight=weight.name if weight is not None else None, shape=shape,
            description=desc))

    # -------------------------------------------------------------- user classes
    def instantiate(self, cls: UserClass, args: list[Any], kwargs: dict[str, Any],
                    node: Any) -> Any:
        from bnlint.keras.builder import KLayer, KModel
        from bnlint.keras.naming import to_snake_case

        inst = Instance(cls)
        base = cls.keras_base()
        if base == "model":
            name = kwargs.get("name") if isinstance(kwargs.get("name"), str) else None
            name = name or self.counters.uniquify(to_snake_case(cls.name))
            inst.kmodel = KModel(name, cls.name, {"name": name}, self.version,
                                 location=self.loc(node), kind="Sequential")
            inst.kmodel.is_built = False
            self.models.append(inst)
        elif base == "layer":
            name = kwargs.get("name") if isinstance(kwargs.get("name"), str) else None
            name = name or self.counters.layer_name(cls.name)
            inst.klayer = KLayer(name, cls.name, {"name": name}, self.version,
                                 location=self.loc(node))
            inst.klayer.custom = _CustomCall(self, inst, node)
            if self.truth(kwargs.get("trainable", True)) is False:
                # Keras 3: only the layer's own variables (created later by add_weight) are
                # frozen; sublayers made after super().__init__() stay trainable.  tf_keras:
                # the whole layer is frozen.
                if self.version == 3:
                    inst.attrs["__init_frozen__"] = True
                else:
                    inst.klayer.trainable = False
        init = cls.lookup("__init__")
        if isinstance(init, UserFunc):
            self.call_user(init, [inst, *args], kwargs, node)
        return inst

    def super_call(self, inst: Instance, name: str, args: list[Any], kwargs: dict[str, Any],
                   node: Any) -> Any:
        if name == "__init__":
            nm = kwargs.get("name")
            if isinstance(nm, str):
                if inst.kmodel is not None:
                    inst.kmodel.name = nm
                if inst.klayer is not None:
                    inst.klayer.name = nm
            if inst.kmodel is not None and isinstance(kwargs.get("inputs"), object) and (
                    "inputs" in kwargs or len(args) >= 2):
                # Functional-style subclass: Model.__init__(inputs, outputs)
                ins = self._tensors(kwargs.get("inputs", args[0] if args else None))
                outs = self._tensors(kwargs.get("outputs", args[1] if len(args) > 1 else None))
                if ins is not None and outs is not None:
                    inst.kmodel.kind = "Functional"
                    inst.kmodel.inputs, inst.kmodel.outputs = ins, outs
                    inst.kmodel.is_built = True
                    inst.attrs["__functional__"] = True
            return None
        if name == "build":
            if inst.kmodel is not None and self.version == 2 and not inst.calling_build \
                    and not inst.kmodel.is_built:
                # tf_keras Model.build(shape) on a subclass traces call() (not when Keras
                # itself builds the model on its first call).
                shape = args[0] if args else kwargs.get("input_shape")
                self.subclass_build(inst, shape, node)
            return None
        if name == "call" and inst.kmodel is not None:
            return Opaque(self.text(node))
        return Opaque(self.text(node))

    def call_subclass(self, inst: Instance, args: list[Any], kwargs: dict[str, Any],
                      node: Any, build: bool = True) -> Any:
        """Call a subclassed model/layer instance; ``build``: on its first symbolic call, build
        it as Keras's ``__call__`` does (``Model.build`` itself runs call() only)."""
        from bnlint.keras.builder import KTensor

        if inst.kmodel is not None and inst.attrs.get("__functional__"):
            return self.call_layer_value(inst.kmodel, args, kwargs, node)
        if inst.klayer is not None:
            # A custom layer: build() and call() are interpreted by custom_layer_call.
            return self.call_layer_value(inst.klayer, args, kwargs, node)
        call = inst.cls.lookup("call")
        if not isinstance(call, UserFunc):
            return Opaque(self.text(node))
        if inst.kmodel is not None and "training" in kwargs:
            self.fact(inst.kmodel, "__call__", kwargs, node)
        ts = (self._tensors(args[0]) if args else None) or []
        symbolic = bool(ts) and all(t.shape is not None for t in ts)
        with self.graph_scope(symbolic):
            if symbolic and build and inst.kmodel is not None and not inst.kmodel.is_built:
                shapes = [tuple(t.shape) for t in ts]
                self.first_build(inst, shapes if isinstance(args[0], (list, tuple, dict))
                                 else shapes[0], lambda: self.run_call(inst, call, args, kwargs,
                                                                       node))
            out = self.run_call(inst, call, args, kwargs, node)
        if inst.kmodel is not None and not inst.kmodel.is_built and args and isinstance(
                args[0], KTensor):
            inst.kmodel.inputs = [args[0]]
            outs = self._tensors(out)
            inst.kmodel.outputs = outs or []
            inst.kmodel.is_built = True
            inst.attrs["__called__"] = True
        if symbolic and inst.kmodel is not None:
            return self.as_model_call(inst.kmodel, ts, out, kwargs)
        return out

    def as_model_call(self, model: Any, inputs: list[Any], out: Any, kwargs: dict[str, Any],
                      ) -> Any:
        """Keras records a call of a subclassed model as one node of the model — a single
        layer of an enclosing functional model — whose outputs have the shapes call() gave;
        the layers inside stay inside."""
        from bnlint.keras import builder as kb
        from bnlint.keras.builder import KTensor

        outs = self._tensors(out)
        if not outs or any(t.shape is None for t in outs):
            return out
        plain = {k: v for k, v in kwargs.items() if v is None or isinstance(v, (bool, int, str))}
        new = kb.record_call(model, inputs, [t.shape for t in outs], plain)
        if isinstance(out, KTensor):
            return new[0]
        if isinstance(out, (list, tuple)) and len(out) == len(new):
            return type(out)(new)
        if isinstance(out, dict) and len(out) == len(new):
            return dict(zip(out, new, strict=True))
        return out

    def run_call(self, inst: Instance, call: UserFunc, args: list[Any], kwargs: dict[str, Any],
                 node: Any) -> Any:
        self.calling.append(inst)
        try:
            return self.call_user(call, [inst, *args], kwargs, node)
        finally:
            self.calling.pop()

    def first_build(self, inst: Instance, build_shape: Any, run_call: Callable[[], Any]) -> None:
        """``Layer._maybe_build`` on a model's first symbolic call: the class's own ``build``
        with the input shape, or else Keras 3's build-by-run."""
        build = inst.cls.lookup("build")
        if isinstance(build, UserFunc):
            inst.calling_build = True
            try:
                self._guarded(build, [inst, build_shape], {})
            finally:
                inst.calling_build = False
            return
        self.build_by_run(inst, run_call)

    def build_by_run(self, inst: Instance, run_call: Callable[[], Any]) -> None:
        """Keras 3 builds a subclass without ``build()`` that holds an unbuilt sublayer by
        running its call() once more before the real call: layers created inside call() take
        names twice.  Keras records no nodes on the sublayers in that run."""
        if self.version != 3 or isinstance(inst.cls.lookup("build"), UserFunc) or not any(
                _unbuilt(la) for la in inst.tracked):
            return
        marks = [(la, len(la.nodes)) for la in inst.tracked]
        run_call()
        for la, n in marks:
            del la.nodes[n:]

    @contextmanager
    def graph_scope(self, symbolic: bool) -> Iterator[None]:
        """tf_keras runs a layer's build/call on symbolic inputs inside a scratch FuncGraph,
        whose layer names come from a fresh per-graph counter (``dense``, ``dense_1`` ...); the
        layers called inside it share that graph."""
        if self.version != 2 or not symbolic or self.graph_depth:
            yield
            return
        from bnlint.keras.naming import NameCounters

        saved, self.counters = self.counters, NameCounters(2)
        self.graph_depth += 1
        try:
            yield
        finally:
            self.counters = saved
            self.graph_depth -= 1

    def materialize_instance(self, inst: Instance) -> None:
        from bnlint.keras.builder import KModel

        km = inst.kmodel
        if km is None or inst.attrs.get("__functional__"):
            return
        inst.tracked = []
        for v in inst.attrs.values():
            self._track(inst, v)
        km.seq_layers = list(inst.tracked)
        for la in km.seq_layers:
            if isinstance(la, KModel):
                self.materialize(la)

    def subclass_build(self, inst: Instance, shape: Any, node: Any) -> None:
        from bnlint.keras import builder as kb

        bshape = self._shape_value(shape)
        if self.version == 3:
            # Keras 3's Model.build() on a subclass does not run call(): the layers stay unbuilt.
            self.note(node, f"`{self.text(node)}`: Keras 3 marks a subclassed model built without "
                            "building its layers (call it on data or a keras.Input to build them)")
            return
        if bshape is None:
            self.note(node, f"`{self.text(node)}`: build shape not known statically")
            return
        t = kb.make_input("__build_input__", bshape, self.version, location=self.loc(node))
        self.call_subclass(inst, [t], {}, node, build=False)

    # -------------------------------------------------------------- custom layers
    def add_weight(self, inst: Instance, args: list[Any], kwargs: dict[str, Any],
                   node: Any) -> Any:
        """``self.add_weight(...)``: Keras 3 (shape, initializer, dtype, ...) positional order,
        tf_keras (name, shape, dtype, initializer, ...)."""
        from bnlint.keras.catalogue import WeightSpec

        if self.version == 3 and any(i is inst for i in self.calling):
            self.state_in_call(inst, [], node)
        order = (["shape", "initializer", "dtype"] if self.version == 3
                 else ["name", "shape", "dtype", "initializer", "regularizer", "trainable"])
        values = dict(kwargs)
        for pname, v in zip(order, args, strict=False):
            values.setdefault(pname, v)
        if self.version == 3 and args and isinstance(args[0], str):
            values.pop("shape", None)  # legacy add_weight("name", ...) raises in Keras 3
            self.note(node, "`add_weight`: Keras 3 takes `name` as a keyword only")
        owner = inst.klayer or inst.kmodel
        raw_shape = values.get("shape", ())
        shape = () if raw_shape is None else self._shape_value(raw_shape)
        if shape is None or any(d is None for d in shape):
            self.note(node, f"`{self.text(node)}`: weight shape not known statically")
            shape = tuple(Sym.atom(f"{self.text(node)}.shape[{i}]") for i in range(1)) \
                if shape is None else tuple(Sym.atom("?") if d is None else d for d in shape)
        name = values.get("name")
        if not isinstance(name, str):
            name = self.counters.uniquify("variable") if self.version == 3 else "Variable"
        trainable = self.truth(values.get("trainable", True))
        dtype = values.get("dtype") if isinstance(values.get("dtype"), str) else None
        if inst.attrs.get("__init_frozen__"):
            trainable = False
        spec = WeightSpec(name, tuple(shape), trainable is not False, dtype)
        inst.weights.append(spec)
        if inst.klayer is None and inst.kmodel is not None:  # a Model subclass's own variable
            inst.kmodel.own_weights.append(spec)
        return WeightVar(spec, owner.name if owner is not None else "?")

    def custom_layer_call(self, inst: Instance, layer: Any, shapes: list[Any],
                          kwargs: dict[str, Any], list_input: bool,
                          first_count: int | None) -> list[Any]:
        """Output shapes of one call of a user-defined layer; builds it on first call."""
        with self.graph_scope(True):
            return self._custom_layer_call(inst, layer, shapes, kwargs, list_input, first_count)

    def _custom_layer_call(self, inst: Instance, layer: Any, shapes: list[Any],
                           kwargs: dict[str, Any], list_input: bool,
                           first_count: int | None) -> list[Any]:
        from bnlint.keras import builder as kb
        from bnlint.keras.catalogue import Built, SubLayer, TensorArg

        def ph(shape: Any) -> Any:
            return kb.make_input("__arg__", tuple(shape), self.version)

        first = shapes if first_count is None else shapes[:first_count]
        rest = [] if first_count is None else shapes[first_count:]
        multi = list_input or len(first) != 1
        build_shape: Any = [tuple(x) for x in first] if multi else tuple(first[0])
        first_build = layer.built is None
        call = inst.cls.lookup("call")
        if first_build:
            inst.weights = []
            build = inst.cls.lookup("build")
            if isinstance(build, UserFunc):
                self._guarded(build, [inst, build_shape], {})
        targs: list[Any] = [[ph(x) for x in first] if multi else ph(first[0])]
        kw: dict[str, Any] = {}
        for k, v in kwargs.items():
            if isinstance(v, TensorArg):
                if v.index >= len(first) + len(rest):
                    continue
                kw[k] = ph(shapes[v.index])
            else:
                kw[k] = v
        positional_extra = [ph(x) for x in rest if not any(
            isinstance(v, TensorArg) and v.index >= len(first) for v in kwargs.values())]
        targs.extend(positional_extra)
        outs: list[Any] | None = None
        reason = None
        if isinstance(call, UserFunc):
            self.in_custom += 1
            self.calling.append(inst)
            try:
                if first_build:
                    self.build_by_run(inst, lambda: self._guarded(call, [inst, *targs], kw))
                out = self._guarded(call, [inst, *targs], kw)
            finally:
                self.calling.pop()
                self.in_custom -= 1
            ts = self._tensors(out)
            if ts is not None and ts and all(t.shape is not None for t in ts):
                outs = [tuple(t.shape) for t in ts]
            else:
                reason = f"`{inst.cls.name}.call` computes its output with operations bnlint " \
                         "does not model"
        else:
            reason = f"`{inst.cls.name}` has no call() bnlint can read"
        if outs is None:
            cos = inst.cls.lookup("compute_output_shape")
            if isinstance(cos, UserFunc):
                r = self._guarded(cos, [inst, build_shape], {})
                if isinstance(r, list) and r and all(isinstance(x, (list, tuple)) for x in r):
                    cand = [self._shape_value(x) for x in r]
                else:
                    cand = [self._shape_value(r)]
                if all(c is not None for c in cand):
                    outs = cand  # type: ignore[assignment]
                    reason = None
        if first_build:
            subs = []
            for sub in inst.tracked:
                if sub is layer or sub.built is None:
                    continue
                b = sub.built
                if not sub.trainable:
                    from dataclasses import replace

                    b = replace(b, weights=[replace(w, trainable=False) for w in b.weights],
                                sublayers=[replace(x) for x in b.sublayers])
                subs.append(SubLayer(sub.name, sub.class_name, b))
            layer.built = Built(outs or [], weights=list(inst.weights), sublayers=subs)
        if outs is None:
            msg = f"output shape unknown: {reason} (define compute_output_shape to fix)"
            if msg not in layer.notes:
                layer.notes.append(msg)
            return [None]
        return outs

    def _guarded(self, fn: UserFunc, args: list[Any], kwargs: dict[str, Any]) -> Any:
        try:
            return self.call_user(fn, args, kwargs, fn.node)
        except _Budget:
            raise
        except (_Return, _Break, _Continue, _Raise):
            return Opaque(fn.name)

    def tensor_shape(self, v: Any) -> tuple | None:
        from bnlint.keras.builder import KTensor

        if isinstance(v, KTensor):
            return v.shape
        if isinstance(v, WeightVar):
            return v.shape
        if _is_num(v):
            return ()
        return None

    def new_tensor(self, shape: Any) -> Any:
        from bnlint.keras import builder as kb

        if shape is None:
            return None
        return kb.make_input("__op__", tuple(shape), self.version)

    def graph_op(self, op: str, a: Any, b: Any, node: Any) -> Any:
        """``x + 3.0`` on symbolic tensors: a Keras 3 operation (not in ``model.layers``, but it
        takes a name such as ``add``), or a tf_keras ``TFOpLambda`` layer."""
        from bnlint.keras import builder as kb
        from bnlint.keras.builder import KLayer, KTensor

        tensors = [x for x in (a, b) if isinstance(x, KTensor)]
        other = [x for x in (a, b) if not isinstance(x, KTensor)]
        if other and not _is_num(other[0]):
            return None
        if self.version == 3:
            cls = {"Add": "Add", "Subtract": "Subtract", "Multiply": "Multiply",
                   "Divide": "TrueDivide"}.get(op)
            if cls is None:
                return None
            layer = KLayer(self.counters.layer_name(cls), cls, {}, 3, is_op=True,
                           location=self.loc(node))
            layer.config["name"] = layer.name
            kwargs: dict[str, Any] = {}
        else:
            fn = {"Add": "__operators__.add", "Subtract": "math.subtract",
                  "Multiply": "math.multiply", "Divide": "math.truediv"}.get(op)
            if fn is None:
                return None
            name = self.counters.uniquify(f"tf.{fn}")
            layer = KLayer(name, "TFOpLambda", {"name": name, "function": fn}, 2,
                           location=self.loc(node))
            kwargs = {"y": other[0]} if other else {}
        outs = kb.call_layer(layer, tensors, kwargs, False)
        self._invalidate()
        return outs[0]

    def traced_op(self, op: str, operands: list[Any], result: Any) -> Any:
        """An operation inside a subclass's call(): Keras traces call() on backend tensors, so
        the operation is neither a layer nor an auto-named Keras 3 operation (measured: it takes
        no name), only a shape. It is kept as an unnamed operation node so that the graph stays
        connected for the rules (operations are never in ``model.layers``)."""
        from bnlint.keras import builder as kb
        from bnlint.keras.builder import KLayer, KTensor

        tensors = [x for x in operands if isinstance(x, KTensor)]
        if result is None or result.shape is None or not tensors:
            return result
        op_layer = KLayer(f"<{op}>", op, {}, self.version, is_op=True)
        return kb.record_call(op_layer, tensors, [result.shape])[0]

    def tensor_binop(self, op: str, a: Any, b: Any) -> Any:
        sa, sb = self.tensor_shape(a), self.tensor_shape(b)
        if sa is None or sb is None:
            return None
        if op == "MatrixMultiply":
            return self.new_tensor(_matmul_shape(sa, sb))
        if op in ("Add", "Subtract", "Multiply", "Divide", "FloorDivide", "Power", "Modulo"):
            return self.new_tensor(_broadcast(sa, sb))
        return None

    def tensor_op(self, fn: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """A small model of ``keras.ops`` / ``tf.*`` shape behaviour inside custom call()."""
        shapes = [self.tensor_shape(a) for a in args]
        s0 = shapes[0] if shapes else None
        if s0 is None:
            return None
        if fn in _ELEMENTWISE_UNARY:
            return self.new_tensor(s0)
        if fn in _ELEMENTWISE_BINARY and len(args) >= 2 and shapes[1] is not None:
            return self.new_tensor(_broadcast(s0, shapes[1]))
        if fn in ("matmul", "dot") and len(args) >= 2 and shapes[1] is not None:
            return self.new_tensor(_matmul_shape(s0, shapes[1]))
        if fn in _REDUCTIONS:
            axis = kwargs.get("axis", args[1] if len(args) > 1 else None)
            keep = kwargs.get("keepdims", kwargs.get("keep_dims", False))
            rank = len(s0)
            if axis is None:
                return self.new_tensor(tuple(1 for _ in s0) if keep else ())
            axes = axis if isinstance(axis, (list, tuple)) else [axis]
            if not all(isinstance(x, int) for x in axes):
                return None
            norm = {x % rank for x in axes}
            return self.new_tensor(tuple(1 if i in norm else d for i, d in enumerate(s0)
                                         if keep or i not in norm))
        return None

    # -------------------------------------------------------------- model views
    def as_model(self, v: Any, materialize: bool = True) -> Any:
        from bnlint.keras.builder import KModel

        if isinstance(v, KModel):
            if materialize:
                self.materialize(v)
            return v
        if isinstance(v, Instance) and v.kmodel is not None:
            if materialize:
                self.materialize_instance(v)
            return v.kmodel
        return None


# Parsed modules (with their positions, a map over every node) kept per process: enough for
# the helper modules and the re-reads of one analysis; a tree-wide check reads each file once.
_PARSED: dict[str, Any] = {}
_MAX_PARSED = 16


def _parse_cached(text: str) -> tuple[Any, _LazyPositions]:
    """Parse once per process (libcst trees are immutable; positions are resolved lazily)."""
    import hashlib

    import libcst as cst

    key = hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()
    hit = _PARSED.get(key)
    if hit is None:
        module = cst.parse_module(text)
        hit = (module, _LazyPositions(module))
        if len(_PARSED) > _MAX_PARSED:
            # the per-node caches hold nodes of these trees: they go with them
            for cache in (_YIELDS, _GENERATORS, _LITERALS):
                cache.clear()
        _PARSED[key] = hit
        _YIELDS.put(module, _YIELD_RE.search(text) is not None)
    return hit


def _own_nodes(cst: Any, body: Any) -> Iterator[tuple[Any, bool]]:
    """Every node of a body, depth first, with whether it lies in a loop nested in the body;
    nested functions, classes and lambdas are yielded but not entered (bounded by the size of
    the syntax tree)."""
    stack: list[tuple[Any, bool]] = [(c, False) for c in body.children]
    while stack:
        n, in_loop = stack.pop()
        yield n, in_loop
        if not isinstance(n, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            inner = in_loop or isinstance(n, (cst.For, cst.While))
            stack.extend((c, inner) for c in n.children)


def _parsed_positions(module: Any) -> Any:
    for m, lazy in _PARSED.values():
        if m is module:
            return lazy
    return _LazyPositions(module)


def _unbuilt(layer: Any) -> bool:
    """Keras 3's ``not layer.built`` for a tracked sublayer that was never called."""
    if getattr(layer, "is_model", False):
        return not layer.is_built
    return layer.built is None and layer.class_name not in _BUILT_AT_INIT


def _set_trainable(layer: Any, value: bool, depth: int = 0) -> None:
    """Keras's ``trainable`` setter: a model passes the flag down to every layer it holds."""
    layer.trainable = value
    if getattr(layer, "is_model", False) and depth < 20:
        for sub in layer.layers:
            if sub is not layer:
                _set_trainable(sub, value, depth + 1)


class _LazyPositions:
    """libcst positions, resolved on first use (a full pass over the module)."""

    def __init__(self, module: Any):
        self.module = module
        self.map: Any = None

    def __getitem__(self, node: Any) -> Any:
        if self.map is None:
            from libcst.metadata import MetadataWrapper, PositionProvider

            self.map = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(
                PositionProvider)
        return self.map[node]


class _LazyText:
    """Source text of a binary operation, generated only when a result needs it."""

    __slots__ = ("interp", "node", "op")

    def __init__(self, interp: Interpreter, node: Any, op: str):
        self.interp, self.node, self.op = interp, node, op

    def __str__(self) -> str:
        n = self.node
        if isinstance(n, self.interp.cst.AugAssign):
            return f"{self.interp.text(n.target)} {self.op} {self.interp.text(n.value)}"
        return self.interp.text(n)


class _CustomCall:
    """The builder's hook for a user-defined layer (``KLayer.custom``)."""

    def __init__(self, interp: Interpreter, inst: Instance, node: Any):
        self.interp = interp
        self.inst = inst
        self.node = node

    def __call__(self, layer: Any, shapes: list[Any], kwargs: dict[str, Any], list_input: bool,
                 first_count: int | None) -> list[Any]:
        return self.interp.custom_layer_call(self.inst, layer, shapes, kwargs, list_input,
                                             first_count)


_ELEMENTWISE_UNARY = {
    "relu", "relu6", "sigmoid", "tanh", "softmax", "log_softmax", "exp", "log", "sqrt", "square",
    "abs", "negative", "gelu", "silu", "swish", "elu", "selu", "softplus", "softsign", "erf",
    "hard_sigmoid", "leaky_relu", "rsqrt", "sign", "floor", "ceil", "round", "cast",
    "stop_gradient", "identity", "dropout", "l2_normalize", "normalize", "clip",
    "clip_by_value", "reciprocal", "cos", "sin", "zeros_like", "ones_like", "mish",
}
_ELEMENTWISE_BINARY = {"add", "subtract", "multiply", "divide", "maximum", "minimum", "power",
                       "truediv", "true_divide", "floor_divide", "squared_difference", "where"}
_REDUCTIONS = {"mean", "sum", "max", "min", "prod", "reduce_mean", "reduce_sum", "reduce_max",
               "reduce_min", "reduce_prod", "std", "var", "logsumexp", "reduce_logsumexp"}


def _broadcast(a: tuple, b: tuple) -> tuple | None:
    out = []
    for i in range(max(len(a), len(b))):
        da = a[len(a) - 1 - i] if i < len(a) else 1
        db = b[len(b) - 1 - i] if i < len(b) else 1
        if da == 1:
            out.append(db)
        elif db == 1 or da == db:
            out.append(da)
        elif da is None:
            out.append(db)
        elif db is None:
            out.append(da)
        else:
            return None
    return tuple(reversed(out))


def _matmul_shape(a: tuple, b: tuple) -> tuple | None:
    if not a or not b:
        return None
    if len(b) == 1:
        return a[:-1]
    if len(a) == 1:
        return (*b[:-2], b[-1])
    batch = _broadcast(a[:-2], b[:-2])
    if batch is None:
        return None
    return (*batch, a[-2], b[-1])


class _LayerList:
    """``model.layers``: indexing records a reference."""

    def __init__(self, layers: list[Any], model_name: str):
        self.layers = layers
        self.model_name = model_name


# --------------------------------------------------------------------------- value helpers


def _is_num(v: Any) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool)) or isinstance(v, bool)


def _as_int_like(v: Any) -> Any:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, Sym):
        return v
    if isinstance(v, Opaque):
        return Sym.atom(v.text)
    return None


def _plain_data(v: Any, depth: int = 0) -> bool:
    if v is None or isinstance(v, (bool, int, float, str, range)):
        return True
    if depth > 20:
        return False
    if isinstance(v, (list, tuple, set, frozenset)):
        return all(_plain_data(x, depth + 1) for x in v)
    if isinstance(v, dict):
        return all(_plain_data(k, depth + 1) and _plain_data(x, depth + 1) for k, x in v.items())
    return False


def _display(v: Any) -> Any:
    if isinstance(v, Sym):
        return str(v)
    if isinstance(v, Opaque):
        return v.text
    return v


def _plain(v: Any, depth: int = 0) -> Any:
    """A JSON-friendly rendering of an abstract value (facts)."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, Sym):
        return str(v)
    if isinstance(v, Opaque):
        return {"unknown": v.text}
    if depth > 10:
        return "..."
    if isinstance(v, (list, tuple)):
        return [_plain(x, depth + 1) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x, depth + 1) for k, x in v.items()}
    if isinstance(v, KRef):
        return v.path
    name = getattr(v, "name", None)
    return {"object": type(v).__name__, **({"name": name} if isinstance(name, str) else {})}


def _pyop(name: str) -> Any:
    import operator

    return {
        "Add": operator.add, "Subtract": operator.sub, "Multiply": operator.mul,
        "Divide": operator.truediv, "FloorDivide": operator.floordiv, "Modulo": operator.mod,
        "Power": operator.pow, "LeftShift": operator.lshift, "RightShift": operator.rshift,
        "BitAnd": operator.and_, "BitOr": operator.or_, "BitXor": operator.xor,
    }[name]


class _LazyOps(dict):
    def __missing__(self, key: str) -> Any:
        fn = _pyop(key)
        self[key] = fn
        return fn


_PY_OPS: dict[str, Any] = _LazyOps()

_CMP_OPS: dict[str, Any] = {
    "Equal": lambda a, b: a == b, "NotEqual": lambda a, b: a != b,
    "LessThan": lambda a, b: a < b, "LessThanEqual": lambda a, b: a <= b,
    "GreaterThan": lambda a, b: a > b, "GreaterThanEqual": lambda a, b: a >= b,
    "In": lambda a, b: a in b, "NotIn": lambda a, b: a not in b,
}

_BUILTIN_IMPL: dict[str, Any] = {
    "enumerate": enumerate, "zip": zip, "reversed": reversed, "sorted": sorted, "list": list,
    "tuple": tuple, "set": set, "frozenset": frozenset, "min": min, "max": max, "sum": sum,
    "any": any, "all": all, "int": int, "float": float, "str": str, "bool": bool, "abs": abs,
    "round": round, "divmod": divmod, "pow": pow, "repr": repr, "chr": chr, "ord": ord,
    "hex": hex, "format": format,
}


# --------------------------------------------------------------------------- entry points


def detect_version(text: str) -> int:
    if re.search(r"^\s*(import|from)\s+tf_keras\b", text, re.MULTILINE):
        return 2
    if re.search(r"TF_USE_LEGACY_KERAS['\"]\s*\]\s*=\s*['\"](1|true|True)", text):
        return 2
    return 3


def _parse_defines(defines: dict[str, str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in (defines or {}).items():
        try:
            val = ast.literal_eval(v) if isinstance(v, str) else v
        except (ValueError, SyntaxError) as exc:
            raise SourceError(f"line 0: --define {k}={v}: not a Python literal ({exc})") from None
        out[_norm_text(k)] = val
    return out


def _syntax_error(exc: Exception, line_map: Any = None) -> SourceError:
    line = getattr(exc, "raw_line", None) or getattr(exc, "lineno", None) or 0
    msg = getattr(exc, "message", None) or str(exc).splitlines()[0]
    msg = str(msg).splitlines()[0] if msg else "syntax error"
    if line_map is not None and line:
        cell, cline = line_map(line)
        return SourceError(f"cell {cell} line {cline}: syntax error: {msg}")
    return SourceError(f"line {line}: syntax error: {msg}")


MAX_ALTERNATIVES = 4


# libcst's ``evaluated_value`` runs ast.literal_eval (a compile) on every call, and a helper
# function called in a loop evaluates the same literal node many times: keep each value, with
# its node (so that ids stay unique), up to a bound.
_MAX_NODE_CACHE = 200_000
_LITERALS: IdentityCache[Any] = IdentityCache(_MAX_NODE_CACHE)
_GENERATORS: IdentityCache[bool] = IdentityCache(_MAX_NODE_CACHE)  # function node -> yields?
_YIELDS: IdentityCache[bool] = IdentityCache(_MAX_NODE_CACHE)  # module -> text says yield?
_YIELD_RE = re.compile(r"\byield\b")
# Python's types by name: isinstance(x, T) and type(x) on known values
_PY_TYPES = {t.__name__: t for t in (int, float, str, bool, list, tuple, dict, set)}


def _literal(node: Any) -> Any:
    return _LITERALS.get(node, _evaluated_value)


def _evaluated_value(node: Any) -> Any:
    return node.evaluated_value


def _model_signature(g: graph.Model) -> Any:
    return (g.name, tuple((la.name, la.class_name, tuple(tuple(map(str, w.shape))
                                                          for w in la.weights))
                          for la in g.layers))


def read_text(
    text: str, source: str = "<string>", defines: dict[str, str] | None = None,
    keras_version: int | None = None, function: str | None = None,
    args: dict[str, str] | None = None, line_map: Any = None, path: Path | None = None,
    list_functions: bool = True,
) -> SourceResult:
    """Interpret source text (see :func:`read_source`).

    An ``if`` statement or conditional expression (``a if c else b``) whose condition is
    unknown is first evaluated one way (true, unless that branch only raises); then the program
    is re-read with each such decision flipped, up to ``MAX_ALTERNATIVES`` times, and every
    model that comes out different is reported as an alternative (its notes say which
    condition, which way). ``list_functions``: when the module builds no model, list the
    functions that look like they return one (``summarize`` prints them; ``check`` does not).
    """
    import libcst as cst

    try:
        module, _ = _parse_cached(text)
    except cst.ParserSyntaxError as exc:
        raise _syntax_error(exc, line_map) from None
    except (RecursionError, ValueError) as exc:
        raise SourceError(f"line 0: cannot parse ({exc.__class__.__name__})") from None
    version = keras_version or detect_version(text)
    if path is None and source and not source.startswith("<") and Path(source).is_file():
        path = Path(source)
    parsed = _parse_defines(defines)
    modules: dict[Path, Any] = {}
    base, interp = _read_once(module, text, source, parsed, version, function, args, line_map,
                              path, {}, modules, list_functions)
    decisions = list(interp.decisions)
    if not decisions:
        return base
    alts: list[tuple[str, bool, SourceResult]] = []
    for key, cond_text, default in decisions[:MAX_ALTERNATIVES]:
        try:
            r, _ = _read_once(module, text, source, parsed, version, function, args, line_map,
                              path, {key: not default}, {})
        except SourceError:
            continue
        alts.append((cond_text, not default, r))
    base_sigs = {m.variable: _model_signature(m) for m in base.models}
    seen = set(base_sigs.items())
    extra: list[tuple[graph.Model, str, bool, str | None]] = []
    for cond_text, taken, r in alts:
        for m in r.models:
            sig = (m.variable, _model_signature(m))
            if sig in seen:
                continue
            seen.add(sig)
            extra.append((m, cond_text, taken, m.variable))
    if not extra:
        return base
    for var in {v for *_, v in extra}:
        mine = [e for e in extra if e[3] == var]
        n = len(mine) + 1
        for m in base.models:
            if m.variable == var:
                why = ", ".join(f"`{c}` {'false' if t else 'true'}" for _, c, t, _ in mine)
                m.notes.append(f"alternative 1 of {n}: condition {why} (as read)")
        for i, (m, c, t, _) in enumerate(mine, start=2):
            m.notes.append(f"alternative {i} of {n}: condition `{c}` {'true' if t else 'false'}")
            base.models.append(m)
    return base


def _read_once(module: Any, text: str, source: str, parsed: dict[str, Any], version: int,
               function: str | None, args: dict[str, str] | None, line_map: Any,
               path: Path | None, forced: dict[Any, bool], modules: dict[Path, Any],
               list_functions: bool = False) -> tuple[SourceResult, Interpreter]:
    import libcst as cst

    interp = Interpreter(module, source, version, parsed, line_map, path, modules)
    interp.positions = interp.ctx.positions = interp.main_ctx.positions = _parsed_positions(module)
    interp.forced = forced
    # model_construct: no validation schema for the nested graph types is built on this path.
    result = SourceResult.model_construct(keras_version=version)
    try:
        interp.run_module()
    except _Budget as exc:
        interp.note(None, f"{exc}; the result is partial")
    except (_Return, _Break, _Continue, _Raise):
        pass
    except RecursionError:
        interp.note(None, "nesting too deep; the result is partial")

    chosen: list[tuple[Any, str | None]] = []
    if function is not None:
        fn, lead = _target(interp, function, source)
        call_args: dict[str, Any] = {}
        for k, expr in (args or {}).items():
            try:
                node = cst.parse_expression(expr)
            except cst.ParserSyntaxError:
                raise SourceError(f"line 0: --arg {k}={expr}: not a Python expression") from None
            # evaluate in a scratch module so positions resolve
            sub = Interpreter(cst.parse_module(f"({expr})\n"), source, version, {}, None)
            sub.counters = interp.counters
            sub.globals = interp.globals
            stmt = sub.module.body[0].body[0]
            try:
                call_args[k] = sub.ev(stmt.value, interp.globals)
            except _Budget:
                call_args[k] = Opaque(expr)
            del node
        before = len(interp.models)
        try:
            ret = interp.call_user(fn, lead, call_args, fn.node)
        except _Budget as exc:
            interp.note(None, f"{exc}; the result is partial")
            ret = None
        rets = ret if isinstance(ret, (list, tuple)) else [ret]
        for r in rets:
            m = interp.as_model(r)
            if m is not None:
                chosen.append((m, function))
        if not chosen:
            interp.note(fn.node, f"`{function}` does not return a model bnlint could build")
        del before
    else:
        seen: set[int] = set()
        names: dict[int, str] = {}
        for k, v in interp.globals.vars.items():
            m = interp.as_model(v, materialize=False)
            if m is not None and id(m) not in names:
                names[id(m)] = k
        for obj in interp.models:
            m = interp.as_model(obj, materialize=False)
            if m is None or id(m) in seen or id(m) not in names:
                continue
            seen.add(id(m))
            chosen.append((obj, names[id(m)]))
    for obj, var in chosen:
        m = interp.as_model(obj)
        if isinstance(obj, Instance) and not m.is_built:
            interp.notes.append(f"`{var}` ({m.name}, {obj.cls.name}) is a subclassed model that "
                                "is never built: its weights do not exist yet")
        elif m.kind == "Sequential" and not m.is_built and m.seq_layers:
            interp.notes.append(f"`{var}` ({m.name}) is a Sequential model without an input "
                                "shape bnlint can read: it is unbuilt (Keras counts 0 parameters "
                                "until fit/predict/build gives it one)")
        from bnlint.keras import builder as kb

        try:
            g = kb.to_graph(m, source)
        except Exception as exc:
            interp.notes.append(f"`{var}`: cannot be summarized ({exc})")
            continue
        if isinstance(obj, Instance):
            g.class_name = obj.cls.name
        g.variable = var
        if interp.uncertain:
            g.notes.extend(f"uncertain: {u}" for u in list(dict.fromkeys(interp.uncertain))[:5])
        result.models.append(g)
    if not chosen and function is None and list_functions:
        result.functions = _model_functions(interp)
    result.references = list(interp.facts.references)
    result.facts = interp.facts
    result.notes = interp.notes
    return result, interp


def _target(interp: Interpreter, function: str, source: str) -> tuple[UserFunc, list[Any]]:
    """The function ``FILE.py::NAME`` / ``FILE.py::Class.method`` names, and the leading
    arguments it is called with (the class for a classmethod; for a plain method, an instance
    made with the class's ``__init__`` defaults)."""
    cls_name, dot, meth_name = function.partition(".")
    if not dot:
        fn = interp.globals.vars.get(function)
        if not isinstance(fn, UserFunc):
            raise SourceError(f"line 0: no top-level function `{function}` in {source}")
        return fn, []
    cls = interp.globals.vars.get(cls_name)
    if not isinstance(cls, UserClass):
        raise SourceError(f"line 0: no top-level class `{cls_name}` in {source}")
    fn = cls.lookup(meth_name)
    if not isinstance(fn, UserFunc) or "." in meth_name:
        raise SourceError(f"line 0: class `{cls_name}` has no method `{meth_name}` in {source}")
    if fn.kind == "staticmethod":
        return fn, []
    if fn.kind == "classmethod":
        return fn, [cls]
    init = cls.lookup("__init__")
    if isinstance(init, UserFunc):
        p = init.node.params
        required = [prm.name.value for prm in [*p.posonly_params, *p.params, *p.kwonly_params][1:]
                    if prm.default is None]
        if required:
            raise SourceError(
                f"line 0: `{function}` is a plain method: bnlint calls it on `{cls_name}()` made "
                f"with the defaults of `__init__`, but `__init__` has no default for "
                f"{', '.join(f'`{r}`' for r in required)}")
    try:
        inst = interp.instantiate(cls, [], {}, cls.node)
    except _Budget as exc:
        raise SourceError(f"line 0: `{cls_name}()`: {exc}") from None
    return fn, [inst]


def _model_functions(interp: Interpreter) -> list[FunctionInfo]:
    """Top-level functions, and methods of top-level classes (``Class.method``), whose code
    looks like it returns a model."""
    out = []
    for name, v in interp.globals.vars.items():
        if isinstance(v, UserFunc) and not v.is_lambda and v.closure is interp.globals:
            _add_function(interp, out, name, v, 0)
        elif isinstance(v, UserClass) and v.closure is interp.globals and v.keras_base() is None:
            # Methods of Keras Model/Layer subclasses are Keras hooks (call, build), not builders.
            for mname, fn in v.ns.items():
                if isinstance(fn, UserFunc) and not mname.startswith("__"):
                    _add_function(interp, out, f"{name}.{mname}", fn,
                                  0 if fn.kind == "staticmethod" else 1)
    return out


def _add_function(interp: Interpreter, out: list[FunctionInfo], name: str, fn: UserFunc,
                  skip: int) -> None:
    """List ``fn`` when its code looks like it returns a model; ``skip`` drops self/cls."""
    body = interp.text(fn.node)
    if "return" not in body or not re.search(r"\b(Sequential|Model|Functional)\b|\bkeras\b",
                                             body):
        return
    p = fn.node.params
    params = [(prm.name.value, interp.text(prm.default) if prm.default is not None else None)
              for prm in [*p.posonly_params, *p.params, *p.kwonly_params][skip:]]
    line, _, _ = interp.pos(fn.node)
    out.append(FunctionInfo.model_construct(name=name, parameters=params, line=line))


def read_source(
    path: str | Path, defines: dict[str, str] | None = None, keras_version: int | None = None,
    function: str | None = None, args: dict[str, str] | None = None,
) -> SourceResult:
    """Statically read a Python file that builds Keras models (never runs it)."""
    p = Path(path)
    if p.suffix == ".ipynb":
        from bnlint.readers.notebook import read_notebook

        return read_notebook(p, defines=defines, keras_version=keras_version, function=function,
                             args=args)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise SourceError(f"line 0: cannot read {p}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SourceError("line 0: not UTF-8 text") from None
    return read_text(text, str(p), defines, keras_version, function, args)
