"""Code the file never runs at import time, read for ``bnlint check``.

A library module defines ``build_model(num_classes)`` and never calls it; a script builds its
model in ``main()`` under ``if __name__ == "__main__":``; a ``keras.Model`` subclass is
defined and never instantiated.  The module run alone reports none of those models, so after
it (on the same interpreter, so imports, globals and helper functions are as the module left
them):

* each top-level function of the file that the run never called, whose code names Keras and
  builds a model (``Sequential``, ``Model``, ``compile``, a model subclass), is called once
  with its parameters unknown: defaults where given, otherwise the parameter's name as an
  unknown value (a size then becomes the symbol ``num_classes``, a flag or an activation
  stays unknown, so rules that need the value stay silent);
* each top-level ``keras.Model`` subclass never instantiated is instantiated that way and
  called on a symbolic ``keras.Input`` (batch ``None``, other sizes symbols ``d1``, ``d2``...;
  its rank guessed from the layers its code names), when its ``call`` accepts that;
* models that a top-level call made while the module ran (``main()`` under ``if __name__ ==
  "__main__":``, ``build_model(10).summary()``) but that no global name holds are read too.

Each reading is an :class:`~bnlint.readers.source.facts.UncalledReading`: its models, the
program facts observed while it ran, and the origin the findings name.  The latest
definitions are read first, so a builder that calls a helper builder covers it (the helper
is then called, not re-read with unknown arguments).  All of it is bounded by one step
allowance per file (:data:`UNCALLED_STEPS`) and a number of readings (:data:`MAX_READINGS`);
reading order and allowance are deterministic.  A file with no such function, class or call
costs one pass over its top-level statements.
"""

from __future__ import annotations

import re
from typing import Any

from bnlint.readers.source.facts import ProgramFacts, UncalledReading
from bnlint.readers.source.interpreter import Interpreter
from bnlint.readers.source.values import (
    MAX_STEPS,
    Instance,
    KRef,
    UserClass,
    UserFunc,
    _Break,
    _Budget,
    _Continue,
    _Raise,
    _Return,
)

#: steps (statements and calls) all never-called readings of one file may take together
UNCALLED_STEPS = 60_000
#: steps one reading may take
READING_STEPS = 40_000
#: readings per file (functions, classes and import-time calls together)
MAX_READINGS = 12

_BUILDS = re.compile(r"\b(?:Sequential|Model|Functional)\s*\(|\.compile\s*\(")
_IDENT = re.compile(r"[A-Za-z_]\w*")
# a top-level line that is code: a def/class head (its name captured) or another statement
_TOP_LINE = re.compile(r"^(?:(?:async[ \t]+)?def[ \t]+(\w+)|class[ \t]+(\w+)|(?=[A-Za-z_]))",
                       re.MULTILINE)
_MAIN_TEST = re.compile(r"""^__name__\s*==\s*['"]__main__['"]$|^['"]__main__['"]\s*==\s*__name__$""")


class TrackingInterpreter(Interpreter):
    """The interpreter, recording which functions and classes the module run called and the
    models each top-level call made."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.called: set[int] = set()  # id() of the FunctionDef / ClassDef nodes called
        # (function, call node, models before, models after, facts before, facts after)
        self.top_calls: list[tuple[UserFunc, Any, int, int, tuple, tuple]] = []

    def call_user(self, fn: UserFunc, args: list[Any], kwargs: dict[str, Any], node: Any) -> Any:
        self.called.add(id(fn.node))
        if self.depth or fn.is_lambda or fn.owner is not None:
            return super().call_user(fn, args, kwargs, node)
        m0, f0 = len(self.keras.models), _facts_len(self.facts)
        try:
            return super().call_user(fn, args, kwargs, node)
        finally:
            self.top_calls.append((fn, node, m0, len(self.keras.models), f0,
                                   _facts_len(self.facts)))

    def call(self, func: Any, args: list[Any], kwargs: dict[str, Any], node: Any,
             scope: Any) -> Any:
        if isinstance(func, UserClass):
            self.called.add(id(func.node))
        return super().call(func, args, kwargs, node, scope)


def _facts_len(f: ProgramFacts) -> tuple[int, int, int]:
    return len(f.calls), len(f.trainable), len(f.references)


def _facts_slice(f: ProgramFacts, a: tuple, b: tuple) -> ProgramFacts:
    return ProgramFacts.model_construct(calls=f.calls[a[0]:b[0]],
                                        trainable=f.trainable[a[1]:b[1]],
                                        references=f.references[a[2]:b[2]])


def _truncate(f: ProgramFacts, a: tuple) -> None:
    del f.calls[a[0]:], f.trainable[a[1]:], f.references[a[2]:]


def _keras_names(interp: Interpreter) -> set[str]:
    out = set()
    for k, v in interp.globals.vars.items():
        if isinstance(v, KRef) or (isinstance(v, UserClass) and v.keras_base() is not None):
            out.add(k)
    return out


def _main_block(interp: Interpreter, st: Any) -> bool:
    cst = interp.cst
    return isinstance(st, cst.If) and _MAIN_TEST.match(
        " ".join(interp.text(st.test).split())) is not None


def _input_rank(text: str) -> int:
    """The rank of the symbolic input a subclassed model is called on, from the layers its code
    names (a wrong guess makes the first layer unknown, never a wrong shape)."""
    if re.search(r"\bEmbedding\b", text):
        return 2
    if re.search(r"\b\w+3D\b", text):
        return 5
    if re.search(r"\b\w+2D\b", text):
        return 4
    if re.search(r"\b(\w+1D|LSTM|GRU|SimpleRNN|RNN|Bidirectional|MultiHeadAttention)\b", text):
        return 3
    return 2


def _segments(text: str) -> dict[str, str]:
    """Top-level ``def``/``class`` name -> its source text (to the next top-level line)."""
    out: dict[str, str] = {}
    heads = list(_TOP_LINE.finditer(text))
    for i, m in enumerate(heads):
        name = m.group(1) or m.group(2)
        if name is None:
            continue
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        out[name] = text[m.start():end]
    return out


def analyse_uncalled(interp: TrackingInterpreter, globally_bound: set[int], text: str,
                     ) -> tuple[list[tuple[str, int, list[Any], ProgramFacts, list[str]]],
                                list[str]]:
    """The never-called readings of the module ``interp`` ran: (origin, line, model objects,
    facts, notes) each, and notes for the file. ``globally_bound``: id() of the KModels the
    module's globals hold (already reported); ``text``: the module's source."""
    cst = interp.cst
    module = interp.main_ctx.module
    readings: list[tuple[str, int, list[Any], ProgramFacts, list[str]]] = []
    file_notes: list[str] = []
    claimed = set(globally_bound)

    def fresh(objs: list[Any]) -> list[Any]:
        out = []
        for obj in objs:
            m = interp.keras.as_model(obj, materialize=False)
            if m is None or id(m) in claimed:
                continue
            claimed.add(id(m))
            out.append(obj)
        return out

    # 1. models made by top-level calls of the module run that no global holds
    main_lines: list[tuple[int, int]] | None = None
    for fn, node, m0, m1, f0, f1 in interp.top_calls:
        if m1 <= m0 or fn.ctx is not interp.main_ctx:
            continue
        objs = fresh(interp.keras.models[m0:m1])
        if not objs:
            continue
        line, _, _ = interp.pos(node)
        if main_lines is None:  # the `if __name__ == "__main__":` blocks, on first need
            main_lines = []
            for st in module.body:
                if _main_block(interp, st):
                    try:
                        pos = interp.positions[st]
                        main_lines.append((pos.start.line, pos.end.line))
                    except KeyError:
                        pass
        try:
            raw_line = interp.positions[node].start.line
        except KeyError:
            raw_line = 0
        in_main = any(a <= raw_line <= b for a, b in main_lines)
        where = ('under `if __name__ == "__main__":`' if in_main else f"at line {line}")
        readings.append((f"in `{fn.name}()`, called {where}", line, objs,
                         _facts_slice(interp.facts, f0, f1), []))

    # 2. functions never called and model subclasses never instantiated, latest first
    candidates: list[tuple[Any, Any]] = []
    for st in module.body:
        if isinstance(st, cst.FunctionDef):
            v = interp.globals.vars.get(st.name.value)
            if isinstance(v, UserFunc) and v.node is st and v.kind == "function" and \
                    id(st) not in interp.called:
                candidates.append((st, v))
        elif isinstance(st, cst.ClassDef):
            v = interp.globals.vars.get(st.name.value)
            if isinstance(v, UserClass) and v.node is st and id(st) not in interp.called and \
                    v.keras_base() == "model":
                candidates.append((st, v))
    if not candidates:
        return readings, file_notes
    # Which of them build a model is decided on their source text (cut from the file's text at
    # top-level `def`/`class` lines: no code generation, so a file of plain functions pays
    # one regex pass).
    segments = _segments(text)
    knames = _keras_names(interp)
    builders: set[str] = set()  # functions and classes that build a model themselves
    idents: dict[str, set[str]] = {}
    for st, v in candidates:
        name = st.name.value
        if isinstance(v, UserClass):
            builders.add(name)
            continue
        body = segments.get(name, "")
        idents[name] = ids = set(_IDENT.findall(body))
        if _BUILDS.search(body) and knames.intersection(ids):
            builders.add(name)
    todo = []
    for st, v in reversed(candidates):
        name = st.name.value
        # a function that calls a builder of this file builds a model too
        if name in builders or builders.intersection(idents.get(name, ())):
            todo.append((st, v))
    if not todo:
        return readings, file_notes
    left = UNCALLED_STEPS
    skipped: list[str] = []
    saved_steps = interp.steps
    nodes = {st.name.value: st for st, _ in candidates}
    for st, v in todo:
        name = st.name.value
        if id(st) in interp.called:  # a reading before this one called it
            continue
        uses = builders.intersection(idents.get(name, ())) - {name}
        if name not in builders and uses and all(id(nodes[u]) in interp.called for u in uses):
            # a thin wrapper (ResNet50 -> ResNet) of builders already read: the same lines
            # with other arguments, nothing new to check
            continue
        if len(readings) >= MAX_READINGS or left <= 0:
            skipped.append(name)
            continue
        allowance = min(left, READING_STEPS)
        interp.steps = MAX_STEPS - allowance
        start = interp.steps
        m0, f0, n0 = len(interp.keras.models), _facts_len(interp.facts), len(interp.notes)
        ret: Any = None
        partial = None
        called_on_input = False
        interp.depth = 0
        try:
            if isinstance(v, UserFunc):
                ret = interp.call_user(v, [], {}, v.node)
            else:
                ret, called_on_input = _instantiate_and_call(interp, v)
        except _Budget as exc:
            partial = ("its reading needs more than the "
                       f"{allowance} steps left for it" if "step" in str(exc)
                       else "its calls nest deeper than bnlint follows")
        except (_Return, _Break, _Continue, _Raise):
            pass
        except RecursionError:
            partial = "its calls nest deeper than bnlint follows"
        interp.depth = 0
        left -= max(interp.steps - start, 0)
        notes = interp.notes[n0:]
        del interp.notes[n0:]
        facts = _facts_slice(interp.facts, f0, _facts_len(interp.facts))
        _truncate(interp.facts, f0)
        rets = ret if isinstance(ret, (list, tuple)) else [ret]
        objs = fresh([r for r in rets if interp.keras.as_model(r, materialize=False)
                      is not None] + list(interp.keras.models[m0:]))
        if partial:
            # a model cut off mid-way (a Sequential whose last layers were never added) would
            # give findings the code does not have: the reading is dropped
            file_notes.append(f"never-called code: `{name}(...)` not checked ({partial})")
            continue
        if not objs:
            continue
        line, _, _ = interp.pos(st)
        if isinstance(v, UserFunc):
            origin = f"in `{name}(...)`, never called in this file, read with unknown arguments"
        else:
            origin = (f"in `{name}(...)`, never instantiated in this file, read with unknown "
                      "arguments" + (" on a symbolic input" if called_on_input else ""))
        readings.append((origin, line, objs, facts, notes))
    interp.steps = saved_steps
    if skipped:
        file_notes.append(
            f"never-called code: `check` reads at most {MAX_READINGS} never-called functions or "
            f"classes per file, in {UNCALLED_STEPS} steps together; "
            f"{', '.join(f'`{s}`' for s in reversed(skipped))} skipped")
    return readings, file_notes


def _instantiate_and_call(interp: TrackingInterpreter, cls: UserClass) -> tuple[Any, bool]:
    """``cls()`` with its ``__init__`` parameters unknown, called on a symbolic input when its
    ``call`` takes one; (instance, whether it was called)."""
    from bnlint.keras import builder as kb
    from bnlint.symbolic import Sym

    inst = interp.keras.instantiate(cls, [], {}, cls.node)
    call = cls.lookup("call")
    if not isinstance(inst, Instance) or not isinstance(call, UserFunc):
        return inst, False
    p = call.node.params
    required = [prm for prm in [*p.posonly_params, *p.params][1:] if prm.default is None]
    if len(required) != 1:
        return inst, False  # several inputs: not called
    rank = _input_rank(interp.text(cls.node))  # one class: generating its text is cheap
    shape = (None, *(Sym.atom(f"d{i}") for i in range(1, rank)))
    tensor = kb.make_input(interp.keras.counters.input_name(), shape, interp.version,
                           location=interp.loc(call.node))
    interp.call(inst, [tensor], {}, call.node, interp.globals)
    return inst, True


def to_readings(interp: Interpreter, raw: list[tuple[str, int, list[Any], ProgramFacts,
                                                      list[str]]],
                source: str) -> list[UncalledReading]:
    """The typed graphs of the readings (a model that cannot be summarized is left out)."""
    from bnlint.keras import builder as kb

    out = []
    for origin, line, objs, facts, notes in raw:
        models = []
        kept = []
        for obj in objs:
            m = interp.keras.as_model(obj)
            try:
                g = kb.to_graph(m, source)
            except Exception:
                continue
            kept.append(obj)
            if isinstance(obj, Instance):
                g.class_name = obj.cls.name
            _mark_unknown(m, g)
            models.append(g)
        # a model used inside another one of the reading is checked there, as a nested model
        # (rules treat a top-level model's outputs differently from a backbone's)
        inner = {id(x) for x in objs for y in objs if x is not y and _nests(
            interp.keras.as_model(y, materialize=False), interp.keras.as_model(x, materialize=False))}
        models = [g for g, obj in zip(models, kept, strict=True) if id(obj) not in inner]
        if models:
            out.append(UncalledReading.model_construct(origin=origin, line=line, models=models,
                                                       facts=facts, notes=notes))
    return out


def _nests(outer: Any, inner: Any, depth: int = 0) -> bool:
    """Is the model ``inner`` a layer of ``outer`` (at any depth)?"""
    from bnlint.keras.builder import KModel

    if outer is None or inner is None or depth > 20:
        return False
    for la in outer.layers:
        if la is inner or (isinstance(la, KModel) and _nests(la, inner, depth + 1)):
            return True
    return False


#: how a layer argument bnlint cannot know appears in a reading's graph config
UNKNOWN_PREFIX = "<not known statically: "


def _mark_unknown(km: Any, g: Any, depth: int = 0) -> None:
    """Put the layer arguments the graph left out (values not known statically, such as a
    parameter ``final`` passed as ``activation=final``) back as an explicit unknown, so that a
    rule reads ``activation`` as unknown instead of Keras's default ``linear``."""
    from bnlint.keras.builder import KModel

    if depth > 20:
        return
    for kla, gla in zip(km.layers, g.layers, strict=False):
        for k, v in kla.config.items():
            if k not in gla.config:
                gla.config[k] = f"{UNKNOWN_PREFIX}{v}>"
        if isinstance(kla, KModel) and gla.model is not None:
            _mark_unknown(kla, gla.model, depth + 1)
