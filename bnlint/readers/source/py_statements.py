"""Python statements: assignment, if/for/while/try/with, def and class."""

from __future__ import annotations

from typing import Any

from bnlint.readers.source.values import (
    _MISSING,
    MAX_LOOP,
    Instance,
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

# Methods that change the object they are called on (a list, dict, set, Sequential model).
_MUTATORS = frozenset(("append", "extend", "insert", "add", "pop", "remove", "update",
                       "setdefault", "clear", "popitem", "discard", "sort", "reverse"))


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
            lost = self.forget_assigned(st, scope)
            self.note(st, f"loop over `{self.text(st.iter)}`: the iterable is not known "
                          "statically; the body was not evaluated" + lost)
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
                lost = self.forget_assigned(st, scope)
                self.note(st, f"while condition `{self.text(st.test)}` is not known statically;"
                              " the loop was not evaluated further" + lost)
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
                if endless and self.keras.state() == before:
                    # ``while True:`` with no break/return/raise in its body (a device or
                    # serving loop) that builds nothing: it never ends, and more iterations
                    # would only spend the budget (a loop that adds layers keeps running)
                    self.note(st, f"`while {self.text(st.test)}:` loop has no break, return or "
                                  "raise: it never ends; its body was evaluated once")
                    return
            elif n == 1:
                before = self.keras.state()
            try:
                self.exec_block(self.body_of(st), scope)
            except _Break:
                return
            except _Continue:
                continue
        if st.orelse is not None:
            self.exec_block(self.body_of(st.orelse), scope)

    def forget_assigned(self, loop: Any, scope: Scope) -> str:
        """A loop whose body is not (or no longer) evaluated may change the names it binds
        (``x = Dense(4)(x)``) and the containers it fills (``blocks.append(...)``,
        ``model.add(...)``): they become unknown after it, so that nothing computed from
        them is presented as exact. Returns the words for the loop's note."""
        from bnlint.readers.source.parse import _own_nodes

        cst = self.cst
        names: dict[str, None] = {}

        def targets(t: Any) -> None:
            if isinstance(t, cst.Name):
                names[t.value] = None
            elif isinstance(t, (cst.Tuple, cst.List)):
                for e in t.elements:
                    targets(e.value)
            elif isinstance(t, cst.StarredElement):
                targets(t.value)
            elif isinstance(t, cst.Subscript) and isinstance(t.value, cst.Name):
                names[t.value.value] = None  # d[k] = v changes d

        loop_vars: set[str] = set()
        if isinstance(loop, cst.For):
            loop_vars = {n.value for n, _ in _own_nodes(cst, cst.Expr(loop.target))
                         if isinstance(n, cst.Name)}
        changes_items = False  # `layer.trainable = False` on the items iterated
        for n, _ in _own_nodes(cst, loop):
            if isinstance(n, cst.Assign):
                for t in n.targets:
                    targets(t.target)
                    root = t.target
                    while isinstance(root, (cst.Attribute, cst.Subscript)):
                        root = root.value
                    if root is not t.target and isinstance(root, cst.Name):
                        if root.value in loop_vars:
                            changes_items = True
                        else:
                            names[root.value] = None  # obj.attr = v changes obj
            elif isinstance(n, (cst.AugAssign, cst.AnnAssign, cst.NamedExpr)):
                if not isinstance(n, cst.AnnAssign) or n.value is not None:
                    targets(n.target)
            elif isinstance(n, (cst.For, cst.CompFor)) and n is not loop:
                targets(n.target)
            elif isinstance(n, cst.AsName):
                targets(n.name)
            elif isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and (
                    n.func.attr.value in _MUTATORS):
                root = n.func.value
                while isinstance(root, (cst.Attribute, cst.Subscript)):
                    root = root.value
                if isinstance(root, cst.Name):
                    names[root.value] = None  # x.append(...), self.blocks.append(...)
        if isinstance(loop, cst.For):
            targets(loop.target)
            if changes_items:  # the objects iterated are changed: where they come from is
                for n, _ in _own_nodes(cst, cst.Expr(loop.iter)):
                    if isinstance(n, cst.Name):
                        names[n.value] = None
        changed = []
        line, _, _ = self.pos(loop)
        for name in names:
            v = scope.lookup(name)
            if v is _MISSING or isinstance(v, Opaque):
                if v is _MISSING:
                    scope.set(name, Opaque(name))
                continue
            changed.append(name)
            if isinstance(v, Instance):
                # `self.blocks.append(...)` in a subclass: the object stays (its other
                # attributes are read on), the model it makes is unknown
                v.attrs.setdefault("__unknown__", f"line {line}: changed by a loop whose body "
                                                  "bnlint could not run")
                continue
            scope.set(name, Opaque(name))
        if not changed:
            return ""
        shown = ", ".join(f"`{c}`" for c in changed[:6]) + (", ..." if len(changed) > 6 else "")
        return f"; what it may change is unknown after it: {shown}"

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
                self.keras.bind_global(target.value, value)
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

    def setattr_(self, obj: Any, name: str, value: Any, target: Any, st: Any) -> None:
        if name == "trainable" and self.keras.set_trainable(obj, value, target, st):
            return
        if isinstance(obj, Instance):
            self.keras.before_setattr(obj, name, value, st)
            obj.attrs[name] = value
            self.keras.after_setattr(obj, value)
