"""What bnlint knows about Keras layer classes.

Each modelled class has one *rule*: a function that takes the layer's config
and the shapes of one call's inputs and returns the call's output shapes and
the weights the layer creates when built on those inputs, in Keras's creation
order.  Rules register by existing (``@layer_rule("Dense")``) in the family
modules imported by :func:`_load_families`.

Constructor defaults are *not* typed here: :class:`Config` fills what a config
leaves out from the signature data generated from real Keras
(``bnlint/keras/data/signatures_keras{2,3}.json``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bnlint.symbolic import Size, Sym

Shape = tuple[int | Sym | None, ...]


class Unknown(Exception):
    """Raised by a rule when it cannot compute an exact answer; the message is the reason."""


class _UnknownValue:
    """Marker for a config value the reader could not determine (source code)."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return f"<unknown {self.text}>"


def unknown_value(text: str) -> Any:
    return _UnknownValue(text)


def is_unknown_value(v: Any) -> bool:
    return isinstance(v, _UnknownValue)


_MISSING = object()


class Config:
    """A layer's config: explicit values first, then Keras's constructor defaults."""

    def __init__(self, class_name: str, values: dict[str, Any], version: int):
        self.class_name = class_name
        self.values = values
        self.version = version
        self._defaults: dict[str, Any] | None = None

    @property
    def defaults(self) -> dict[str, Any]:
        if self._defaults is None:
            from bnlint.keras.signatures import defaults_for

            self._defaults = defaults_for(self.class_name, self.version)
        return self._defaults

    def has(self, key: str) -> bool:
        return key in self.values

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        if key in self.values:
            return self.values[key]
        d = self.defaults
        if key in d:
            return d[key]
        if default is not _MISSING:
            return default
        raise Unknown(f"{self.class_name}: no value and no known default for `{key}`")

    def get(self, key: str, default: Any = _MISSING) -> Any:
        v = self.raw(key, default)
        if isinstance(v, _UnknownValue):
            raise Unknown(f"`{key}` is not known statically ({v.text})")
        return v

    def size(self, key: str, default: Any = _MISSING) -> Size:
        v = self.raw(key, default)
        return as_size(v, key)

    def opt_size(self, key: str, default: Any = _MISSING) -> Size | None:
        v = self.raw(key, default)
        return None if v is None else as_size(v, key)

    def flag(self, key: str, default: Any = _MISSING) -> bool:
        v = self.get(key, default)
        if isinstance(v, Sym):
            raise Unknown(f"`{key}` is not known statically ({v})")
        return bool(v)

    def tuple(self, key: str, n: int, default: Any = _MISSING) -> tuple[Size, ...]:
        """Keras's ``standardize_tuple``: an int or a sequence of n ints."""
        v = self.get(key, default)
        if isinstance(v, (int, Sym)) and not isinstance(v, bool):
            return (as_size(v, key),) * n
        if isinstance(v, (list, tuple)):
            if len(v) != n:
                raise Unknown(f"`{key}` should have {n} elements, got {len(v)}")
            return tuple(as_size(x, key) for x in v)
        raise Unknown(f"`{key}` has an unexpected value {v!r}")

    def str(self, key: str, default: Any = _MISSING) -> str | None:
        v = self.get(key, default)
        if v is None:
            return None
        if not isinstance(v, str):
            raise Unknown(f"`{key}` is not a string ({v!r})")
        return v


def as_size(v: Any, what: str = "value") -> Size:
    if isinstance(v, _UnknownValue):
        raise Unknown(f"`{what}` is not known statically ({v.text})")
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, Sym):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    raise Unknown(f"`{what}` is not an integer ({v!r})")


@dataclass
class WeightSpec:
    name: str
    shape: tuple[Size, ...]
    trainable: bool = True
    dtype: str | None = None  # None: the layer's variable dtype


@dataclass
class SubLayer:
    """A layer a layer owns (Bidirectional's forward/backward, TimeDistributed's inner)."""

    name: str
    class_name: str
    built: Built
    # Created or wrapped with ``trainable=False``: every variable below it is non-trainable.
    frozen: bool = False


def is_frozen(values: dict[str, Any]) -> bool:
    """A wrapped layer's config says ``trainable=False``."""
    return values.get("trainable") is False


@dataclass
class Built:
    outputs: list[Shape]
    weights: list[WeightSpec] = field(default_factory=list)  # creation order
    sublayers: list[SubLayer] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TensorArg:
    """A tensor passed as a keyword argument (``mha(q, value=v)``): ``inputs[index]``."""

    index: int


@dataclass
class Call:
    """One call of a layer: its config, its input shapes, and the call kwargs.

    ``inputs`` lists the tensors of the call in this order: those of the first
    positional argument, then tensors passed as further positional arguments,
    then tensors passed as keyword arguments (which ``kwargs`` maps to
    :class:`TensorArg`).  ``first_count`` is how many belong to the first argument.
    """

    cfg: Config
    inputs: list[Shape]
    version: int
    kwargs: dict[str, Any] = field(default_factory=dict)
    # Structure of the first positional argument: True when it was a list/tuple of tensors
    # (merge layers take a list even of length one).
    list_input: bool = False
    first_count: int | None = None  # None: all inputs belong to the first argument

    @property
    def first(self) -> list[Shape]:
        """Shapes of the tensors of the first positional argument."""
        return self.inputs if self.first_count is None else self.inputs[: self.first_count]

    @property
    def input(self) -> Shape:
        if len(self.inputs) != 1:
            raise Unknown(f"{self.cfg.class_name} expects one input, got {len(self.inputs)}")
        return self.inputs[0]

    def sub(self, class_name: str, values: dict[str, Any], inputs: list[Shape]) -> Built:
        """Evaluate a wrapped layer (``Bidirectional(LSTM(...))``) with the same rules."""
        return build_layer(class_name, values, inputs, self.version)


Rule = Callable[[Call], Built]
_RULES: dict[str, Rule] = {}
_FAMILIES_LOADED = False


def layer_rule(*class_names: str) -> Callable[[Rule], Rule]:
    def deco(fn: Rule) -> Rule:
        for name in class_names:
            _RULES[name] = fn
        return fn

    return deco


def _load_families() -> None:
    global _FAMILIES_LOADED
    if _FAMILIES_LOADED:
        return
    _FAMILIES_LOADED = True
    import importlib
    import pkgutil

    from bnlint.keras import layers as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"{pkg.__name__}.{info.name}")


# What a built-in layer's ``__init__`` leaves on ``self`` (``self.kernel_size``...), read by a
# user subclass that overrides build() or call(): per class, attribute -> how Keras computes it
# from the constructor arguments (raises Unknown when the value is not known statically).
AttrRule = Callable[[Config], dict[str, Callable[[], Any]]]
_ATTRS: dict[str, AttrRule] = {}


def attributes_rule(*class_names: str) -> Callable[[AttrRule], AttrRule]:
    def deco(fn: AttrRule) -> AttrRule:
        for name in class_names:
            _ATTRS[name] = fn
        return fn

    return deco


def init_attributes(class_name: str, values: dict[str, Any], version: int) -> dict[str, Any]:
    """The attributes Keras's ``__init__`` of this class sets that bnlint knows the value of
    (plain data); one not known statically is left out."""
    _load_families()
    rule = _ATTRS.get(canonical_class(class_name))
    if rule is None:
        return {}
    out: dict[str, Any] = {}
    for key, compute in rule(Config(canonical_class(class_name), values, version)).items():
        try:
            out[key] = compute()
        except Unknown:
            continue
    return out


# Properties without a setter on a built-in class (public names): ``self.kernel = ...`` in a
# Keras 3 Conv2D subclass raises AttributeError. class -> version -> names.
_READ_ONLY: dict[str, dict[int, frozenset[str]]] = {}


def read_only_rule(class_names: tuple[str, ...], by_version: dict[int, frozenset[str]]) -> None:
    for name in class_names:
        _READ_ONLY[name] = by_version


def read_only_attributes(class_name: str, version: int) -> frozenset[str] | None:
    """The public properties without a setter of a built-in class; None when not known."""
    _load_families()
    by_version = _READ_ONLY.get(canonical_class(class_name))
    return None if by_version is None else by_version.get(version)


# Old class names that Keras still deserialises under another name.
ALIASES = {
    "Convolution1D": "Conv1D",
    "Convolution2D": "Conv2D",
    "Convolution3D": "Conv3D",
    "Convolution2DTranspose": "Conv2DTranspose",
    "Convolution3DTranspose": "Conv3DTranspose",
    "SeparableConvolution1D": "SeparableConv1D",
    "SeparableConvolution2D": "SeparableConv2D",
    "DepthwiseConvolution2D": "DepthwiseConv2D",
    "MaxPool1D": "MaxPooling1D",
    "MaxPool2D": "MaxPooling2D",
    "MaxPool3D": "MaxPooling3D",
    "AvgPool1D": "AveragePooling1D",
    "AvgPool2D": "AveragePooling2D",
    "AvgPool3D": "AveragePooling3D",
    "GlobalMaxPool1D": "GlobalMaxPooling1D",
    "GlobalMaxPool2D": "GlobalMaxPooling2D",
    "GlobalMaxPool3D": "GlobalMaxPooling3D",
    "GlobalAvgPool1D": "GlobalAveragePooling1D",
    "GlobalAvgPool2D": "GlobalAveragePooling2D",
    "GlobalAvgPool3D": "GlobalAveragePooling3D",
}


def canonical_class(class_name: str) -> str:
    return ALIASES.get(class_name, class_name)


def known_classes() -> list[str]:
    _load_families()
    return sorted(_RULES)


def rule_for(class_name: str) -> Rule | None:
    _load_families()
    return _RULES.get(canonical_class(class_name))


def build_layer(
    class_name: str,
    values: dict[str, Any],
    inputs: Sequence[Shape],
    version: int,
    kwargs: dict[str, Any] | None = None,
    list_input: bool = False,
    first_count: int | None = None,
) -> Built:
    """Apply a class's rule; raises :class:`Unknown` when it cannot be modelled."""
    rule = rule_for(class_name)
    if rule is None:
        raise Unknown(f"layer class `{class_name}` is not in bnlint's catalogue")
    cfg = Config(canonical_class(class_name), values, version)
    return rule(Call(cfg, list(inputs), version, dict(kwargs or {}), list_input, first_count))


def ordered_weights(built: Built, version: int, prefix: str = "",
                    frozen: bool = False) -> list[tuple[str, WeightSpec]]:
    """``layer.weights`` order for a built layer, with each weight's path.

    Keras 3 (``Layer.weights``): own trainable variables, own non-trainable ones,
    then each sublayer's weights in turn.  tf-keras (``trainable_weights +
    non_trainable_weights``): every trainable variable (own, then sublayers'),
    then every non-trainable one; a frozen layer's (``frozen``, or a sublayer's
    :attr:`SubLayer.frozen`) are all non-trainable, in the order own trainable, own
    non-trainable, then each sublayer's (tf-keras's ``non_trainable_weights``).  The
    specs of frozen weights come back as copies with ``trainable=False``.
    """
    from dataclasses import replace

    def walk(b: Built, path: str, frozen: bool) -> list[tuple[str, WeightSpec]]:
        own_t = [(f"{path}{w.name}", w) for w in b.weights if w.trainable]
        own_n = [(f"{path}{w.name}", w) for w in b.weights if not w.trainable]
        subs = [walk(s.built, f"{path}{s.name}/", frozen or s.frozen) for s in b.sublayers]
        if version == 3 or frozen:
            out = own_t + own_n
            for s in subs:
                out += s
        else:
            out = own_t + [x for s in subs for x in s if x[1].trainable]
            out += own_n + [x for s in subs for x in s if not x[1].trainable]
        if frozen:
            out = [(p, replace(w, trainable=False) if w.trainable else w) for p, w in out]
        return out

    return walk(built, prefix, frozen)
