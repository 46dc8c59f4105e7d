"""The abstract values the source reader computes with, the scope chain, the limits and the
control-flow signals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bnlint import graph
from bnlint.keras.validation import NpInt

MAX_STEPS = 200_000


MAX_DEPTH = 40


MAX_LOOP = 10_000
#: Steps a loop may spend without creating any Keras object (names, models, layers) before its
#: remaining iterations are skipped and what it assigns becomes unknown: data preparation such as
#: ``for i in range(50000)`` must not spend the whole step budget before the model is reached.
QUIET_LOOP_STEPS = 20_000


MAX_SEQ = 1_000_000


#: Steps reading one call of a custom layer's call() may take: a call() looping over every
#: channel (``[tf.nn.conv3d(x[..., i:i + 1], ...) for i in range(channels)]``) is left unknown
#: instead of spending the whole budget, call after call.
CUSTOM_CALL_STEPS = 20_000


MAX_IMPORT_DEPTH = 8


MAX_MODULES = 64


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
class ArrayValue:
    """A concrete (eager) array whose shape is known: ``np.ones((1, 4))``,
    ``np.array([[6, 7, 8], [3, 4, 5]])``; ``data``: the values of a 1-D array made from
    literal numbers (``np.array([1, 2]) * 2``), else None."""

    shape: tuple
    data: list | None = None

    def elements(self) -> list[Any] | None:
        """The items of a 1-D array of known values, as NumPy gives them (an integer is a
        NumPy integer: NpInt); None when they are not known."""
        if self.data is None or len(self.shape) != 1:
            return None
        return [NpInt(x) if isinstance(x, int) and not isinstance(x, bool) else x
                for x in self.data]

    def item(self, key: Any) -> Any:
        """``a[key]`` for an integer key: a row (an array); None for an element (a NumPy
        scalar: ``np.int64``, which Keras 3 rejects where it wants an ``int``) or a key that
        is not a plain in-range integer."""
        if len(self.shape) < 2 or not isinstance(key, int) or isinstance(key, bool) or not (
                isinstance(self.shape[0], int) and -self.shape[0] <= key < self.shape[0]):
            return None
        return ArrayValue(self.shape[1:])


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

    def keras_class_base(self, depth: int = 0) -> KRef | None:
        """The Keras class this class derives from (``keras.layers.BatchNormalization``)."""
        for b in self.bases:
            if isinstance(b, KRef):
                return b
            if isinstance(b, UserClass) and depth < 20:
                k = b.keras_class_base(depth + 1)
                if k is not None:
                    return k
        return None


@dataclass(eq=False)
class NTClass:
    """A class made by ``collections.namedtuple`` / ``typing.NamedTuple``."""

    name: str
    fields: tuple[str, ...]
    defaults: dict[str, Any]

    def make(self, args: list[Any], kwargs: dict[str, Any]) -> NTuple | None:
        """``Cls(*args, **kwargs)``; None where Python raises TypeError."""
        if len(args) > len(self.fields) or any(k not in self.fields for k in kwargs):
            return None
        values = dict(zip(self.fields, args, strict=False))
        for k, v in kwargs.items():
            if k in values:
                return None
            values[k] = v
        for f in self.fields:
            if f not in values:
                if f not in self.defaults:
                    return None
                values[f] = self.defaults[f]
        return NTuple([values[f] for f in self.fields], self)


class NTuple(tuple):
    """An instance of a namedtuple class: a tuple (iteration, indexing, unpacking, equality
    as Python's) that knows its class for attribute access and ``_replace``."""

    cls: NTClass | None

    def __new__(cls, items: Any, ntcls: NTClass | None = None) -> NTuple:
        self = super().__new__(cls, items)
        self.cls = ntcls
        return self

    def __getnewargs__(self) -> tuple:  # type: ignore[override]
        return (tuple(self), self.cls)


@dataclass(eq=False)
class Instance:
    cls: UserClass
    attrs: dict[str, Any] = field(default_factory=dict)
    kmodel: Any = None  # KModel for keras.Model subclasses
    klayer: Any = None  # KLayer for keras.layers.Layer subclasses
    tracked: list[Any] = field(default_factory=list)
    # tf-keras: the layers and containers assigned to it, ``_self_tracked_trackables`` order
    trackables: list[Any] = field(default_factory=list)
    weights: list[Any] = field(default_factory=list)  # WeightSpec from add_weight, in order
    calling_build: bool = False  # its own build() runs as part of Keras's first call


@dataclass(eq=False)
class Bound:
    obj: Any
    func: Any  # UserFunc, or a str naming a native method


@dataclass(eq=False)
class Partial:
    """``functools.partial(func, *args, **keywords)``."""

    func: Any
    args: tuple
    keywords: dict[str, Any]


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
    """A variable a custom layer created with ``self.add_weight(...)`` (see TFVariable)."""

    spec: Any  # catalogue.WeightSpec
    layer: str

    @property
    def shape(self) -> tuple:
        return tuple(self.spec.shape)


@dataclass(eq=False)
class TFVariable(WeightVar):
    """``tf.Variable(initial_value)``: a layer's weight only when tf_keras tracks it (assigned
    to an attribute of a layer: ``layer`` is then its name, "" before)."""


class Unresolved(Opaque):
    """What a call of a name from a module bnlint did not find returned (``Thing(2)``): unknown;
    ``why`` names the import, for the note when it is called on tensors."""

    __slots__ = ("why",)

    def __init__(self, text: Any, why: str):
        super().__init__(text)
        self.why = why


class TFInitializer(Opaque):
    """A TensorFlow initializer object (``tf.random_normal_initializer()``): called with a
    shape it gives a tensor of that shape."""

    __slots__ = ()


@dataclass
class SeqState:
    layers: list[Any] = field(default_factory=list)
    input: Any = None  # KTensor
    dirty: bool = True
    # the input stands for an unknown first layer that passes no visible input shape: Keras
    # may not build the model, so no model name is counted for it
    uncounted: bool = False
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


class _CallBudget(_Budget):
    """A custom layer's call() took more than ``CUSTOM_CALL_STEPS`` steps to read."""


class LazyVars(dict):  # type: ignore[type-arg]
    """A package ``__init__``'s names, some bound by imports of the package's own submodules
    that are run on first use (``pending``: name -> loader). Python runs them when the
    ``__init__`` runs; an aggregating ``__init__`` (one import per model family) would make
    reading one submodule read the whole package. Reading a name, testing it with ``in`` or
    iterating the names (``from pkg import *``) runs its import first."""

    def __init__(self) -> None:
        super().__init__()
        self.pending: dict[str, Any] = {}

    def _resolve(self, name: str) -> None:
        load = self.pending.pop(name, None)
        if load is not None:
            dict.__setitem__(self, name, load())

    def _resolve_all(self) -> None:
        for _ in range(len(self.pending) + 1):  # bounded: each step removes one entry
            if not self.pending:
                break
            self._resolve(next(iter(self.pending)))

    def __contains__(self, name: object) -> bool:
        return dict.__contains__(self, name) or name in self.pending

    def __getitem__(self, name: str) -> Any:
        if name in self.pending:
            self._resolve(name)
        return dict.__getitem__(self, name)

    def get(self, name: str, default: Any = None) -> Any:
        if name in self.pending:
            self._resolve(name)
        return dict.get(self, name, default)

    def __setitem__(self, name: str, value: Any) -> None:
        self.pending.pop(name, None)
        dict.__setitem__(self, name, value)

    def __iter__(self) -> Any:
        self._resolve_all()
        return dict.__iter__(self)

    def keys(self) -> Any:
        self._resolve_all()
        return dict.keys(self)

    def items(self) -> Any:
        self._resolve_all()
        return dict.items(self)

    def values(self) -> Any:
        self._resolve_all()
        return dict.values(self)


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
