"""``bnlint export MODEL --to numpy``: the model's inference pass as a readable NumPy module.

:func:`export_numpy` returns the text of a standalone Python module (numpy and
h5py only) with

- ``load_weights(path)`` — the ``model.get_weights()`` list, read with h5py from the
  dataset paths resolved by :mod:`bnlint.readers.weights`, and
- ``forward(x, weights)`` — what ``model.predict(x)`` returns: one commented block per
  layer, in Keras's ``model.layers`` order (functional graphs follow the inbound
  nodes), naming the layer and the ``weights[k]`` it uses.

A layer this module cannot translate raises :class:`ExportError` naming it: the
exporter never writes code that would compute something else.  Every value that
reaches the generated code is re-typed here (numbers through ``int``/``float``,
strings checked against the values Keras allows or written with ``repr``), and
names in comments are reduced to printable ASCII.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bnlint import graph
from bnlint.keras.catalogue import Config, Unknown, canonical_class
from bnlint.readers.weights import WeightsFile

__all__ = ["ExportError", "export_numpy", "supported_layers"]


class ExportError(Exception):
    """The model cannot be exported exactly; the message names the layer and why."""


# --------------------------------------------------------------------------- helpers emitted


_HELPERS: dict[str, tuple[str, tuple[str, ...]]] = {}


def _helper(name: str, *deps: str) -> Any:
    def deco(text: str) -> str:
        _HELPERS[name] = (text.strip("\n"), deps)
        return text

    return deco


_helper("_sigmoid")('''
def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))
''')
_helper("_softmax")('''
def _softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)
''')
_helper("_log_softmax")('''
def _log_softmax(x, axis=-1):
    s = x - np.max(x, axis=axis, keepdims=True)
    return s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))
''')
_helper("_elu")('''
def _elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
''')
_helper("_selu", "_elu")('''
def _selu(x):
    return 1.0507009873554805 * _elu(x, 1.6732632423543772)
''')
_helper("_gelu")('''
_erf = np.vectorize(math.erf, otypes=[np.float64])


def _gelu(x, approximate=False):
    if approximate:
        return 0.5 * x * (1.0 + np.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3)))
    return (0.5 * x * (1.0 + _erf(x.astype(np.float64) / math.sqrt(2.0)))).astype(x.dtype)
''')
_helper("_sparsemax")('''
def _sparsemax(x, axis=-1):
    """Keras 3's sparsemax, as its TensorFlow backend computes it (tau sums the cumulative
    sums over the support, which is what predict() returns)."""
    z = np.flip(np.sort(x, axis=axis), axis=axis)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    r = np.arange(1, x.shape[axis] + 1, dtype=x.dtype).reshape(shape)
    cum = np.cumsum(z, axis=axis)
    support = z - (cum - 1) / r > 0
    k = np.sum(support, axis=axis, keepdims=True).astype(x.dtype)
    tau = (np.sum(np.where(support, cum, 0), axis=axis, keepdims=True) - 1) / k
    return np.maximum(x - tau, 0).astype(x.dtype)
''')
_helper("_glu", "_sigmoid")('''
def _glu(x, axis=-1):
    a, b = np.split(x, 2, axis=axis)
    return a * _sigmoid(b)
''')
_helper("_relu")('''
def _relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Keras relu: max_value above it, x from threshold up, negative_slope*(x-threshold) below."""
    y = np.where(x >= threshold, x, negative_slope * (x - threshold))
    if max_value is not None:
        y = np.minimum(y, max_value)
    return y.astype(x.dtype)
''')
_helper("_bcast")('''
def _bcast(w, x, axes):
    """Reshape a per-channel weight to broadcast against x along `axes`."""
    shape = [1] * x.ndim
    for a in axes:
        shape[a] = x.shape[a]
    return np.reshape(w, shape)
''')
_helper("_pad_spatial")('''
def _pad_spatial(x, kernel, strides, dilation, padding, value=0.0):
    """Pad the spatial axes (1..n) of a channels_last tensor as TensorFlow does."""
    if padding == "valid":
        return x
    pads = [(0, 0)]
    for i, (k, s, d) in enumerate(zip(kernel, strides, dilation)):
        n = x.shape[1 + i]
        eff = (k - 1) * d + 1
        if padding == "causal":
            pads.append((eff - 1, 0))
        else:  # "same"
            total = max((-(-n // s) - 1) * s + eff - n, 0)
            pads.append((total // 2, total - total // 2))
    pads.append((0, 0))
    return np.pad(x, pads, constant_values=value)
''')
_helper("_windows", "_pad_spatial")('''
def _windows(x, kernel, strides, dilation):
    """(offset in the window, strided slice of x) for every kernel position."""
    n = len(kernel)
    out = [(x.shape[1 + i] - (kernel[i] - 1) * dilation[i] - 1) // strides[i] + 1 for i in range(n)]
    for offs in np.ndindex(*kernel):
        sl = tuple(slice(o * d, o * d + (m - 1) * s + 1, s)
                   for o, d, m, s in zip(offs, dilation, out, strides))
        yield offs, x[(slice(None), *sl)]
''')
_helper("_conv", "_windows", "_pad_spatial")('''
def _conv(x, kernel, strides, dilation, padding, groups=1):
    """Convolution, channels_last: x (batch, *spatial, cin), kernel (*size, cin // groups, cout)."""
    size = kernel.shape[:-2]
    x = _pad_spatial(x, size, strides, dilation, padding)
    cin, cout = x.shape[-1], kernel.shape[-1]
    gi, go = cin // groups, cout // groups
    y = None
    for offs, patch in _windows(x, size, strides, dilation):
        w = kernel[offs]
        if groups == 1:
            t = patch @ w
        else:
            t = np.concatenate([patch[..., g * gi:(g + 1) * gi] @ w[:, g * go:(g + 1) * go]
                                for g in range(groups)], axis=-1)
        y = t if y is None else y + t
    return y
''')
_helper("_depthwise", "_windows", "_pad_spatial")('''
def _depthwise(x, kernel, strides, dilation, padding):
    """Depthwise convolution: kernel (*size, cin, multiplier); output channel c*multiplier + m."""
    size = kernel.shape[:-2]
    x = _pad_spatial(x, size, strides, dilation, padding)
    y = None
    for offs, patch in _windows(x, size, strides, dilation):
        t = patch[..., :, None] * kernel[offs]
        y = t if y is None else y + t
    return y.reshape(*y.shape[:-2], -1)
''')
_helper("_max_pool", "_windows", "_pad_spatial")('''
def _max_pool(x, pool, strides, padding):
    ones = (1,) * len(pool)
    x = _pad_spatial(x, pool, strides, ones, padding, value=-np.inf)
    return np.max([p for _, p in _windows(x, pool, strides, ones)], axis=0)
''')
_helper("_avg_pool", "_windows", "_pad_spatial")('''
def _avg_pool(x, pool, strides, padding):
    """Average pooling; with "same" padding the padded cells are not counted (as in TF)."""
    ones = (1,) * len(pool)
    xs = _pad_spatial(x, pool, strides, ones, padding)
    cnt = _pad_spatial(np.ones((1, *x.shape[1:-1], 1), x.dtype), pool, strides, ones, padding)
    total = np.sum([p for _, p in _windows(xs, pool, strides, ones)], axis=0)
    count = np.sum([p for _, p in _windows(cnt, pool, strides, ones)], axis=0)
    return total / count
''')


_ACTIVATIONS_3 = {
    "linear": ("{x}", ()),
    "relu": ("np.maximum({x}, 0)", ()),
    "relu6": ("np.clip({x}, 0, 6)", ()),
    "leaky_relu": ("np.where({x} >= 0, {x}, 0.2 * {x})", ()),
    "sigmoid": ("_sigmoid({x})", ("_sigmoid",)),
    "softmax": ("_softmax({x}, axis=-1)", ("_softmax",)),
    "log_softmax": ("_log_softmax({x}, axis=-1)", ("_log_softmax",)),
    "tanh": ("np.tanh({x})", ()),
    "elu": ("_elu({x})", ("_elu",)),
    "selu": ("_selu({x})", ("_selu",)),
    "gelu": ("_gelu({x}, approximate=False)", ("_gelu",)),
    "swish": ("{x} * _sigmoid({x})", ("_sigmoid",)),
    "silu": ("{x} * _sigmoid({x})", ("_sigmoid",)),
    "softplus": ("np.logaddexp(0, {x})", ()),
    "softsign": ("{x} / (np.abs({x}) + 1)", ()),
    "exponential": ("np.exp({x})", ()),
    "mish": ("{x} * np.tanh(np.logaddexp(0, {x}))", ()),
    # Keras 3: relu6(x + 3) / 6 ; tf-keras: see _ACTIVATIONS_2
    "hard_sigmoid": ("np.clip({x} / 6 + 0.5, 0, 1)", ()),
    "hard_silu": ("{x} * np.clip({x} / 6 + 0.5, 0, 1)", ()),
    "hard_swish": ("{x} * np.clip({x} / 6 + 0.5, 0, 1)", ()),
    "tanh_shrink": ("{x} - np.tanh({x})", ()),
    "hard_tanh": ("np.clip({x}, -1, 1)", ()),
    "squareplus": ("({x} + np.sqrt({x} ** 2 + 4)) / 2", ()),
    "sparse_plus": ("np.where({x} <= -1, 0, np.where({x} >= 1, {x}, ({x} + 1) ** 2 / 4))", ()),
    "celu": ("np.maximum({x}, 0) + np.minimum(np.expm1({x}), 0)", ()),
    "glu": ("_glu({x}, axis=-1)", ("_glu",)),
    "hard_shrink": ("np.where(np.abs({x}) > 0.5, {x}, 0).astype({x}.dtype)", ()),
    "soft_shrink": ("np.where({x} > 0.5, {x} - 0.5, np.where({x} < -0.5, {x} + 0.5, 0))"
                    ".astype({x}.dtype)", ()),
    "log_sigmoid": ("-np.logaddexp(0, -{x})", ()),
    "sparse_sigmoid": ("np.where({x} <= -1, 0, np.where({x} >= 1, 1, 0.5 * ({x} + 1)))"
                       ".astype({x}.dtype)", ()),
    "sparsemax": ("_sparsemax({x}, axis=-1)", ("_sparsemax",)),
}
# Keras 3's `threshold` activation has no defaults for its arguments: Activation("threshold")
# cannot be called, so no saved model uses it by name.
_ACTIVATIONS_2 = {
    **{k: v for k, v in _ACTIVATIONS_3.items()
       if k not in ("hard_silu", "hard_swish", "tanh_shrink", "hard_tanh", "squareplus",
                    "sparse_plus", "celu", "glu", "hard_shrink", "soft_shrink", "log_sigmoid",
                    "sparse_sigmoid", "sparsemax")},
    # tf-keras resolves these names to tf.nn.relu6 / leaky_relu (alpha=0.2) / log_softmax
    # tf-keras: 0 below -2.5, 1 above 2.5, 0.2 * x + 0.5 between.
    "hard_sigmoid": ("np.clip(0.2 * {x} + 0.5, 0, 1)", ()),
}


def _activation_expr(name: Any, x: str, version: int, where: str, helpers: set[str]) -> str:
    if name is None:
        name = "linear"
    if isinstance(name, dict):  # Keras 3 may serialize a builtin as {"class_name": "function"...}
        name = name.get("config") if isinstance(name.get("config"), str) else None
    if not isinstance(name, str):
        raise ExportError(f"{where}: activation {name!r} is not a built-in Keras activation")
    table = _ACTIVATIONS_3 if version == 3 else _ACTIVATIONS_2
    if name not in table:
        raise ExportError(f"{where}: activation `{name}` is not supported by the NumPy export")
    expr, deps = table[name]
    helpers.update(deps)
    return expr.format(x=x)


# --------------------------------------------------------------------------- codegen


def _clean(text: Any) -> str:
    """Printable ASCII for comments: a name from a file never closes a comment line."""
    return re.sub(r"[^\x20-\x7e]", "?", str(text))


def _ident(name: str, used: set[str]) -> str:
    base = "x_" + re.sub(r"\W", "_", name.encode("ascii", "replace").decode("ascii"))
    if keyword.iskeyword(base):
        base += "_"
    out, n = base, 1
    while out in used:
        n += 1
        out = f"{base}_{n}"
    used.add(out)
    return out


def _ints(v: Any, n: int, what: str, where: str) -> tuple[int, ...]:
    if isinstance(v, bool):
        raise ExportError(f"{where}: `{what}` is not an integer tuple")
    if isinstance(v, int):
        return (int(v),) * n
    if isinstance(v, (list, tuple)) and len(v) == n and all(
            isinstance(i, int) and not isinstance(i, bool) for i in v):
        return tuple(int(i) for i in v)
    raise ExportError(f"{where}: `{what}`={v!r} is not understood")


def _num(v: Any, what: str, where: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ExportError(f"{where}: `{what}`={v!r} is not a number")
    return float(v)


def _choice(v: Any, allowed: tuple[str, ...], what: str, where: str) -> str:
    if not isinstance(v, str) or v.lower() not in allowed:
        raise ExportError(f"{where}: {what}={v!r} is not supported (expected one of {allowed})")
    return v.lower()


def _axes(v: Any, rank: int, where: str) -> list[int]:
    vals = v if isinstance(v, (list, tuple)) else [v]
    out = []
    for a in vals:
        if isinstance(a, bool) or not isinstance(a, int) or not -rank <= a < rank:
            raise ExportError(f"{where}: axis {v!r} is not understood for rank {rank}")
        out.append(a % rank)
    return sorted(set(out))


@dataclass
class _Ctx:
    version: int
    helpers: set[str] = field(default_factory=set)
    functions: list[str] = field(default_factory=list)  # nested models' functions
    fn_names: set[str] = field(default_factory=set)


@dataclass
class _Call:
    layer: graph.Layer
    position: int  # in model.layers
    node: graph.CallNode
    ins: list[str]
    cfg: Config
    where: str
    ctx: _Ctx

    def w(self, name: str) -> str | None:
        for wt in self.layer.weights:
            if wt.name == name:
                return f"weights[{wt.index}]"
        return None

    def need(self, name: str) -> str:
        ref = self.w(name)
        if ref is None:
            raise ExportError(f"{self.where}: no `{name}` weight")
        return ref

    @property
    def x(self) -> str:
        if len(self.ins) != 1:
            raise ExportError(f"{self.where}: expected one input, got {len(self.ins)}")
        return self.ins[0]

    @property
    def rank(self) -> int:
        if not self.node.input_shapes:
            raise ExportError(f"{self.where}: input shape unknown")
        return len(self.node.input_shapes[0])

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self.cfg.get(key, default)
        except Unknown as exc:
            raise ExportError(f"{self.where}: {exc}") from None

    def act(self, expr: str, key: str = "activation") -> tuple[str, str]:
        name = self.get(key, "linear")
        if name in (None, "linear"):
            return expr, ""
        return (_activation_expr(name, f"({expr})", self.ctx.version, self.where,
                                 self.ctx.helpers), f", then {_clean(name)}")

    def channels_last(self) -> None:
        fmt = self.get("data_format", "channels_last")
        if fmt not in (None, "channels_last"):
            raise ExportError(f"{self.where}: data_format={fmt!r} is not supported (channels_last only)")


# Each translator returns (comment, lines of code assigning the outputs `out`).
Translator = Any
_TRANSLATORS: dict[str, Translator] = {}


def _tr(*names: str) -> Any:
    def deco(fn: Any) -> Any:
        for n in names:
            _TRANSLATORS[n] = fn
        return fn

    return deco


def supported_layers() -> list[str]:
    """Layer classes the NumPy export translates."""
    return sorted(_TRANSLATORS)


def _wrefs(c: _Call) -> str:
    return " ".join(f"{_clean(w.name)}=weights[{w.index}]" for w in c.layer.weights)



def _biased(c: _Call, expr: str, what: str, out: str) -> tuple[str, list[str]]:
    """Add the layer's bias (when it has one) and its activation: the comment and the line."""
    bias = c.w("bias")
    if bias:
        expr += f" + {bias}"
    expr, then = c.act(expr)
    return f"{what}{' + bias' if bias else ''}{then}", [f"{out} = {expr}"]

@_tr("Dense")
def _dense(c: _Call, out: str) -> tuple[str, list[str]]:
    expr = f"{c.x} @ {c.need('kernel')}"
    return _biased(c, expr, "y = x @ kernel", out)


@_tr("BatchNormalization")
def _bn(c: _Call, out: str) -> tuple[str, list[str]]:
    rank = c.rank
    axes = _axes(c.get("axis", -1), rank, c.where)
    eps = _num(c.get("epsilon", 1e-3), "epsilon", c.where)
    if c.get("renorm", False):
        raise ExportError(f"{c.where}: batch renormalization is not supported")
    if axes == [rank - 1]:
        def b(r: str) -> str:
            return r
    else:
        c.ctx.helpers.add("_bcast")

        def b(r: str) -> str:
            return f"_bcast({r}, {c.x}, {tuple(axes)!r})"
    mean, var = b(c.need("moving_mean")), b(c.need("moving_variance"))
    expr = f"({c.x} - {mean}) / np.sqrt({var} + {eps!r})"
    formula = "(x - moving_mean) / sqrt(moving_variance + epsilon)"
    if c.w("gamma"):
        expr = f"{b(c.need('gamma'))} * {expr}"
        formula = "gamma * " + formula
    if c.w("beta"):
        expr += f" + {b(c.need('beta'))}"
        formula += " + beta"
    return (f"y = {formula}, axis={axes} epsilon={eps:g} (moving statistics: inference mode)",
            [f"{out} = {expr}"])


@_tr("LayerNormalization")
def _ln(c: _Call, out: str) -> tuple[str, list[str]]:
    rank = c.rank
    axes = _axes(c.get("axis", -1), rank, c.where)
    eps = _num(c.get("epsilon", 1e-3), "epsilon", c.where)
    if c.ctx.version == 3 and c.get("rms_scaling", False):
        raise ExportError(f"{c.where}: rms_scaling is not supported")
    c.ctx.helpers.add("_bcast")
    ax = tuple(axes)
    lines = [f"mean = np.mean({c.x}, axis={ax!r}, keepdims=True)",
             f"var = np.var({c.x}, axis={ax!r}, keepdims=True)",
             f"{out} = ({c.x} - mean) / np.sqrt(var + {eps!r})"]
    formula = "(x - mean) / sqrt(var + epsilon)"
    if c.w("gamma"):
        lines.append(f"{out} = {out} * _bcast({c.need('gamma')}, {c.x}, {ax!r})")
        formula = "gamma * " + formula
    if c.w("beta"):
        lines.append(f"{out} = {out} + _bcast({c.need('beta')}, {c.x}, {ax!r})")
        formula += " + beta"
    return f"y = {formula} over axes {list(ax)}, epsilon={eps:g}", lines


@_tr("Activation")
def _activation(c: _Call, out: str) -> tuple[str, list[str]]:
    expr, then = c.act(c.x)
    return f"y = {then[7:] or 'linear'}(x)", [f"{out} = {expr}"]


@_tr("ReLU")
def _relu_layer(c: _Call, out: str) -> tuple[str, list[str]]:
    mv = c.get("max_value", None)
    ns = _num(c.get("negative_slope", 0.0), "negative_slope", c.where)
    th = _num(c.get("threshold", 0.0), "threshold", c.where)
    mvs = "None" if mv is None else repr(_num(mv, "max_value", c.where))
    c.ctx.helpers.add("_relu")
    return (f"ReLU(max_value={mvs}, negative_slope={ns:g}, threshold={th:g})",
            [f"{out} = _relu({c.x}, negative_slope={ns!r}, max_value={mvs}, threshold={th!r})"])


@_tr("LeakyReLU")
def _leaky(c: _Call, out: str) -> tuple[str, list[str]]:
    key = "negative_slope" if c.ctx.version == 3 else "alpha"
    a = _num(c.get(key, 0.3), key, c.where)
    return f"y = x if x >= 0 else {a:g} * x", [f"{out} = np.where({c.x} >= 0, {c.x}, {a!r} * {c.x})"]


@_tr("PReLU")
def _prelu(c: _Call, out: str) -> tuple[str, list[str]]:
    a = c.need("alpha")
    return ("y = relu(x) - alpha * relu(-x)",
            [f"{out} = np.maximum({c.x}, 0) - {a} * np.maximum(-{c.x}, 0)"])


@_tr("ELU")
def _elu_layer(c: _Call, out: str) -> tuple[str, list[str]]:
    a = _num(c.get("alpha", 1.0), "alpha", c.where)
    c.ctx.helpers.add("_elu")
    return f"ELU(alpha={a:g})", [f"{out} = _elu({c.x}, {a!r})"]


@_tr("Softmax")
def _softmax_layer(c: _Call, out: str) -> tuple[str, list[str]]:
    axes = _axes(c.get("axis", -1), c.rank, c.where)
    if len(c.ins) != 1:
        raise ExportError(f"{c.where}: a Softmax mask input is not supported")
    c.ctx.helpers.add("_softmax")
    ax = axes[0] if len(axes) == 1 else tuple(axes)
    return f"softmax over axis {ax}", [f"{out} = _softmax({c.x}, axis={ax!r})"]


@_tr("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
     "GaussianDropout", "AlphaDropout", "ActivityRegularization")
def _identity(c: _Call, out: str) -> tuple[str, list[str]]:
    return "identity at inference", [f"{out} = {c.x}"]


@_tr("Flatten")
def _flatten(c: _Call, out: str) -> tuple[str, list[str]]:
    fmt = c.get("data_format", "channels_last")
    if fmt == "channels_first" and c.rank > 2:
        perm = (0, *range(2, c.rank), 1)
        return ("channels moved last, then flattened",
                [f"{out} = np.transpose({c.x}, {perm!r}).reshape(len({c.x}), -1)"])
    return "y = x.reshape(batch, -1)", [f"{out} = {c.x}.reshape(len({c.x}), -1)"]


@_tr("Reshape")
def _reshape(c: _Call, out: str) -> tuple[str, list[str]]:
    target = c.get("target_shape")
    if not isinstance(target, (list, tuple)) or not all(
            isinstance(d, int) and not isinstance(d, bool) for d in target):
        raise ExportError(f"{c.where}: target_shape {target!r} is not understood")
    t = tuple(int(d) for d in target)
    return f"y = x.reshape(batch, *{t})", [f"{out} = {c.x}.reshape(len({c.x}), *{t!r})"]


@_tr("Permute")
def _permute(c: _Call, out: str) -> tuple[str, list[str]]:
    dims = c.get("dims")
    if not isinstance(dims, (list, tuple)) or sorted(dims) != list(range(1, len(dims) + 1)):
        raise ExportError(f"{c.where}: dims {dims!r} is not understood")
    perm = (0, *(int(d) for d in dims))
    return f"transpose {perm}", [f"{out} = np.transpose({c.x}, {perm!r})"]


@_tr("Rescaling")
def _rescaling(c: _Call, out: str) -> tuple[str, list[str]]:
    def val(v: Any, what: str) -> str:
        if isinstance(v, (list, tuple)):
            return repr([_num(x, what, c.where) for x in v])
        return repr(_num(v, what, c.where))

    scale, offset = val(c.get("scale"), "scale"), val(c.get("offset", 0.0), "offset")
    return "y = x * scale + offset", [
        f"{out} = {c.x} * np.asarray({scale}, np.float32) + np.asarray({offset}, np.float32)"]


@_tr("Embedding")
def _embedding(c: _Call, out: str) -> tuple[str, list[str]]:
    e = c.need("embeddings")
    return "y = embeddings[int(x)]", [f"{out} = {e}[np.asarray({c.x}).astype(np.int64)]"]


def _conv_params(c: _Call, n: int) -> tuple[tuple[int, ...], tuple[int, ...], str]:
    c.channels_last()
    strides = _ints(c.get("strides", 1), n, "strides", c.where)
    dil = _ints(c.get("dilation_rate", 1), n, "dilation_rate", c.where)
    allowed = ("valid", "same", "causal") if n == 1 else ("valid", "same")
    pad = _choice(c.get("padding", "valid"), allowed, "padding", c.where)
    return strides, dil, pad


@_tr("Conv1D", "Conv2D", "Conv3D")
def _conv(c: _Call, out: str) -> tuple[str, list[str]]:
    n = int(c.cfg.class_name[4])
    strides, dil, pad = _conv_params(c, n)
    groups = int(_num(c.get("groups", 1), "groups", c.where))
    c.ctx.helpers.add("_conv")
    expr = f"_conv({c.x}, {c.need('kernel')}, {strides!r}, {dil!r}, {pad!r}, groups={groups})"
    what = f"convolution strides={strides} dilation={dil} padding={pad} groups={groups}"
    return _biased(c, expr, what, out)


@_tr("DepthwiseConv1D", "DepthwiseConv2D")
def _dwconv(c: _Call, out: str) -> tuple[str, list[str]]:
    n = 1 if c.cfg.class_name.endswith("1D") else 2
    strides, dil, pad = _conv_params(c, n)
    c.ctx.helpers.add("_depthwise")
    kernel = c.w("depthwise_kernel") or c.need("kernel")  # Keras 3 names it `kernel`
    expr = f"_depthwise({c.x}, {kernel}, {strides!r}, {dil!r}, {pad!r})"
    return _biased(c, expr, f"depthwise convolution strides={strides} dilation={dil} padding={pad}",
                   out)


@_tr("SeparableConv1D", "SeparableConv2D")
def _sepconv(c: _Call, out: str) -> tuple[str, list[str]]:
    n = 1 if c.cfg.class_name.endswith("1D") else 2
    strides, dil, pad = _conv_params(c, n)
    c.ctx.helpers.update(("_depthwise", "_conv"))
    ones = (1,) * n
    dw = f"_depthwise({c.x}, {c.need('depthwise_kernel')}, {strides!r}, {dil!r}, {pad!r})"
    expr = f"_conv({dw}, {c.need('pointwise_kernel')}, {ones!r}, {ones!r}, 'valid')"
    what = f"depthwise (strides={strides} dilation={dil} padding={pad}) then pointwise 1x1"
    return _biased(c, expr, what, out)


@_tr("MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
     "AveragePooling3D")
def _pool(c: _Call, out: str) -> tuple[str, list[str]]:
    n = int(c.cfg.class_name[-2])
    c.channels_last()
    pool = _ints(c.get("pool_size", 2), n, "pool_size", c.where)
    s = c.get("strides", None)
    strides = pool if s is None else _ints(s, n, "strides", c.where)
    pad = _choice(c.get("padding", "valid"), ("valid", "same"), "padding", c.where)
    fn = "_max_pool" if c.cfg.class_name.startswith("Max") else "_avg_pool"
    c.ctx.helpers.add(fn)
    return (f"{fn[1:]} pool_size={pool} strides={strides} padding={pad}",
            [f"{out} = {fn}({c.x}, {pool!r}, {strides!r}, {pad!r})"])


@_tr("GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
     "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D")
def _gpool(c: _Call, out: str) -> tuple[str, list[str]]:
    rank = c.rank
    fmt = c.get("data_format", "channels_last") or "channels_last"
    axes = tuple(range(1, rank - 1)) if fmt == "channels_last" else tuple(range(2, rank))
    keep = bool(c.get("keepdims", False))
    fn = "np.max" if "Max" in c.cfg.class_name else "np.mean"
    if len(c.ins) != 1:
        raise ExportError(f"{c.where}: a mask input is not supported")
    return (f"{fn[3:]} over axes {axes}",
            [f"{out} = {fn}({c.x}, axis={axes!r}, keepdims={keep})"])


@_tr("ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D")
def _zeropad(c: _Call, out: str) -> tuple[str, list[str]]:
    n = int(c.cfg.class_name[-2])
    c.channels_last()
    p = c.get("padding", 1)
    pads: list[tuple[int, int]] = []
    if isinstance(p, int) and not isinstance(p, bool):
        pads = [(p, p)] * n
    elif isinstance(p, (list, tuple)) and len(p) == n:
        for q in p:
            if isinstance(q, int) and not isinstance(q, bool):
                pads.append((q, q))
            elif isinstance(q, (list, tuple)) and len(q) == 2 and all(
                    isinstance(i, int) and not isinstance(i, bool) for i in q):
                pads.append((int(q[0]), int(q[1])))
            else:
                raise ExportError(f"{c.where}: padding {p!r} is not understood")
    elif n == 1 and isinstance(p, (list, tuple)) and len(p) == 2:
        pads = [(int(p[0]), int(p[1]))]
    else:
        raise ExportError(f"{c.where}: padding {p!r} is not understood")
    full = [(0, 0), *pads, (0, 0)]
    return f"zero padding {pads}", [f"{out} = np.pad({c.x}, {full!r})"]


@_tr("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")
def _merge(c: _Call, out: str) -> tuple[str, list[str]]:
    cls = c.cfg.class_name
    if len(c.ins) < 1:
        raise ExportError(f"{c.where}: no inputs")
    if cls == "Subtract":
        if len(c.ins) != 2:
            raise ExportError(f"{c.where}: Subtract needs two inputs")
        return "y = a - b", [f"{out} = {c.ins[0]} - {c.ins[1]}"]
    op = {"Add": " + ", "Multiply": " * ", "Average": " + "}
    if cls in op:
        expr = op[cls].join(c.ins)
        if cls == "Average":
            expr = f"({expr}) / {len(c.ins)}"
        return f"{cls.lower()} of {len(c.ins)} inputs", [f"{out} = {expr}"]
    fn = "np.maximum" if cls == "Maximum" else "np.minimum"
    expr = c.ins[0]
    for x in c.ins[1:]:
        expr = f"{fn}({expr}, {x})"
    return f"elementwise {cls.lower()}", [f"{out} = {expr}"]


@_tr("Concatenate")
def _concat(c: _Call, out: str) -> tuple[str, list[str]]:
    axis = _axes(c.get("axis", -1), c.rank, c.where)[0]
    return (f"concatenate on axis {axis}",
            [f"{out} = np.concatenate([{', '.join(c.ins)}], axis={axis})"])


# --------------------------------------------------------------------------- models


def _node_offset(layer: graph.Layer, version: int) -> int:
    """Serialized node indices of a nested model count its own input->output node."""
    m = layer.model
    if m is None or not m.built:
        return 0
    if m.class_name == "Sequential":
        return 1 if version == 2 else 0
    return 1


def _model_function(model: graph.Model, fn_name: str, ctx: _Ctx, title: str) -> str:
    if not model.built:
        raise ExportError(f"model `{_clean(model.name)}` was saved unbuilt (no input shape)")
    for la in model.layers:
        if la.unknown is not None:
            raise ExportError(f"layer `{_clean(la.name)}` ({_clean(la.class_name)}) "
                              f"cannot be modelled: {_clean(la.unknown)}")
    used: set[str] = {"weights", "x", "np", "math", "mean", "var"}
    env: dict[tuple[str, int, int], str] = {}
    lines: list[str] = []
    n_in = len(model.inputs)
    for i, ref in enumerate(model.inputs):
        var = _ident(ref.layer, used)
        env[(ref.layer, ref.node_index, ref.tensor_index)] = var
        src = "x" if n_in == 1 else f"x[{i}]"
        lines.append(f"    {var} = np.asarray({src}, dtype=np.float32)  # input "
                     f"`{_clean(ref.layer)}`")
    # Pending calls in model.layers order; a call runs once its inputs exist.
    pending: list[tuple[int, graph.Layer, int, graph.CallNode]] = []
    for pos, la in enumerate(model.layers):
        if la.class_name == "InputLayer":
            continue
        off = _node_offset(la, ctx.version)
        for j, node in enumerate(la.nodes):
            pending.append((pos, la, j + off, node))
    while pending:
        ready = [i for i, item in enumerate(pending)
                 if all((r.layer, r.node_index, r.tensor_index) in env for r in item[3].inputs)]
        if not ready:
            pos, la, nidx, node = pending[0]
            missing = [r.layer for r in node.inputs
                       if (r.layer, r.node_index, r.tensor_index) not in env]
            raise ExportError(
                f"layer `{_clean(la.name)}` takes its input from `{_clean(missing[0])}`, "
                "which is not a layer the export can compute (a Keras operation?)")
        k = ready[0]
        pos, la, nidx, node = pending[k]
        keys = [(r.layer, r.node_index, r.tensor_index) for r in node.inputs]
        pending.pop(k)
        ins = [env[key] for key in keys]
        n_out = max(1, len(node.output_shapes))
        outs = [_ident(la.name if nidx == 0 else f"{la.name}_call{nidx}", used)
                for _ in range(n_out)]
        for t, v in enumerate(outs):
            env[(la.name, nidx, t)] = v
        lines.extend(_layer_block(la, pos, node, ins, outs, ctx))
    results = [env.get((r.layer, r.node_index, r.tensor_index)) for r in model.outputs]
    if any(r is None for r in results):
        raise ExportError(f"model `{_clean(model.name)}`: an output is not computed")
    ret = results[0] if len(results) == 1 else "[" + ", ".join(str(r) for r in results) + "]"
    doc = f'    """{title}"""'
    sig = f"def {fn_name}(x, weights):"
    return "\n".join([sig, doc, *lines, f"    return {ret}"])


def _layer_block(la: graph.Layer, pos: int, node: graph.CallNode, ins: list[str],
                 outs: list[str], ctx: _Ctx) -> list[str]:
    where = f"layer `{_clean(la.name)}` ({_clean(la.class_name)})"
    header = f"    # layers[{pos}] {_clean(la.name)} ({_clean(la.class_name)})"
    if la.model is not None:
        base = "_forward_" + re.sub(r"\W", "_", la.name.encode("ascii", "replace").decode())
        name, n = base, 1
        while name in ctx.fn_names:
            n += 1
            name = f"{base}_{n}"
        ctx.fn_names.add(name)
        ctx.functions.append(_model_function(
            la.model, name, ctx, f"Nested model `{_clean(la.name)}` "
            f"({_clean(la.model.class_name)})."))
        arg = ins[0] if len(ins) == 1 else "[" + ", ".join(ins) + "]"
        call = f"{name}({arg}, weights)"
        tgt = outs[0] if len(outs) == 1 else ", ".join(outs)
        idx = [w.index for w in la.weights]
        rng = f"; weights[{idx[0]}..{idx[-1]}]" if idx else ""
        return [f"{header}: nested model{rng}", f"    {tgt} = {call}"]
    cls = canonical_class(la.class_name)
    fn = _TRANSLATORS.get(cls)
    if fn is None:
        raise ExportError(f"{where}: layer class `{_clean(la.class_name)}` is not supported "
                          "by the NumPy export")
    if len(outs) != 1:
        raise ExportError(f"{where}: layers with several outputs are not supported")
    call = _Call(la, pos, node, ins, Config(cls, dict(la.config), ctx.version), where, ctx)
    comment, code = fn(call, outs[0])
    refs = _wrefs(call)
    lines = [f"{header}: {_clean(comment)}"]
    if refs:
        lines.append(f"    #   {refs}")
    return lines + [f"    {ln}" for ln in code]


def _helpers_text(names: set[str]) -> str:
    order: list[str] = []

    def add(n: str) -> None:
        if n in order:
            return
        for d in _HELPERS[n][1]:
            add(d)
        order.append(n)

    for n in sorted(names):
        add(n)
    return "\n\n\n".join(_HELPERS[n][0] for n in order)


_LOADER = '''
def load_weights(path):
    """The model.get_weights() list, read with h5py (no TensorFlow, no Keras)."""
    if zipfile.is_zipfile(path):  # .keras archive: the arrays are in model.weights.h5
        with zipfile.ZipFile(path) as zf:
            f = h5py.File(io.BytesIO(zf.read("model.weights.h5")), "r")
    else:  # legacy .h5: model_weights/<layer>/<weight name>
        f = h5py.File(path, "r")
    with f:
        return [np.array(f[name]) for name in DATASETS]
'''


_CKPT_LOADER = '''
def load_weights(path):
    """The model.get_weights() list, read from the raw little-endian tensors of the TF
    checkpoint (a SavedModel directory's variables/, or a checkpoint prefix); no TensorFlow."""
    if os.path.isdir(path):
        prefix = os.path.join(path, "variables", "variables")
    else:
        prefix = path[: -len(".index")] if path.endswith(".index") else path
    out = []
    for shard, offset, dtype, shape in DATASETS:
        count = math.prod(shape)
        with open(prefix + shard, "rb") as f:
            f.seek(offset)
            array = np.fromfile(f, dtype=dtype, count=count)
        if array.size != count:
            raise ValueError(f"{prefix + shard} is truncated")
        out.append(array.reshape(shape))
    return out
'''


def export_numpy(path: str | Path, model: graph.Model | None = None) -> str:
    """The text of a standalone module computing ``model.predict`` for the model at ``path``.

    ``path`` holds the weights (a saved model, or a weights-only file when ``model``, the
    architecture read elsewhere, is given).  Raises
    :class:`bnlint.readers.saved.ReadError` when the file cannot be read and
    :class:`ExportError` when a layer cannot be translated exactly.
    """
    with WeightsFile(path, model) as wf:
        model = wf.model
        fmt = wf.format
        checkpoint = fmt in ("savedmodel", "checkpoint")
        datasets: list[Any] = [r.dataset for r in wf.refs]
        if checkpoint:  # (shard suffix, offset, dtype, shape): raw reads, no index parsing
            entries = [wf.ckpt.entries[d] for d in datasets]
            datasets = [(wf.ckpt.shard_path(e.shard)[len(wf.ckpt.prefix):], int(e.offset),
                         str(np.dtype(e.numpy_dtype).str), tuple(int(d) for d in e.shape))
                        for e in entries]
        described = [f"{r.layer_path}/{r.name} {tuple(r.shape)}" for r in wf.refs]
    ctx = _Ctx(model.keras_version)
    main = _model_function(model, "forward", ctx,
                           "What model.predict(x) returns (inference mode: dropout off, "
                           "BatchNormalization uses its moving statistics).")
    helpers = _helpers_text(ctx.helpers)
    ds_lines = "\n".join(f"    {d!r},  # [{i}] {_clean(s)}"
                         for i, (d, s) in enumerate(zip(datasets, described, strict=True)))
    src = _clean(Path(path).name)
    parts = [
        f'"""Inference pass of model `{_clean(model.name)}` ({_clean(model.class_name)}, '
        f"Keras {model.keras_version}) as plain NumPy.\n\nGenerated by `bnlint export "
        f"{src} --to numpy`. Usage::\n\n    weights = load_weights({src!r})\n"
        '    y = forward(x, weights)  # == model.predict(x)\n"""',
        "import math\nimport os\n\nimport numpy as np" if checkpoint else
        "import io\nimport math  # noqa: F401\nimport zipfile\n\nimport h5py\nimport numpy as np",
        f"# Where each model.get_weights() array is stored in the file, in get_weights() order.\n"
        f"DATASETS = [\n{ds_lines}\n]" if datasets else "DATASETS = []",
        (_CKPT_LOADER if checkpoint else _LOADER).strip("\n"),
    ]
    if helpers:
        parts.append(helpers)
    parts.extend(ctx.functions)
    parts.append(main)
    return "\n\n\n".join(parts) + "\n"
