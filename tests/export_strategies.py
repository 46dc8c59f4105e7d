"""Random small models covering every layer the NumPy export supports (hypothesis strategies; no tests here).

A spec is plain data (JSON-able) so a failing example prints readably::

    {"input": [6, 6, 2], "int": False, "seq": False,
     "ops": [["Conv2D", {...}], ["merge", "Add", [["Dense", {...}]], [["ReLU", {...}]]], ...]}

``build(spec, k)`` builds it with the given Keras module (``keras`` or ``tf_keras``).
Shapes are tracked while drawing so every drawn layer is valid for its input.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

ACTS_3 = ["linear", "relu", "relu6", "leaky_relu", "sigmoid", "softmax", "log_softmax", "tanh",
          "elu", "selu", "gelu", "swish", "silu", "softplus", "softsign", "exponential", "mish",
          "hard_sigmoid", "hard_silu", "hard_swish", "tanh_shrink", "hard_tanh", "squareplus",
          "sparse_plus", "celu"]
ACTS_2 = ["linear", "relu", "sigmoid", "softmax", "tanh", "elu", "selu", "gelu", "swish",
          "softplus", "softsign", "exponential", "mish", "hard_sigmoid"]
MAX_ELEMENTS = 256


def _acts(version: int) -> list[str]:
    return ACTS_3 if version == 3 else ACTS_2


def _size(shape: list[int]) -> int:
    return math.prod(shape)


def _out_len(n: int, k: int, s: int, d: int, padding: str) -> int:
    eff = (k - 1) * d + 1
    if padding in ("same", "causal"):
        return -(-n // s)
    return (n - eff) // s + 1


@st.composite
def _any_rank(draw: Any, shape: list[int], version: int) -> tuple[list, list[int]]:
    rank = len(shape) + 1
    kind = draw(st.sampled_from(
        ["BatchNormalization", "Dense", "BatchNormalization", "LayerNormalization", "Activation",
         "BatchNormalization", "Dense", "Dropout",
         "GaussianNoise", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "Rescaling"]))
    if kind == "Dense":
        units = draw(st.integers(1, 8))
        while _size(shape[:-1]) * units > MAX_ELEMENTS:
            units = max(1, units // 2)
            if units == 1:
                break
        act = draw(st.sampled_from(_acts(version)))
        return ["Dense", {"units": units, "activation": act,
                          "use_bias": draw(st.booleans())}], [*shape[:-1], units]
    if kind == "BatchNormalization":
        axis = draw(st.integers(1, rank - 1))
        if draw(st.booleans()):
            axis -= rank
        return ["BatchNormalization", {
            "axis": axis, "center": draw(st.booleans()), "scale": draw(st.booleans()),
            "epsilon": draw(st.sampled_from([1e-3, 1e-5, 0.1]))}], shape
    if kind == "LayerNormalization":
        return ["LayerNormalization", {
            "axis": -1, "center": draw(st.booleans()), "scale": draw(st.booleans()),
            "epsilon": draw(st.sampled_from([1e-3, 1e-6]))}], shape
    if kind == "Activation":
        return ["Activation", {"activation": draw(st.sampled_from(_acts(version)))}], shape
    if kind == "Dropout":
        return ["Dropout", {"rate": 0.5}], shape
    if kind == "GaussianNoise":
        return ["GaussianNoise", {"stddev": 0.3}], shape
    if kind == "ReLU":
        return ["ReLU", {"max_value": draw(st.sampled_from([None, 0.5, 6.0])),
                         "negative_slope": draw(st.sampled_from([0.0, 0.1])),
                         "threshold": draw(st.sampled_from([0.0, 0.2]))}], shape
    if kind == "LeakyReLU":
        key = "negative_slope" if version == 3 else "alpha"
        return ["LeakyReLU", {key: draw(st.sampled_from([0.01, 0.3]))}], shape
    if kind == "PReLU":
        shared = [1] if len(shape) >= 2 and draw(st.booleans()) else None
        return ["PReLU", {"shared_axes": shared}], shape
    if kind == "ELU":
        return ["ELU", {"alpha": draw(st.sampled_from([1.0, 0.5]))}], shape
    if kind == "Softmax":
        return ["Softmax", {"axis": draw(st.integers(1, rank - 1))}], shape
    return ["Rescaling", {"scale": 0.5, "offset": draw(st.sampled_from([0.0, -1.0]))}], shape


@st.composite
def _rank3(draw: Any, shape: list[int], version: int) -> tuple[list, list[int]]:
    n, c = shape
    kind = draw(st.sampled_from(["Conv1D", "Conv1D", "MaxPooling1D", "AveragePooling1D",
                                 "ZeroPadding1D", "GlobalAveragePooling1D",
                                 "GlobalMaxPooling1D", "Flatten", "SeparableConv1D"]))
    if kind in ("Conv1D", "SeparableConv1D"):
        k = draw(st.integers(1, min(3, n)))
        pads = ["valid", "same", "causal"] if kind == "Conv1D" else ["valid", "same"]
        padding = draw(st.sampled_from(pads))
        d = draw(st.sampled_from([1, 2])) if (k - 1) * 2 + 1 <= n else 1
        s = 1 if d > 1 else draw(st.sampled_from([1, 2]))
        filters = draw(st.integers(1, 6))
        cfg: dict[str, Any] = {"filters": filters, "kernel_size": k, "strides": s,
                               "padding": padding, "dilation_rate": d,
                               "activation": draw(st.sampled_from(_acts(version)))}
        if kind == "Conv1D" and c > 1 and draw(st.booleans()):
            g = draw(st.sampled_from([g for g in range(2, c + 1) if c % g == 0]))
            cfg["groups"] = g
            cfg["filters"] = g * draw(st.integers(1, 2))
        if kind == "SeparableConv1D":
            cfg["depth_multiplier"] = draw(st.integers(1, 2))
        out = _out_len(n, k, s, d, padding)
        if out < 1:
            return ["Dropout", {"rate": 0.1}], shape
        return [kind, cfg], [out, cfg["filters"]]
    if kind in ("MaxPooling1D", "AveragePooling1D"):
        p = draw(st.integers(1, min(3, n)))
        s = draw(st.sampled_from([None, 1, 2]))
        padding = draw(st.sampled_from(["valid", "same"]))
        out = _out_len(n, p, s or p, 1, padding)
        return [kind, {"pool_size": p, "strides": s, "padding": padding}], [out, c]
    if kind == "ZeroPadding1D":
        a, b = draw(st.integers(0, 2)), draw(st.integers(0, 2))
        return [kind, {"padding": [a, b]}], [n + a + b, c]
    if kind.startswith("Global"):
        keep = draw(st.booleans())
        return [kind, {"keepdims": keep}], [1, c] if keep else [c]
    return ["Flatten", {}], [n * c]


@st.composite
def _rank4(draw: Any, shape: list[int], version: int) -> tuple[list, list[int]]:
    h, w, c = shape
    kind = draw(st.sampled_from(["Conv2D", "Conv2D", "DepthwiseConv2D", "DepthwiseConv2D",
                                 "SeparableConv2D",
                                 "MaxPooling2D", "AveragePooling2D", "ZeroPadding2D",
                                 "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Flatten",
                                 "Reshape"]))
    if kind in ("Conv2D", "DepthwiseConv2D", "SeparableConv2D"):
        kh, kw = draw(st.integers(1, min(3, h))), draw(st.integers(1, min(3, w)))
        padding = draw(st.sampled_from(["valid", "same"]))
        d = 2 if (kind == "Conv2D" and draw(st.booleans()) and 2 * kh - 1 <= h
                  and 2 * kw - 1 <= w) else 1
        s = 1 if d > 1 else draw(st.sampled_from([1, 2]))
        cfg: dict[str, Any] = {"kernel_size": [kh, kw], "strides": s, "padding": padding,
                               "activation": draw(st.sampled_from(_acts(version))),
                               "use_bias": draw(st.booleans())}
        if kind == "DepthwiseConv2D":
            cfg["depth_multiplier"] = draw(st.integers(1, 2))
            cout = c * cfg["depth_multiplier"]
        else:
            cfg["filters"] = cout = draw(st.integers(1, 5))
            if kind == "Conv2D":
                cfg["dilation_rate"] = d
                if c > 1 and draw(st.booleans()):
                    g = draw(st.sampled_from([g for g in range(2, c + 1) if c % g == 0]))
                    cfg["groups"] = g
                    cfg["filters"] = cout = g * draw(st.integers(1, 2))
            else:
                cfg["depth_multiplier"] = draw(st.integers(1, 2))
        oh, ow = _out_len(h, kh, s, d, padding), _out_len(w, kw, s, d, padding)
        return [kind, cfg], [oh, ow, cout]
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        p = [draw(st.integers(1, min(3, h))), draw(st.integers(1, min(3, w)))]
        s = draw(st.sampled_from([None, 1, 2]))
        padding = draw(st.sampled_from(["valid", "same"]))
        ss = p if s is None else [s, s]
        return [kind, {"pool_size": p, "strides": s, "padding": padding}], [
            _out_len(h, p[0], ss[0], 1, padding), _out_len(w, p[1], ss[1], 1, padding), c]
    if kind == "ZeroPadding2D":
        t, b, left, r = (draw(st.integers(0, 1)) for _ in range(4))
        if (h + t + b) * (w + left + r) * c > MAX_ELEMENTS:
            return ["Dropout", {"rate": 0.1}], shape
        return [kind, {"padding": [[t, b], [left, r]]}], [h + t + b, w + left + r, c]
    if kind.startswith("Global"):
        keep = draw(st.booleans())
        return [kind, {"keepdims": keep}], [1, 1, c] if keep else [c]
    if kind == "Reshape":
        return ["Reshape", {"target_shape": [h * w, c]}], [h * w, c]
    return ["Flatten", {}], [h * w * c]


@st.composite
def _layer(draw: Any, shape: list[int], version: int) -> tuple[list, list[int]]:
    options = [_any_rank]
    if len(shape) == 2:
        options += [_rank3, _rank3, _rank3]
    if len(shape) == 3:
        options += [_rank4, _rank4, _rank4]
    fn = draw(st.sampled_from(options))
    return draw(fn(shape, version))


@st.composite
def model_specs(draw: Any, version: int) -> dict[str, Any]:
    kind = draw(st.sampled_from(["vec", "seq", "img", "tokens"]))
    is_int = False
    ops: list[list] = []
    if kind == "vec":
        shape = [draw(st.integers(2, 8))]
    elif kind == "seq":
        shape = [draw(st.integers(4, 10)), draw(st.integers(1, 4))]
    elif kind == "img":
        shape = [draw(st.integers(4, 8)), draw(st.integers(4, 8)), draw(st.integers(1, 3))]
    else:
        shape = [draw(st.integers(3, 8))]
        is_int = True
    inp = list(shape)
    if is_int:
        dim = draw(st.integers(1, 4))
        ops.append(["Embedding", {"input_dim": 10, "output_dim": dim}])
        shape = [shape[0], dim]
    n = draw(st.integers(2, 6))
    seq = draw(st.booleans())
    for _ in range(2 * n):
        if len(ops) >= n + is_int:
            break
        if not seq and draw(st.integers(0, 3)) == 0:
            merge = draw(st.sampled_from(["Add", "Multiply", "Average", "Subtract", "Maximum",
                                          "Minimum", "Concatenate"]))
            a, sa = draw(_layer(shape, version))
            if merge == "Concatenate":
                b, sb = draw(_layer(shape, version))
                if len(sa) != len(sb) or sa[:-1] != sb[:-1]:
                    b, sb = ["Activation", {"activation": "tanh"}], shape
                    if sa[:-1] != sb[:-1] or len(sa) != len(sb):
                        continue
                ops.append(["merge", merge, [a], [b]])
                shape = [*sa[:-1], sa[-1] + sb[-1]]
            else:
                b = ["Activation", {"activation": draw(st.sampled_from(_acts(version)))}]
                if sa != shape:
                    continue
                ops.append(["merge", merge, [a], [b]])
            continue
        op, new = draw(_layer(shape, version))
        if _size(new) > MAX_ELEMENTS or min(new) < 1:
            continue
        ops.append(op)
        shape = new
    return {"input": inp, "int": is_int, "seq": seq, "ops": ops, "version": version}


def spec_classes(spec: dict[str, Any]) -> set[str]:
    out = set()
    for op in spec["ops"]:
        if op[0] == "merge":
            out.add(op[1])
            for br in op[2:]:
                out.update(o[0] for o in br)
        else:
            out.add(op[0])
    return out


def _make(k: Any, op: list) -> Any:
    cls, cfg = op
    return getattr(k.layers, cls)(**cfg)


def build(spec: dict[str, Any], k: Any) -> Any:
    dtype = "int32" if spec["int"] else "float32"
    if spec["seq"] and all(op[0] != "merge" for op in spec["ops"]):
        return k.Sequential([k.Input(shape=tuple(spec["input"]), dtype=dtype),
                             *(_make(k, op) for op in spec["ops"])])
    x = inp = k.Input(shape=tuple(spec["input"]), dtype=dtype)
    for op in spec["ops"]:
        if op[0] == "merge":
            a = x
            for o in op[2]:
                a = _make(k, o)(a)
            b = x
            for o in op[3]:
                b = _make(k, o)(b)
            x = getattr(k.layers, op[1])()([a, b])
        else:
            x = _make(k, op)(x)
    return k.Model(inp, x)
