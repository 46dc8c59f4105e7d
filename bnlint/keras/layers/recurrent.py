"""Recurrent layers: SimpleRNN, LSTM, GRU, RNN(cell), ConvLSTM1D/2D/3D.

Every recurrent layer owns its cell as a sublayer (``lstm/lstm_cell/kernel``);
the layer itself creates no variables.  Output shapes follow
``keras.src.layers.rnn.rnn.RNN.compute_output_shape`` (Keras 3) and the traced
call of ``tf_keras.src.layers.rnn.base_rnn.RNN`` (Keras 2), which agree except
for tf-keras's ``time_major``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bnlint.keras.catalogue import (
    Built,
    Call,
    Config,
    Shape,
    SubLayer,
    Unknown,
    WeightSpec,
    layer_rule,
)
from bnlint.keras.layers._shapes import Dim, conv_output_length, require_known
from bnlint.keras.layers.core import check_plain_dtype
from bnlint.symbolic import Size, Sym, mul

# Keras's fixed names for the cell a built-in recurrent layer creates.
CELL_NAMES = {
    "SimpleRNN": ("SimpleRNNCell", "simple_rnn_cell"),
    "LSTM": ("LSTMCell", "lstm_cell"),
    "GRU": ("GRUCell", "gru_cell"),
}

# Constructor defaults shared by Keras 3 and tf-keras (used until the
# generated signature data provides them).
RNN_DEFAULTS: dict[str, Any] = {
    "return_sequences": False,
    "return_state": False,
    "go_backwards": False,
    "stateful": False,
    "unroll": False,
    "time_major": False,
    "use_bias": True,
    "reset_after": True,
}


def snake_case(class_name: str) -> str:
    """``keras.src.utils.naming.to_snake_case``: the default name of a layer."""
    name = re.sub(r"\W+", "", class_name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def nested_layer(value: Any, what: str) -> tuple[str, dict[str, Any]]:
    """``{"class_name": ..., "config": {...}}`` of a wrapped layer or cell."""
    if isinstance(value, dict) and isinstance(value.get("class_name"), str):
        config = value.get("config") or {}
        if not isinstance(config, dict):
            raise Unknown(f"{what}: the nested config is not a dict")
        return value["class_name"], dict(config)
    raise Unknown(f"{what}: the nested layer config is not understood ({value!r})")


def layer_name(values: dict[str, Any], class_name: str) -> str:
    name = values.get("name")
    return name if isinstance(name, str) else snake_case(class_name)


def positive(v: Size, what: str) -> Size:
    if isinstance(v, int) and v <= 0:
        raise Unknown(f"`{what}` must be a positive integer, got {v}")
    return v


@dataclass
class CellInfo:
    """What an RNN needs to know about a built cell."""

    class_name: str
    name: str
    built: Built
    state_sizes: list[Any]  # flat ints/Syms, or nested lists for StackedRNNCells
    output_size: Size


def _flat(states: list[Any]) -> list[Size]:
    out: list[Size] = []
    for s in states:
        if isinstance(s, list):
            out += _flat(s)
        else:
            out.append(s)
    return out


def build_cell(class_name: str, values: dict[str, Any], step: Shape, version: int) -> CellInfo:
    """Build a recurrent cell on the shape of one time step ``(batch, features)``."""
    cfg = Config(class_name, values, version)
    name = layer_name(values, class_name)
    if class_name == "StackedRNNCells":
        cells = cfg.get("cells")
        if not isinstance(cells, (list, tuple)) or not cells:
            raise Unknown("StackedRNNCells: `cells` is not a non-empty list")
        subs: list[SubLayer] = []
        states: list[Any] = []
        shape = step
        last: CellInfo | None = None
        for c in cells:
            cls, vals = nested_layer(c, "StackedRNNCells cell")
            info = build_cell(cls, vals, shape, version)
            subs.append(SubLayer(info.name, info.class_name, info.built))
            states.append(info.state_sizes if len(info.state_sizes) > 1 else info.state_sizes[0])
            shape = (shape[0], info.output_size)
            last = info
        assert last is not None
        return CellInfo(class_name, name, Built([], [], subs), states, last.output_size)

    if class_name not in ("SimpleRNNCell", "LSTMCell", "GRUCell"):
        raise Unknown(f"RNN cell class `{class_name}` is not modelled")
    if len(step) != 2:
        raise Unknown(f"{class_name}: a time step of rank {len(step)} is not modelled")
    units = positive(cfg.size("units"), "units")
    input_dim = require_known(step[-1], f"the feature axis of {class_name}'s input")
    gates = {"SimpleRNNCell": 1, "LSTMCell": 4, "GRUCell": 3}[class_name]
    weights = [
        WeightSpec("kernel", (input_dim, mul(units, gates))),
        WeightSpec("recurrent_kernel", (units, mul(units, gates))),
    ]
    if cfg.flag("use_bias", True):
        if class_name == "GRUCell" and cfg.flag("reset_after", True):
            weights.append(WeightSpec("bias", (2, mul(units, 3))))
        else:
            weights.append(WeightSpec("bias", (mul(units, gates),)))
    states: list[Any] = [units, units] if class_name == "LSTMCell" else [units]
    return CellInfo(class_name, name, Built([], weights), states, units)


def _check_unroll_and_state(call: Call, batch: Dim, time: Dim) -> None:
    # Keras 3 never runs the loop for a symbolic call; tf-keras traces it.
    if call.version == 2 and call.cfg.flag("unroll", False) and time is None:
        raise Unknown("unroll=True needs a known number of time steps")
    if call.cfg.flag("stateful", False) and batch is None:
        raise Unknown("stateful=True needs a known batch size")


def rnn_outputs(call: Call, x: Shape, cell: CellInfo) -> list[Shape]:
    if call.version == 3 and "time_major" in call.cfg.values:
        raise Unknown("`time_major` is not a Keras 3 argument")
    batch, time = x[0], x[1]
    time_major = call.version == 2 and call.cfg.flag("time_major", False)
    if time_major:
        batch, time = time, batch
    _check_unroll_and_state(call, batch, time)
    out: Shape
    if call.cfg.flag("return_sequences", False):
        out = (time, batch, cell.output_size) if time_major else (batch, time, cell.output_size)
    else:
        out = (batch, cell.output_size)
    outputs = [out]
    if call.cfg.flag("return_state", False):
        outputs += [(batch, s) for s in _flat(cell.state_sizes)]
    return outputs


def _sequence_input(call: Call) -> Shape:
    check_plain_dtype(call)
    # Extra inputs are initial states (``layer(x, initial_state=[h, c])``):
    # they change neither the weights nor the output shapes.
    if not call.inputs:
        raise Unknown(f"{call.cfg.class_name} was called without inputs")
    x = call.inputs[0]
    if len(x) != 3:
        raise Unknown(f"{call.cfg.class_name} expects a 3D input, got rank {len(x)}")
    return x


@layer_rule("SimpleRNN", "LSTM", "GRU")
def recurrent(call: Call) -> Built:
    x = _sequence_input(call)
    cell_class, cell_name = CELL_NAMES[call.cfg.class_name]
    # The layer forwards its own config to the cell it creates.
    values = {k: v for k, v in call.cfg.values.items() if k != "name"}
    for key in ("units", "use_bias", "reset_after"):
        if key not in values and key in call.cfg.defaults:
            values[key] = call.cfg.defaults[key]
    if "units" not in values:
        raise Unknown(f"{call.cfg.class_name}: no value for `units`")
    values["name"] = cell_name
    cell = build_cell(cell_class, values, (x[0], x[2]), call.version)
    return Built(
        rnn_outputs(call, x, cell),
        sublayers=[SubLayer(cell.name, cell.class_name, cell.built)],
    )


@layer_rule("RNN")
def rnn(call: Call) -> Built:
    x = _sequence_input(call)
    cell_cfg = call.cfg.get("cell")
    if isinstance(cell_cfg, (list, tuple)):
        cell_cfg = {"class_name": "StackedRNNCells", "config": {"cells": list(cell_cfg)}}
    cls, values = nested_layer(cell_cfg, "RNN cell")
    cell = build_cell(cls, values, (x[0], x[2]), call.version)
    return Built(
        rnn_outputs(call, x, cell),
        sublayers=[SubLayer(cell.name, cell.class_name, cell.built)],
    )


@layer_rule("SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells")
def bare_cell(call: Call) -> Built:
    raise Unknown(
        f"{call.cfg.class_name} called directly on (input, states) is not modelled;"
        " wrap it in RNN(...)"
    )


CONV_LSTM_RANK = {"ConvLSTM1D": 1, "ConvLSTM2D": 2, "ConvLSTM3D": 3}


@layer_rule(*CONV_LSTM_RANK)
def conv_lstm(call: Call) -> Built:
    check_plain_dtype(call)
    cfg = call.cfg
    rank = CONV_LSTM_RANK[cfg.class_name]
    if not call.inputs:
        raise Unknown(f"{cfg.class_name} was called without inputs")
    x = call.inputs[0]
    if len(x) != rank + 3:
        raise Unknown(f"{cfg.class_name} expects a {rank + 3}D input, got rank {len(x)}")
    filters = positive(cfg.size("filters"), "filters")
    kernel = cfg.tuple("kernel_size", rank)
    strides = cfg.tuple("strides", rank, 1)
    dilation = cfg.tuple("dilation_rate", rank, 1)
    padding = str(cfg.get("padding", "valid")).lower()
    if padding not in ("valid", "same"):
        raise Unknown(f"{cfg.class_name}: padding={padding!r} is not modelled")
    fmt = cfg.get("data_format", None) or "channels_last"
    if fmt not in ("channels_last", "channels_first"):
        raise Unknown(f"data_format={fmt!r} is not understood")
    if any(isinstance(s, int) and s > 1 for s in strides) and any(
        isinstance(d, int) and d > 1 for d in dilation
    ):
        raise Unknown("strides > 1 together with dilation_rate > 1 is rejected by Keras")
    if any(isinstance(s, int) and s <= 0 for s in (*kernel, *dilation)) or any(
        isinstance(s, int) and s < 0 for s in strides
    ):
        raise Unknown("non-positive kernel_size/strides/dilation_rate")
    if any(isinstance(s, int) and s == 0 for s in strides):
        raise Unknown("strides of 0 are not modelled")
    batch, time = x[0], x[1]
    step = (x[0], *x[2:])
    if fmt == "channels_first":
        channels, spatial = step[1], list(step[2:])
    else:
        channels, spatial = step[-1], list(step[1:-1])
    in_ch = require_known(channels, f"the channel axis of {cfg.class_name}'s input")
    if call.version == 3 and any(d is None for d in spatial):
        raise Unknown(f"Keras 3 {cfg.class_name} needs static spatial dimensions")
    out_spatial: list[Dim] = []
    if (
        call.version == 2
        and any(d is None for d in spatial)
        and any(not isinstance(d, int) or d > 1 for d in dilation)
    ):
        # tf.nn.convolution dilates through space_to_batch, whose static shape is
        # unknown as soon as one spatial axis is: every spatial axis becomes None.
        out_spatial = [None] * rank
    else:
        for length, k, s, d in zip(spatial, kernel, strides, dilation, strict=True):
            out = conv_output_length(length, k, padding, s, d)
            if isinstance(out, int) and out <= 0:
                raise Unknown(f"{cfg.class_name}: the output size would be zero or negative")
            out_spatial.append(out)
    state: Shape = (
        (batch, filters, *out_spatial)
        if fmt == "channels_first"
        else (batch, *out_spatial, filters)
    )
    if cfg.flag("stateful", False) and batch is None:
        raise Unknown("stateful=True needs a known batch size")
    if cfg.flag("return_sequences", False):
        outputs: list[Shape] = [(batch, time, *state[1:])]
    else:
        outputs = [state]
    if cfg.flag("return_state", False):
        outputs += [state, state]
    weights = [
        WeightSpec("kernel", (*kernel, in_ch, mul(filters, 4))),
        WeightSpec("recurrent_kernel", (*kernel, filters, mul(filters, 4))),
    ]
    if cfg.flag("use_bias", True):
        weights.append(WeightSpec("bias", (mul(filters, 4),)))
    if call.version == 2:
        # tf-keras's ConvRNN builds its cell outside the cell's name scope:
        # the variables are ``conv_lstm2d/kernel:0``, as if the layer's own.
        return Built(outputs, weights)
    return Built(
        outputs, sublayers=[SubLayer("conv_lstm_cell", "ConvLSTMCell", Built([], weights))]
    )


__all__ = ["CellInfo", "Sym", "build_cell", "layer_name", "nested_layer", "snake_case"]
