"""Entry points: read_text and read_source, Keras detection and version detection."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from bnlint import graph
from bnlint.guard import TimeBudgetExceeded
from bnlint.readers.source.facts import SourceError, SourceResult
from bnlint.readers.source.imports import _norm_text, module_name
from bnlint.readers.source.interpreter import Interpreter
from bnlint.readers.source.parse import _parse_cached, _parsed_positions
from bnlint.readers.source.targets import _model_functions, _target
from bnlint.readers.source.values import (
    _MISSING,
    Instance,
    KRef,
    Opaque,
    Scope,
    _Break,
    _Budget,
    _Continue,
    _Raise,
    _Return,
)

_KERAS_RE = re.compile(r"\b(keras|tensorflow|tf_keras)\b")


def mentions_keras(text: str) -> bool:
    """Cheap pre-filter: does the text mention Keras or TensorFlow at all, or call Keras names
    unqualified as a snippet does?"""
    from bnlint.snippet_gate import SNIPPET_CALL

    return _KERAS_RE.search(text) is not None or SNIPPET_CALL.search(text) is not None


# --------------------------------------------------------------------------- entry points


def detect_version(text: str) -> int:
    """The Keras semantics a file is read with (see :func:`version_from_code`)."""
    return version_from_code(text)[0]


#: API that only Keras 1 and 2 accept (Keras 3 rejects it): (pattern, what the note calls it)
_KERAS2_API = [(re.compile(p, re.MULTILINE), what) for p, what in (
    (r"\bnb_epoch\s*=", "`nb_epoch=`"),
    (r"\b(?:samples_per_epoch|nb_val_samples|nb_filter|nb_row|nb_col)\s*=", "Keras 1 arguments"),
    (r"\binit\s*=\s*['\"]", "`init=`"),
    (r"\bborder_mode\s*=", "`border_mode=`"),
    (r"\bsubsample\s*=", "`subsample=`"),
    (r"\b[WbU]_regularizer\s*=", "`W_regularizer=`"),
    (r"\bConvolution[123]D\(\s*[\w.]+\s*,\s*\d+\s*,\s*\d+\s*[,)]", "`Convolution2D(n, 3, 3)`"),
    (r"\bkeras\.layers\.merge\b|^\s*from\s+(?:tensorflow\.)?keras\.layers\s+import\s+[^\n]*"
     r"\b(?:merge|Merge)\b", "`keras.layers.merge`"),
    (r"\bkeras\.engine\b", "`keras.engine`"),
    (r"\bkeras\.layers\.(?:core|convolutional|normalization|recurrent|pooling|embeddings|"
     r"advanced_activations|wrappers|merge)\b", "Keras 2 module paths"),
    (r"\bkeras\.utils\.np_utils\b|\bkeras\.wrappers\.scikit_learn\b", "Keras 2 module paths"),
    (r"\.(?:fit|predict|evaluate)_generator\s*\(", "`fit_generator`"),
    (r"\b(?:Adam|SGD|RMSprop|Adagrad|Adadelta|Adamax|Nadam)\s*\([^()]*\b(?:lr|decay)\s*=",
     "`lr=`/`decay=` of an optimizer"),
)]
_KERAS3_API = re.compile(r"\bkeras\.(?:ops|src|config|saving)\b|^\s*from\s+keras\s+import\s+"
                         r"[^\n]*\bops\b|\bkeras_core\b|\bkeras_hub\b", re.MULTILINE)


def version_from_code(text: str, line_map: Any = None) -> tuple[int, str | None]:
    """(Keras version, note). Imports decide first: ``tf_keras`` or ``TF_USE_LEGACY_KERAS``
    give 2, Keras-3-only modules (``keras.ops``, ``keras.src``...) give 3; otherwise API that
    only Keras 1/2 accept (``nb_epoch=``, ``init=``, ``border_mode=``, ``Convolution2D(32, 3,
    3)``, ``keras.layers.merge``, ``keras.engine``...) selects Keras 2, with a note naming it;
    else Keras 3. An explicit ``--keras-version`` or ``keras-version`` setting wins over all."""
    if re.search(r"^\s*(import|from)\s+tf_keras\b", text, re.MULTILINE):
        return 2, None
    if re.search(r"TF_USE_LEGACY_KERAS['\"]\s*\]\s*=\s*['\"](1|true|True)", text):
        return 2, None
    if _KERAS3_API.search(text):
        return 3, None
    found: list[str] = []
    kinds: set[str] = set()
    for rx, what in _KERAS2_API:
        m = rx.search(text)
        if m is None or what in kinds:
            continue
        kinds.add(what)
        line = text.count("\n", 0, m.start()) + 1
        if line_map is not None:
            cell, cline = line_map(line)
            found.append(f"{what} (cell {cell} line {cline})")
        else:
            found.append(f"{what} (line {line})")
        if len(found) == 3:
            break
    if found:
        return 2, ("keras version: Keras 2 semantics (tf_keras), since the code uses API "
                   f"Keras 3 rejects: {', '.join(found)}; `--keras-version 3` overrides")
    return 3, None


def _parse_defines(defines: dict[str, str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in (defines or {}).items():
        try:
            val = ast.literal_eval(v) if isinstance(v, str) else v
        except (ValueError, SyntaxError) as exc:
            raise SourceError(f"line 0: --define {k}={v}: not a Python literal ({exc})") from None
        out[_norm_text(k)] = val
    # A define of a slice answers its items: ``x.shape[1:]=(500, 1)`` gives ``x.shape[1]`` and
    # ``x.shape[2]`` (what users write next to it), unless those are defined themselves.
    for k, val in list(out.items()):
        m = re.fullmatch(r"(.+)\[(\d+):\]", k)
        if m and isinstance(val, (tuple, list)):
            for i, item in enumerate(val):
                out.setdefault(f"{m.group(1)}[{int(m.group(2)) + i}]", item)
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


# Keras's top-level modules, for the expressions of --arg when the file does not bind them.
_ARG_MODULES = {"keras": KRef("keras"), "tf_keras": KRef("keras"), "tensorflow": KRef("tensorflow"),
                "tf": KRef("tensorflow")}


def _model_signature(g: graph.Model) -> Any:
    return (g.name, tuple((la.name, la.class_name, tuple(tuple(map(str, w.shape))
                                                          for w in la.weights))
                          for la in g.layers))


def read_text(
    text: str, source: str = "<string>", defines: dict[str, str] | None = None,
    keras_version: int | None = None, function: str | None = None,
    args: dict[str, str] | None = None, line_map: Any = None, path: Path | None = None,
    list_functions: bool = True, uncalled: bool = False,
) -> SourceResult:
    """Interpret source text (see :func:`read_source`).

    An ``if`` statement or conditional expression (``a if c else b``) whose condition is
    unknown is first evaluated one way (true, unless that branch only raises); then the program
    is re-read with each such decision flipped, up to ``MAX_ALTERNATIVES`` times, and every
    model that comes out different is reported as an alternative (its notes say which
    condition, which way). ``list_functions``: when the module builds no model, list the
    functions that look like they return one (``summarize`` prints them; ``check`` does not).
    ``uncalled``: also read the code the module never runs (functions never called, model
    subclasses never instantiated, models made by ``main()``) into ``result.uncalled``
    (``check``; see :mod:`bnlint.readers.source.uncalled`).
    """
    import libcst as cst

    try:
        module, _ = _parse_cached(text)
    except cst.ParserSyntaxError as exc:
        raise _syntax_error(exc, line_map) from None
    except (RecursionError, ValueError) as exc:
        raise SourceError(f"line 0: cannot parse ({exc.__class__.__name__})") from None
    version_note = None
    if keras_version:
        version = keras_version
    elif any(re.search(r"\btf_keras\b", str(v)) for v in (args or {}).values()):
        version = 2  # the arguments are tf_keras's modules or layers
    else:
        version, version_note = version_from_code(text, line_map)
    if path is None and source and not source.startswith("<") and Path(source).is_file():
        path = Path(source)
    parsed = _parse_defines(defines)
    modules: dict[Path, Any] = {}
    from bnlint.readers.source.snippets import snippet_names, snippet_note

    snippet = snippet_names(text)
    base, interp = _read_once(module, text, source, parsed, version, function, args, line_map,
                              path, {}, modules, list_functions,
                              tracking=uncalled and function is None, snippet=snippet)
    if snippet:
        base.notes.insert(0, snippet_note(snippet))
    if version_note:
        base.notes.insert(0, version_note)
    decisions = list(interp.decisions)
    if uncalled and function is None:
        _read_uncalled(interp, base, source, text)
    if not decisions:
        return base
    alts: list[tuple[str, bool, SourceResult]] = []
    for key, cond_text, default in decisions[:MAX_ALTERNATIVES]:
        try:
            r, _ = _read_once(module, text, source, parsed, version, function, args, line_map,
                              path, {key: not default}, {}, snippet=snippet)
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
               list_functions: bool = False, tracking: bool = False,
               snippet: dict[str, str] | None = None) -> tuple[SourceResult, Interpreter]:
    import libcst as cst

    cls = Interpreter
    if tracking:
        from bnlint.readers.source.uncalled import TrackingInterpreter as cls
    interp = cls(module, source, version, parsed, line_map, path, modules)
    interp.positions = interp.ctx.positions = interp.main_ctx.positions = _parsed_positions(module)
    interp.forced = forced
    for name, kpath in (snippet or {}).items():  # a snippet's unbound Keras names
        interp.globals.vars[name] = KRef(kpath)
    # model_construct: no validation schema for the nested graph types is built on this path.
    result = SourceResult.model_construct(keras_version=version)
    if function is not None:
        interp.globals.vars["__name__"] = module_name(Path(path) if path else None)
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
        # An argument may name a Keras module the file never imports itself
        # (``--arg layers=keras.layers``, as a caller passes ``keras.layers``).
        arg_scope = Scope(interp.globals)
        for top, ref in _ARG_MODULES.items():
            if interp.globals.lookup(top) is _MISSING:
                arg_scope.vars[top] = ref
        for k, expr in (args or {}).items():
            try:
                node = cst.parse_expression(expr)
            except cst.ParserSyntaxError:
                raise SourceError(f"line 0: --arg {k}={expr}: not a Python expression") from None
            # evaluate in a scratch module so positions resolve
            sub = Interpreter(cst.parse_module(f"({expr})\n"), source, version, {}, None)
            sub.keras.counters = interp.keras.counters
            sub.globals = interp.globals
            stmt = sub.module.body[0].body[0]
            try:
                call_args[k] = sub.ev(stmt.value, arg_scope)
            except _Budget:
                call_args[k] = Opaque(expr)
            del node
        before = len(interp.keras.models)
        where = getattr(fn, "node", None)
        try:
            ret = interp.call(fn, lead, call_args, where, interp.globals)
        except _Budget as exc:
            interp.note(None, f"{exc}; the result is partial")
            ret = None
        rets = ret if isinstance(ret, (list, tuple)) else [ret]
        for r in rets:
            m = interp.keras.as_model(r)
            if m is not None:
                chosen.append((r if isinstance(r, Instance) else m, function))
        if not chosen:
            interp.note(where, f"`{function}` does not return a model bnlint could build")
        del before
    else:
        seen: set[int] = set()
        names: dict[int, str] = {}
        for k, v in interp.globals.vars.items():
            m = interp.keras.as_model(v, materialize=False)
            if m is not None and id(m) not in names:
                names[id(m)] = k
        rebound = interp.keras.rebound
        later: list[tuple[Any, str | None]] = []
        for obj in interp.keras.models:
            m = interp.keras.as_model(obj, materialize=False)
            if m is None or id(m) in seen:
                continue
            if id(m) in names:
                seen.add(id(m))
                chosen.append((obj, names[id(m)]))
            elif id(m) in rebound:
                # a model the program built and bound to a name it later rebound: never dropped
                seen.add(id(m))
                later.append((obj, rebound[id(m)][0]))
        chosen.extend(later)
    for obj, _ in chosen:  # building one can build another (a Sequential nested in it)
        interp.keras.as_model(obj)
    for obj, var in chosen:
        m = interp.keras.as_model(obj)
        if isinstance(obj, Instance) and not m.is_built and not m.unknown:
            held = [la.name for la in m.seq_layers
                    if (la.is_built if la.is_model else la.built is not None)]
            if not held:
                interp.notes.append(f"`{var}` ({m.name}, {obj.cls.name}) is a subclassed model "
                                    "that is never built: its weights do not exist yet")
            elif m.version == 3:
                interp.notes.append(
                    f"`{var}` ({m.name}, {obj.cls.name}) is a subclassed model that is never "
                    "built: count_params() raises, but summary() and get_weights() list the "
                    f"variables of the built layers/models it holds ({', '.join(held)})")
            else:
                interp.notes.append(
                    f"`{var}` ({m.name}, {obj.cls.name}) is a subclassed model that is never "
                    "built: tf-keras's summary() and count_params() raise; get_weights() lists "
                    f"the variables of the built layers/models it holds ({', '.join(held)})")
        elif m.kind == "Sequential" and not m.is_built and m.seq_layers and not m.unknown:
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
        if function is None and id(m) in interp.keras.rebound:
            name, where, text = interp.keras.rebound[id(m)]
            g.notes.append(f"`{name}` held this model until {where} rebound the name (`{text}`)")
        if interp.uncertain:
            g.notes.extend(f"uncertain: {u}" for u in list(dict.fromkeys(interp.uncertain))[:5])
        result.models.append(g)
    if not chosen and function is None and list_functions:
        result.functions = _model_functions(interp)
    result.references = list(interp.facts.references)
    result.facts = interp.facts
    result.notes = interp.notes
    return result, interp


#: the note when the file's time budget runs out during the never-called readings (``check``
#: does not cache the outcome then: it depends on the machine)
UNCALLED_TIMEOUT = "never-called code: not read, the analysis time budget of the file ran out"


def _read_uncalled(interp: Interpreter, result: SourceResult, source: str, text: str) -> None:
    from bnlint.readers.source.uncalled import analyse_uncalled, to_readings

    bound = set()
    for v in interp.globals.vars.values():
        m = interp.keras.as_model(v, materialize=False)
        if m is not None:
            bound.add(id(m))
    n0 = len(result.notes)
    try:
        raw, notes = analyse_uncalled(interp, bound, text)  # type: ignore[arg-type]
        result.uncalled = to_readings(interp, raw, source)
    except (_Budget, RecursionError) as exc:
        notes = [f"never-called code: not read ({exc.__class__.__name__})"]
    except TimeBudgetExceeded as exc:
        # the module's own reading is complete: keep it, drop the extra readings
        del result.notes[n0:]
        result.uncalled = []
        notes = [f"{UNCALLED_TIMEOUT} ({exc.args[0] if exc.args else '?'} s)"]
    result.notes.extend(notes)


def read_source(
    path: str | Path, defines: dict[str, str] | None = None, keras_version: int | None = None,
    function: str | None = None, args: dict[str, str] | None = None,
) -> SourceResult:
    """Statically read a Python file that builds Keras models (never runs it)."""
    p = Path(path)
    if p.suffix == ".ipynb":
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


def read_notebook(
    path: str | Path, defines: dict[str, str] | None = None, keras_version: int | None = None,
    function: str | None = None, args: dict[str, str] | None = None,
) -> SourceResult:
    """Statically read a Jupyter notebook's code cells as one program (locations: cell, line)."""
    from bnlint.readers.notebook import notebook_program

    p = Path(path)
    text, line_map = notebook_program(p)
    return read_text(text, str(p), defines, keras_version, function, args, line_map=line_map)
