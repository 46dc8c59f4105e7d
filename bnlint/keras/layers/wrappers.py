"""Layer wrappers: Bidirectional and TimeDistributed.

The wrapped layer's config is nested in ``config["layer"]`` as
``{"class_name", "config"}`` and is evaluated with the same catalogue rules
(:meth:`Call.sub`).
"""

from __future__ import annotations

from typing import Any

from bnlint.keras.catalogue import Built, Call, Shape, SubLayer, Unknown, is_frozen, layer_rule
from bnlint.keras.layers._shapes import broadcast, num_elements
from bnlint.keras.layers.recurrent import layer_name, nested_layer
from bnlint.symbolic import add, mul

MERGE_MODES = ("concat", "sum", "mul", "ave", None)
RECURRENT = ("SimpleRNN", "LSTM", "GRU", "RNN", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")


def _removeprefix(name: str, prefix: str) -> str:
    return name[len(prefix) :] if name.startswith(prefix) else name


def _flag(values: dict[str, Any], key: str) -> bool:
    v = values.get(key, False)
    if not isinstance(v, bool):
        raise Unknown(f"Bidirectional: `{key}` of the wrapped layer is not a known bool")
    return v


@layer_rule("Bidirectional")
def bidirectional(call: Call) -> Built:
    cfg = call.cfg
    merge_mode = cfg.get("merge_mode", "concat")
    if merge_mode not in MERGE_MODES:
        raise Unknown(f"Bidirectional: invalid merge_mode {merge_mode!r}")
    cls, fwd_values = nested_layer(cfg.get("layer"), "Bidirectional layer")
    if cls not in RECURRENT:
        raise Unknown(f"Bidirectional over `{cls}` is not modelled (it needs a recurrent layer)")
    name = layer_name(fwd_values, cls)
    back = cfg.get("backward_layer", None)

    if call.version == 3:
        fwd_name = f"forward_{_removeprefix(name, 'forward_')}"
    else:
        fwd_name = f"forward_{name}"
    fwd_values["name"] = fwd_name

    if back is None:
        back_cls = cls
        bwd_values = dict(fwd_values)
        if call.version == 3:
            bwd_values["go_backwards"] = True
            bwd_name = f"backward_{_removeprefix(name, 'backward_')}"
        else:
            bwd_values["go_backwards"] = not _flag(fwd_values, "go_backwards")
            bwd_name = f"backward_{name}"
    else:
        back_cls, bwd_values = nested_layer(back, "Bidirectional backward_layer")
        if back_cls not in RECURRENT:
            raise Unknown(f"Bidirectional backward_layer `{back_cls}` is not a recurrent layer")
        bwd_name = layer_name(bwd_values, back_cls)
        if call.version == 2:
            bwd_name = f"backward_{bwd_name}"
    bwd_values["name"] = bwd_name

    # Bidirectional._verify_layer_config
    if _flag(fwd_values, "go_backwards") == _flag(bwd_values, "go_backwards"):
        raise Unknown("Bidirectional: forward and backward layers have the same go_backwards")
    for attr in ("stateful", "return_sequences", "return_state"):
        if _flag(fwd_values, attr) != _flag(bwd_values, attr):
            raise Unknown(f"Bidirectional: forward and backward layers differ in `{attr}`")

    if not call.inputs:
        raise Unknown("Bidirectional was called without inputs")
    # Further inputs are initial states; they do not change shapes or weights.
    x = call.inputs[0]
    fwd = call.sub(cls, fwd_values, [x])
    bwd = call.sub(back_cls, bwd_values, [x])

    return_state = _flag(fwd_values, "return_state")
    y, f_states = fwd.outputs[0], fwd.outputs[1:]
    y_rev, b_states = bwd.outputs[0], bwd.outputs[1:]
    if not return_state and (f_states or b_states):
        raise Unknown("Bidirectional: the wrapped layer returns several outputs")

    if call.version == 3:
        # Keras 3 reports compute_output_shape, derived from the forward layer only.
        y_rev, b_states = y, f_states
    if merge_mode == "concat":
        if len(y) != len(y_rev) or any(
            a is not None and b is not None and a != b
            for a, b in zip(y[:-1], y_rev[:-1], strict=False)
        ):
            raise Unknown("Bidirectional: forward and backward outputs cannot be concatenated")
        if y[-1] is None or y_rev[-1] is None:
            if call.version == 3:
                raise Unknown("Bidirectional: Keras 3 cannot double an undefined last axis")
            last = None
        else:
            last = add(y[-1], y_rev[-1])
        merged: list[Shape] = [(*y[:-1], last)]
    elif merge_mode is None:
        merged = [y, y_rev]
    elif call.version == 3:
        merged = [y]
    else:
        merged = [broadcast([y, y_rev])]
    outputs = merged + list(f_states) + list(b_states)
    return Built(
        outputs,
        sublayers=[SubLayer(fwd_name, cls, fwd, is_frozen(fwd_values)),
                   SubLayer(bwd_name, back_cls, bwd, is_frozen(bwd_values))],
    )


@layer_rule("TimeDistributed")
def time_distributed(call: Call) -> Built:
    cls, values = nested_layer(call.cfg.get("layer"), "TimeDistributed layer")
    if len(call.first) != 1:  # a `mask=` tensor may follow in call.inputs
        raise Unknown("TimeDistributed over several inputs is not modelled")
    x = call.first[0]
    if len(x) < 3:
        raise Unknown(f"TimeDistributed needs an input of rank >= 3, got {len(x)}")
    if call.version == 3:
        child_batch = x[0]
    else:
        # tf-keras reshapes built-in layers' input to (-1, *x.shape[2:]).
        total = num_elements(x)
        child_batch = None if total is None else mul(x[0], x[1])  # type: ignore[arg-type]
    child = call.sub(cls, values, [(child_batch, *x[2:])])
    if len(child.outputs) != 1:
        raise Unknown("TimeDistributed over a layer with several outputs is not modelled")
    out = child.outputs[0]
    if len(out) < 1:
        raise Unknown("TimeDistributed: the wrapped layer's output has no batch axis")
    return Built(
        [(x[0], x[1], *out[1:])],
        sublayers=[SubLayer(layer_name(values, cls), cls, child, is_frozen(values))],
    )
