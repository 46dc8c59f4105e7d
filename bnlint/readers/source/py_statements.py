"""Python statements: assignment, if/for/while/try/with, def and class."""

from __future__ import annotations

from typing import Any

from bnlint.readers.source.parse import loop_names
from bnlint.readers.source.values import (
    _MISSING,
    MAX_LOOP,
    QUIET_LOOP_STEPS,
    Instance,
    LazyVars,
    NTClass,
    Opaque,
    PyMod,
    Scope,
    UserClass,
    UserFunc,
    _Break,
    _Continue,
    _Raise,
    _Return,
)
from bnlint.symbolic import Sym

#: Methods by which a loop body changes a container or a Sequential model.
_CHANGING = frozenset({"add", "append", "extend", "insert", "pop", "remove", "update", "clear",
                       "setdefault", "discard", "popitem", "[]"})


class Statements:
    # -------------------------------------------------------------- statements
    def run_module(self) -> None:
        # The analysed file runs as the main program (a script, a notebook; a FILE::NAME
        # target is called after it, as the oracle does): `if __name__ == "__main__":` is true.
        self.globals.vars.setdefault("__name__", "__main__")
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
        if isinstance(scope.vars, LazyVars) and self._doc_of_pending(st, scope.vars):
            return
        value = self.ev(st.value, scope)
        for t in st.targets:
            self.assign(t.target, value, scope, st)

    def _doc_of_pending(self, st: Any, names: LazyVars) -> bool:
        """``Name.__doc__ = ...`` in a package ``__init__`` for a name whose import has not
        run yet: documentation only, it does not run the import (an aggregating ``__init__``
        documents every function it re-exports)."""
        cst = self.cst
        return all(isinstance(t.target, cst.Attribute) and t.target.attr.value == "__doc__"
                   and isinstance(t.target.value, cst.Name)
                   and t.target.value.value in names.pending for t in st.targets)

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
        if len(bases) == 1 and isinstance(bases[0], PyMod) and bases[0].name == "typing.NamedTuple":
            scope.set(st.name.value, self._class_namedtuple(st, scope))
            return
        cls = UserClass(st, st.name.value, bases, {}, scope)
        ns = Scope(scope)
        self.exec_block(self.body_of(st), ns)
        for k, v in ns.vars.items():
            if isinstance(v, UserFunc):
                v.owner = cls
                v.closure = scope
            cls.ns[k] = v
        scope.set(st.name.value, cls)

    def _class_namedtuple(self, st: Any, scope: Scope) -> Any:
        """``class Cfg(typing.NamedTuple): units: int = 4`` (fields only; a class that
        defines methods is unknown)."""
        cst = self.cst
        fields: list[str] = []
        defaults: dict[str, Any] = {}
        for line in self.body_of(st):
            if isinstance(line, cst.SimpleStatementLine):
                for small in line.body:
                    if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                        fields.append(small.target.value)
                        if small.value is not None:
                            defaults[small.target.value] = self.ev(small.value, scope)
                    elif not isinstance(small, (cst.Pass, cst.Expr)):
                        return Opaque(st.name.value)
            else:
                self.note(st, f"class `{st.name.value}(NamedTuple)` with methods is not modelled")
                return Opaque(st.name.value)
        return NTClass(st.name.value, tuple(fields), defaults)

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
            self.widen_loop(st, scope, f"loop over `{self.text(st.iter)}`: the iterable is not "
                                       "known statically; the body was not evaluated")
            return
        n = 0
        broke = False
        quiet = self.quiet_loop(st, scope)
        for item in items:
            n += 1
            if n > MAX_LOOP:
                self.widen_loop(st, scope, f"loop bound of {MAX_LOOP} iterations hit")
                return
            if quiet(n):
                return
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
        quiet = self.quiet_loop(st, scope)
        while True:
            cond = self.truth(self.ev(st.test, scope))
            if cond is None:
                self.widen_loop(st, scope, f"while condition `{self.text(st.test)}` is not known "
                                           "statically; the loop was not evaluated further")
                return
            if not cond:
                break
            n += 1
            if n > MAX_LOOP:
                self.widen_loop(st, scope, f"loop bound of {MAX_LOOP} iterations hit")
                return
            if n == 2:
                if endless is None:
                    endless = self._never_exits(st)
                if endless and self.keras.state() == before:
                    # ``while True:`` with no break/return/raise in its body (a device or
                    # serving loop) that builds nothing: it never ends, and more iterations
                    # would only spend the budget (a loop that adds layers keeps running)
                    self.note(st, f"`while {self.text(st.test)}:` loop has no break, return or "
                                  "raise: it never ends; its body was evaluated once")
                    return
            elif n == 1:
                before = self.keras.state()
            if quiet(n):
                return
            try:
                self.exec_block(self.body_of(st), scope)
            except _Break:
                return
            except _Continue:
                continue
        if st.orelse is not None:
            self.exec_block(self.body_of(st.orelse), scope)

    def quiet_loop(self, st: Any, scope: Scope) -> Any:
        """A check, before each iteration of the loop ``st``, that stops a loop which has spent
        ``QUIET_LOOP_STEPS`` steps without creating any Keras object (data preparation) and
        widens what it assigns to unknown: the model after it is still reached."""
        start, before = self.steps, self.keras.state()

        def stop(n: int) -> bool:
            if self.steps - start <= QUIET_LOOP_STEPS or self.keras.state() != before:
                return False
            self.widen_loop(st, scope, f"loop creates no Keras object in {n - 1} "
                            f"iterations ({QUIET_LOOP_STEPS} steps); the rest was not evaluated")
            return True

        return stop

    def widen_loop(self, st: Any, scope: Scope, why: str) -> None:
        """After a loop bnlint did not evaluate to its end: every name it binds, and every
        container or model it changes, may hold anything — unknown, never a stale value
        printed as exact. The note names the loop and what became unknown."""
        bound, mutated = loop_names(self.cst, st)
        changed = []
        for name in sorted(bound | mutated.keys()):
            old = scope.lookup(name)
            if name in mutated:
                # Only what changes structure or state: a training loop (``model.fit``) leaves
                # the model as it is; ``model.add``, ``rows.append``, ``layer.trainable = False``
                # and ``self.blocks.append`` do not.
                if old is _MISSING or not mutated[name] & _CHANGING:
                    continue
            new = self.keras.widen(old, name, f"line {self.pos(st)[0]}: {why}")
            if new is None:
                if name in mutated and not isinstance(old, (list, dict, set)):
                    continue  # a module or other object a method is called on: unchanged
                new = Opaque(name)
            if new is not old:
                scope.set(name, new)
            changed.append(name)
        what = f"; unknown after it: {', '.join(f'`{n}`' for n in changed)}" if changed else ""
        self.note(st, why + what)

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
                self.keras.bind_global(target.value, value, st)
        elif isinstance(target, (cst.Tuple, cst.List)):
            elems = target.elements
            items = self.iterate(value)
            star = [i for i, e in enumerate(elems) if isinstance(e, cst.StarredElement)]
            if items is None and not star:
                items = self.keras.unpack(value, len(elems), st)
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
            if isinstance(obj, PyMod) and obj.name == "os.environ":
                if isinstance(key, str):
                    self.environ[key] = self.env_value(value, target)
                else:  # an unknown variable set: any later read may see it
                    self.note(st, f"`{self.text(target)}`: the environment variable set is "
                                  "not known statically")
                    self.environ_unknown = True
                return
            if isinstance(obj, (list, dict)) and not isinstance(key, (Opaque, Sym, slice)):
                try:
                    obj[key] = value
                except (IndexError, TypeError, KeyError):
                    pass
                else:
                    if isinstance(obj, dict):
                        self.keras.container_added(obj, [value])

    def setattr_(self, obj: Any, name: str, value: Any, target: Any, st: Any) -> None:
        if name == "trainable" and self.keras.set_trainable(obj, value, target, st):
            return
        if isinstance(obj, Instance):
            value = self.keras.before_setattr(obj, name, value, st)
            obj.attrs[name] = value
            self.keras.after_setattr(obj, value)
