"""One fixer per rule: a finding (its location, its ``fix_args``) -> text edits, or None.

Fixers work on their own libcst parse of the text (:class:`Source`) and find the code a
finding points at by its start and end (the call of a layer, the ``compile`` call, the
division), never through the reader's internals.  Every edit replaces one node's text by
the code libcst renders for a changed copy of that node, so everything else in the file is
kept byte for byte.  A fixer that meets anything it does not fully understand (``**kwargs``,
a value that is not a literal, a layer built in one place and used in another) returns None:
the finding stays and is reported as not fixed.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, ParentNodeProvider, PositionProvider

from bnlint.rules.base import Finding


@dataclass(frozen=True)
class Edit:
    """Replace the text from ``start`` to ``end`` (``(line, column)``, 1-based lines,
    0-based character columns, end exclusive) by ``text``."""

    start: tuple[int, int]
    end: tuple[int, int]
    text: str


@dataclass
class Fix:
    edits: list[Edit]
    safety: str  # "safe" | "unsafe"
    #: BN layers this fix deletes / fixes that stop making sense once they are deleted
    removes: set[str] = field(default_factory=set)
    needs: set[str] = field(default_factory=set)


class Source:
    """A libcst parse of one text (a file or a notebook cell) with positions and parents."""

    def __init__(self, text: str, parse_text: str | None = None):
        self.text = text
        self.lines = text.split("\n")
        self.wrapper = MetadataWrapper(cst.parse_module(parse_text or text), unsafe_skip_copy=True)
        self.module = self.wrapper.module
        self.pos: Any = self.wrapper.resolve(PositionProvider)
        self.parents: Any = self.wrapper.resolve(ParentNodeProvider)
        self._starts: dict[tuple[int, int], list[cst.CSTNode]] = {}
        for node, rng in self.pos.items():
            self._starts.setdefault((rng.start.line, rng.start.column), []).append(node)

    # ------------------------------------------------------------------ positions
    def char_columns(self, line: int, column: int | None) -> list[int]:
        """A finding's 1-based column -> 0-based character columns it may mean: findings
        located through :mod:`ast` count UTF-8 bytes, the others characters (the same on an
        ASCII line)."""
        if column is None or not 1 <= line <= len(self.lines):
            return []
        raw = self.lines[line - 1].encode("utf-8")[: column - 1]
        as_bytes = len(raw.decode("utf-8", errors="ignore"))
        return [column - 1] if as_bytes == column - 1 else [column - 1, as_bytes]

    def nodes_at(self, line: int, column: int | None, kind: type | tuple[type, ...],
                 ) -> list[Any]:
        return [n for col in self.char_columns(line, column)
                for n in self._starts.get((line, col), []) if isinstance(n, kind)]

    def call_at(self, f: Finding, line: int | None = None, column: int | None = None,
                ) -> cst.Call | None:
        """The call a finding points at: it starts there (and ends at the finding's end)."""
        line = f.line if line is None else line
        column = f.column if column is None else column
        if line is None:
            return None
        calls = self.nodes_at(line, column, cst.Call)
        if f.end_line is not None and f.end_column is not None and line == f.line:
            ends = {(f.end_line, c) for c in self.char_columns(f.end_line, f.end_column)}
            exact = [c for c in calls if (self.pos[c].end.line, self.pos[c].end.column) in ends]
            calls = exact or calls
        if not calls:
            return None
        call = min(calls, key=lambda c: self._size(self.pos[c]))
        # `Dense(64)(x)` starts where its constructor does: the layer is the constructor
        while isinstance(call.func, cst.Call):
            call = call.func
        return call

    @staticmethod
    def _size(rng: CodeRange) -> tuple[int, int]:
        return (rng.end.line - rng.start.line, rng.end.column - rng.start.column)

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.parents.get(node)

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def replace(self, node: cst.CSTNode, new: cst.CSTNode | str) -> Edit:
        rng = self.pos[node]
        text = new if isinstance(new, str) else self.code(new)
        return Edit((rng.start.line, rng.start.column), (rng.end.line, rng.end.column), text)

    def delete_lines(self, first: int, last: int) -> Edit:
        return Edit((first, 0), (last + 1, 0), "")

    # ------------------------------------------------------------------ imports
    def module_alias(self, module: str) -> str | None:
        """The name this text binds to ``module`` at the top level (``import numpy as np``)."""
        for stmt in self.module.body:
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                if isinstance(small, cst.Import):
                    for alias in small.names:
                        name = _dotted(alias.name)
                        if name == module:
                            if alias.asname is not None and isinstance(alias.asname.name,
                                                                       cst.Name):
                                return alias.asname.name.value
                            return module.split(".")[0] if "." not in module else None
        return None

    def names_used(self) -> set[str]:
        return {n.value for n in self.pos if isinstance(n, cst.Name)}

    def import_insertion(self, line_text: str) -> Edit:
        """Insert an import line after the text's leading imports (after a docstring and
        comments at the top when there are none)."""
        after = 0  # last line of the leading docstring/imports
        for stmt in self.module.body:
            if not isinstance(stmt, cst.SimpleStatementLine):
                break
            small = stmt.body[0]
            is_doc = isinstance(small, cst.Expr) and isinstance(small.value, cst.SimpleString) \
                and after == 0
            if not (is_doc or isinstance(small, (cst.Import, cst.ImportFrom))):
                break
            after = self.pos[stmt].end.line
        return Edit((after + 1, 0), (after + 1, 0), line_text + self.module.default_newline)


def _dotted(node: cst.CSTNode) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


def _kwarg(call: cst.Call, name: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def _has_star(call: cst.Call) -> bool:
    return any(arg.star for arg in call.args)


def _equal_style(call: cst.Call) -> cst.AssignEqual:
    """The ``=`` of the call's keyword arguments as written (``a=1`` or ``a = 1``)."""
    for arg in call.args:
        if arg.keyword is not None and isinstance(arg.equal, cst.AssignEqual):
            return arg.equal
    return cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                           whitespace_after=cst.SimpleWhitespace(""))


def with_kwarg(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call:
    """``call`` with a keyword argument appended, in the call's own layout."""
    new = cst.Arg(value=value, keyword=cst.Name(name), equal=_equal_style(call))
    args = list(call.args)
    if not args:
        return call.with_changes(args=[new])
    last = args[-1]
    if isinstance(last.comma, cst.Comma):  # a trailing comma: the new argument goes after it
        if len(args) >= 2 and isinstance(args[-2].comma, cst.Comma):
            sep = args[-2].comma.whitespace_after
        else:
            sep = call.whitespace_before_args
        if isinstance(sep, cst.SimpleWhitespace) and not sep.value:
            sep = cst.SimpleWhitespace(" ")
        elif isinstance(sep, cst.ParenthesizedWhitespace):  # the line break and indent only
            sep = sep.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
        orig = last.comma.whitespace_after
        after_new = orig
        if isinstance(orig, cst.ParenthesizedWhitespace) and \
                isinstance(sep, cst.ParenthesizedWhitespace):
            # a comment after the last comma stays on its line; `)` keeps its indent
            sep = orig.with_changes(indent=sep.indent, last_line=sep.last_line)
            after_new = orig.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
        args[-1] = last.with_changes(comma=last.comma.with_changes(whitespace_after=sep))
        args.append(new.with_changes(comma=last.comma.with_changes(whitespace_after=after_new)))
    else:  # a comma like the call's others; the space before `)` stays before `)`
        comma = args[-2].comma if len(args) >= 2 and isinstance(args[-2].comma, cst.Comma) \
            else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        if isinstance(comma.whitespace_after, cst.ParenthesizedWhitespace):
            comma = comma.with_changes(whitespace_after=comma.whitespace_after.with_changes(
                first_line=cst.TrailingWhitespace(), empty_lines=[]))
        args[-1] = last.with_changes(comma=comma, whitespace_after_arg=cst.SimpleWhitespace(""))
        args.append(new.with_changes(whitespace_after_arg=last.whitespace_after_arg))
    return call.with_changes(args=args)


def without_arg(call: cst.Call, arg: cst.Arg) -> cst.Call:
    """``call`` without one argument, keeping the others' commas as written."""
    args = list(call.args)
    i = next(k for k, a in enumerate(args) if a is arg)
    del args[i]
    if args and i == len(args):  # removed the last one: its comma (or none) moves back
        args[-1] = args[-1].with_changes(comma=arg.comma)
    return call.with_changes(args=args)


def _literal(node: cst.BaseExpression) -> Any:
    try:
        return ast.literal_eval(cst.Module([]).code_for_node(node))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _NOT_LITERAL


_NOT_LITERAL = object()


def _is_name(node: cst.CSTNode | None, value: str) -> bool:
    return isinstance(node, cst.Name) and node.value == value


# ---------------------------------------------------------------------------- the fixers


def fix_use_bias(src: Source, f: Finding) -> Fix | None:
    """BN004: ``use_bias=False`` on the layer (replacing an explicit ``use_bias=True``)."""
    call = src.call_at(f)
    if call is None or _has_star(call):
        return None
    arg = _kwarg(call, "use_bias")
    if arg is not None:
        if not _is_name(arg.value, "True"):
            return None
        new = call.with_changes(args=[a.with_changes(value=cst.Name("False")) if a is arg else a
                                      for a in call.args])
    else:
        new = with_kwarg(call, "use_bias", cst.Name("False"))
    return Fix([src.replace(call, new)], "safe", needs={str(f.fix_args.get("bn", ""))})


def fix_momentum(src: Source, f: Finding) -> Fix | None:
    """BN006: ``momentum=m`` -> ``momentum=1 - m`` (a literal number only)."""
    call = src.call_at(f)
    if call is None or "suggest" not in f.fix_args:
        return None
    arg = _kwarg(call, "momentum")
    if arg is None or not isinstance(arg.value, (cst.Float, cst.Integer)):
        return None
    m = _literal(arg.value)
    if not isinstance(m, (int, float)) or abs(float(m) - float(f.fix_args["momentum"])) > 1e-12:
        return None
    value = repr(float(f.fix_args["suggest"]))
    return Fix([src.replace(arg.value, value)], "unsafe")


def fix_softmax_single_unit(src: Source, f: Finding) -> Fix | None:
    """KR001: the one-unit softmax becomes a sigmoid (``activation=``, ``Activation(...)``,
    ``keras.activations.softmax``, ``Softmax()``)."""
    call = src.call_at(f)
    if call is None or _has_star(call):
        return None
    target: cst.BaseExpression | None = None
    arg = _kwarg(call, "activation")
    if arg is not None:
        target = arg.value
    elif _dotted(call.func) and (_dotted(call.func) or "").split(".")[-1] == "Activation" \
            and call.args and call.args[0].keyword is None:
        target = call.args[0].value
    elif (_dotted(call.func) or "").split(".")[-1] == "Softmax" and not call.args:
        func = call.func
        name = cst.Name("Activation")
        new_func = func.with_changes(attr=name) if isinstance(func, cst.Attribute) else None
        if new_func is None:
            return None  # a bare `Softmax()`: Activation may not be imported
        new = call.with_changes(func=new_func, args=[cst.Arg(cst.SimpleString('"sigmoid"'))])
        return Fix([src.replace(call, new)], "unsafe")
    if isinstance(target, cst.SimpleString) and target.evaluated_value == "softmax":
        quote = target.quote
        return Fix([src.replace(target, f"{target.prefix}{quote}sigmoid{quote}")], "unsafe")
    if isinstance(target, cst.Attribute) and target.attr.value == "softmax":
        return Fix([src.replace(target.attr, "sigmoid")], "unsafe")
    return None


_LOSS_CLASSES = {
    "categorical_crossentropy": "CategoricalCrossentropy",
    "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
    "binary_crossentropy": "BinaryCrossentropy",
    "categorical_focal_crossentropy": "CategoricalFocalCrossentropy",
    "binary_focal_crossentropy": "BinaryFocalCrossentropy",
}


def _compile_loss(src: Source, f: Finding) -> cst.BaseExpression | None:
    """The ``loss=`` expression of the ``compile`` call; for a name, the loss object it is
    bound to when that is its only binding in the file and ``compile`` its only use."""
    from libcst.metadata import ScopeProvider

    call = src.call_at(f)
    if call is None or not isinstance(call.func, cst.Attribute) or \
            call.func.attr.value != "compile":
        return None
    arg = _kwarg(call, "loss")
    if arg is None or not isinstance(arg.value, cst.Name):
        return arg.value if arg is not None else None
    scopes: Any = src.wrapper.resolve(ScopeProvider)
    scope = scopes.get(arg.value)
    name = arg.value.value
    if scope is None or len(scope.assignments[name]) != 1:
        return None
    (binding,) = scope.assignments[name]
    node = getattr(binding, "node", None)
    assign = src.parent(node) if node is not None else None
    assign = src.parent(assign) if isinstance(assign, cst.AssignTarget) else None
    if not isinstance(assign, cst.Assign) or len(assign.targets) != 1 or \
            assign.targets[0].target is not node or not isinstance(assign.value, cst.Call):
        return None
    if {id(a.node) for a in binding.references} != {id(arg.value)}:
        return None  # the loss object is used elsewhere too
    return assign.value


def fix_drop_from_logits(src: Source, f: Finding) -> Fix | None:
    """KR002: the output already applies softmax/sigmoid, so ``from_logits=True`` goes."""
    loss = _compile_loss(src, f)
    if not isinstance(loss, cst.Call):
        return None
    arg = _kwarg(loss, "from_logits")
    if arg is None or not _is_name(arg.value, "True"):
        return None
    return Fix([src.replace(loss, without_arg(loss, arg))], "unsafe")


def _losses_prefix(src: Source) -> str | None:
    """How the text reaches ``keras.losses``: ``losses``, ``keras.losses``, ``tf.keras.losses``."""
    keras_alias = tf_alias = None
    for stmt in src.module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                module = _dotted(small.module) if small.module is not None else None
                for alias in small.names:
                    name = _dotted(alias.name)
                    bound = alias.asname.name.value if alias.asname is not None and isinstance(
                        alias.asname.name, cst.Name) else name
                    if module in ("keras", "tensorflow.keras", "tf_keras") and name == "losses":
                        return bound
                    if module == "tensorflow" and name == "keras":
                        keras_alias = bound
            elif isinstance(small, cst.Import):
                for alias in small.names:
                    name = _dotted(alias.name)
                    bound = alias.asname.name.value if alias.asname is not None and isinstance(
                        alias.asname.name, cst.Name) else (name or "").split(".")[0]
                    if name in ("keras", "tf_keras") and alias.asname is not None:
                        keras_alias = bound
                    elif name in ("keras", "tf_keras"):
                        keras_alias = keras_alias or name
                    elif name == "tensorflow":
                        tf_alias = bound
    if keras_alias:
        return f"{keras_alias}.losses"
    if tf_alias:
        return f"{tf_alias}.keras.losses"
    return None


def fix_add_from_logits(src: Source, f: Finding) -> Fix | None:
    """KR003: the output is linear (logits), so the loss gets ``from_logits=True``."""
    loss = _compile_loss(src, f)
    if loss is None:
        return None
    value = loss
    if isinstance(value, cst.Call):
        if _has_star(value):
            return None
        arg = _kwarg(value, "from_logits")
        if arg is not None:
            if not _is_name(arg.value, "False"):
                return None
            new = value.with_changes(args=[
                a.with_changes(value=cst.Name("True")) if a is arg else a for a in value.args])
        elif any(a.keyword is None for a in value.args):
            return None  # from_logits may be the positional argument
        else:
            new = with_kwarg(value, "from_logits", cst.Name("True"))
        return Fix([src.replace(value, new)], "unsafe")
    if isinstance(value, cst.SimpleString):
        name = value.evaluated_value
        cls = _LOSS_CLASSES.get(name) if isinstance(name, str) else None
        prefix = _losses_prefix(src)
        if cls is None or prefix is None:
            return None
        return Fix([src.replace(value, f"{prefix}.{cls}(from_logits=True)")], "unsafe")
    return None


def fix_divide_by_std(src: Source, f: Finding, program_names: set[str] | None = None,
                      numpy_alias: str | None = None) -> Fix | None:
    """BN012: ``/ var`` -> ``/ np.sqrt(var + epsilon)`` with the layer's epsilon."""
    eps = f.fix_args.get("epsilon")
    divisor = f.fix_args.get("divisor")
    if not isinstance(eps, (int, float)) or not isinstance(divisor, str) or f.line is None:
        return None
    ops = [n for n in src.nodes_at(f.line, f.column, cst.BinaryOperation)
           if isinstance(n.operator, cst.Divide)
           and "".join(src.code(n.right).split()) == "".join(divisor.split())]
    if not ops:
        return None
    op = min(ops, key=lambda n: Source._size(src.pos[n]))
    right = op.right
    text = src.code(right).strip()
    if not isinstance(right, (cst.Name, cst.Attribute, cst.Subscript, cst.Call)) and \
            not (right.lpar and right.rpar):
        text = f"({text})"
    edits = []
    alias = numpy_alias or src.module_alias("numpy")
    if alias is None:
        names = program_names if program_names is not None else src.names_used()
        if "np" in names:
            return None  # `np` means something else here
        alias = "np"
        edits.append(src.import_insertion("import numpy as np"))
    edits.append(src.replace(right, f"{alias}.sqrt({text} + {float(eps)!r})"))
    return Fix(edits, "safe")


_VARIANCE_NAMES = ("var", "moving_variance", "moving_var", "variance")


def fix_rename_std(src: Source, f: Finding, program_names: set[str] | None = None) -> Fix | None:
    """BN012 (unsafe): a variance bound to a standard-deviation name gets a variance name,
    everywhere it is used -- only when that binding is the name's only one in the file."""
    from libcst.metadata import ScopeProvider

    old = f.fix_args.get("rename")
    if not isinstance(old, str) or f.line is None:
        return None
    assigns = src.nodes_at(f.line, f.column, cst.Assign)
    if len(assigns) != 1:
        return None
    targets = [n for n in _names_in(assigns[0].targets) if n.value == old]
    if len(targets) != 1:
        return None
    scopes: Any = src.wrapper.resolve(ScopeProvider)
    scope = scopes.get(targets[0])
    if scope is None:
        return None
    bindings = list(scope.assignments[old])
    if len(bindings) != 1 or getattr(bindings[0], "node", None) is not targets[0]:
        return None
    uses = {id(a.node) for a in bindings[0].references} | {id(targets[0])}
    every = [n for n in src.pos if isinstance(n, cst.Name) and n.value == old
             and not _is_attr_or_keyword(src, n)]
    if any(id(n) not in uses for n in every):
        return None  # the name means something else somewhere: leave it to the user
    names = (program_names or set()) | src.names_used()
    new = next((n for n in _VARIANCE_NAMES if n not in names), None)
    if new is None:
        return None
    return Fix([src.replace(n, new) for n in every], "unsafe")


def _names_in(node: Any) -> list[cst.Name]:
    out: list[cst.Name] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Name):
            out.append(n)
        elif isinstance(n, (list, tuple)):
            stack.extend(n)
        elif isinstance(n, cst.CSTNode) and not isinstance(n, (cst.Attribute, cst.Subscript)):
            stack.extend(n.children)
    return out


def _is_attr_or_keyword(src: Source, n: cst.Name) -> bool:
    parent = src.parent(n)
    return (isinstance(parent, cst.Attribute) and parent.attr is n) or \
        (isinstance(parent, cst.Arg) and parent.keyword is n)


def fix_variance(src: Source, f: Finding, program_names: set[str] | None = None,
                 numpy_alias: str | None = None) -> Fix | None:
    """BN012: the division fix (safe) or the rename of a std-named binding (unsafe)."""
    if "rename" in f.fix_args:
        return fix_rename_std(src, f, program_names)
    return fix_divide_by_std(src, f, program_names, numpy_alias)


def _statement_line(src: Source, node: cst.CSTNode) -> cst.SimpleStatementLine | None:
    """The line whose only statement is ``node`` (a small statement), in a block that keeps
    other statements."""
    line = src.parent(node)
    if not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1:
        return None
    block = src.parent(line)
    body = getattr(block, "body", None)
    if isinstance(block, cst.IndentedBlock):
        body = block.body
    if not isinstance(body, (list, tuple)) or len(body) < 2:
        return None  # removing it would leave an empty block
    return line


def _delete_statement(src: Source, line: cst.SimpleStatementLine) -> Edit | None:
    rng = src.pos[line]
    first = rng.start.line
    if src.lines[first - 1][: rng.start.column].strip():
        return None
    end = rng.end.line if rng.end.column > 0 else rng.end.line - 1
    return src.delete_lines(first, end)


def fix_remove_bn(src: Source, f: Finding) -> Fix | None:
    """BN001/BN003: remove the BatchNormalization call (a Sequential list element, a
    ``model.add(...)`` line, a functional ``x = BatchNormalization()(x)``)."""
    if not f.fix_args.get("remove"):
        return None
    call = src.call_at(f)
    if call is None or _has_star(call):
        return None
    bn = str(f.fix_args.get("bn", ""))
    parent = src.parent(call)
    edits: list[Edit] = []
    if isinstance(parent, cst.Element):  # keras.Sequential([..., BatchNormalization(), ...])
        seq = src.parent(parent)
        if not isinstance(seq, (cst.List, cst.Tuple)) or len(seq.elements) < 2:
            return None
        elements = list(seq.elements)
        i = next(k for k, e in enumerate(elements) if e is parent)
        if any(isinstance(e, cst.StarredElement) for e in elements):
            return None
        here = src.pos[parent.value]
        comma = src.pos.get(parent.comma) if isinstance(parent.comma, cst.Comma) else None
        if comma is not None and not src.lines[here.start.line - 1][: here.start.column].strip() \
                and src.lines[comma.end.line - 1][comma.end.column:].strip()[:1] in ("", "#"):
            # on lines of its own (with its comma and comment): the lines go
            edits.append(src.delete_lines(here.start.line, comma.end.line))
        elif i + 1 < len(elements):  # up to the next element: its comma and what follows go too
            nxt = src.pos[elements[i + 1].value]
            edits.append(Edit((here.start.line, here.start.column),
                              (nxt.start.line, nxt.start.column), ""))
        else:  # the last one: from the end of the one before (its comma goes, a trailing stays)
            prev = src.pos[elements[i - 1].value]
            edits.append(Edit((prev.end.line, prev.end.column),
                              (here.end.line, here.end.column), ""))
    elif isinstance(parent, cst.Arg):  # model.add(BatchNormalization())
        add = src.parent(parent)
        if not isinstance(add, cst.Call) or len(add.args) != 1 or parent.keyword is not None \
                or not isinstance(add.func, cst.Attribute) or add.func.attr.value != "add":
            return None
        expr = src.parent(add)
        if not isinstance(expr, cst.Expr):
            return None
        line = _statement_line(src, expr)
        edit = _delete_statement(src, line) if line is not None else None
        if edit is None:
            return None
        edits.append(edit)
    elif isinstance(parent, cst.Call) and parent.func is call:  # BatchNormalization()(x)
        if len(parent.args) != 1 or parent.args[0].keyword is not None or parent.args[0].star:
            return None
        value = parent.args[0].value
        assign = src.parent(parent)
        if isinstance(assign, cst.Assign) and len(assign.targets) == 1 and \
                isinstance(value, cst.Name) and _is_name(assign.targets[0].target, value.value):
            line = _statement_line(src, assign)
            edit = _delete_statement(src, line) if line is not None else None
            if edit is None:
                return None
            edits.append(edit)
        else:
            edits.append(src.replace(parent, value))
    else:
        return None
    bias = f.fix_args.get("bias_at")
    if isinstance(bias, list) and len(bias) == 3 and bias[2] == f.cell:
        before = src.call_at(Finding(code="", name="", message="", path=""), bias[0], bias[1])
        arg = _kwarg(before, "use_bias") if before is not None else None
        if arg is not None and _is_name(arg.value, "False"):
            edits.append(src.replace(before, without_arg(before, arg)))
    return Fix(edits, "unsafe", removes={bn})


FIXERS: dict[str, Callable[..., Fix | None]] = {
    "BN001": fix_remove_bn,
    "BN003": fix_remove_bn,
    "BN004": fix_use_bias,
    "BN006": fix_momentum,
    "BN012": fix_variance,
    "KR001": fix_softmax_single_unit,
    "KR002": fix_drop_from_logits,
    "KR003": fix_add_from_logits,
}
