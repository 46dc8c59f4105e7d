"""JSON and Markdown summaries. The JSON layout is a stable contract (see README)."""

from __future__ import annotations

import json
from typing import Any

from bnlint.graph import Dim, Layer, Weight, fmt_shape, layer_notes
from bnlint.summary import ModelSummary, fmt_params, json_count, layer_trainability

JSON_SCHEMA_VERSION = 1


def _dim(d: Dim) -> int | str | None:
    return d if d is None or isinstance(d, int) else str(d)


def _shape(shape: Any) -> list | None:
    return None if shape is None else [_dim(d) for d in shape]


def _weights_json(weights: list[Weight]) -> list[dict[str, Any]]:
    return [{"name": w.name, "shape": _shape(w.shape), "trainable": w.trainable,
             "index": w.index, "dtype": w.dtype} for w in weights]


def layer_json(index: int, layer: Layer) -> dict[str, Any]:
    shapes = layer.output_shapes if layer.unknown is None else []
    return {
        "index": index,
        "name": layer.name,
        "class_name": layer.class_name,
        "output_shape": _shape(shapes[0]) if len(shapes) == 1 else None,
        "output_shapes": [_shape(s) for s in shapes],
        "params": json_count(layer.params),
        "trainable": layer.trainable,
        "built": layer.built,
        "unknown": layer.unknown,
        "weights": _weights_json(layer.weights),
        "model": model_json(_nested_summary(layer)) if layer.model is not None else None,
        "notes": list(layer.notes),
    }


def _nested_summary(layer: Layer) -> ModelSummary:
    from bnlint.summary import summarize

    assert layer.model is not None
    return summarize(layer.model)


def model_json(s: ModelSummary) -> dict[str, Any]:
    m = s.model
    return {
        "name": m.name,
        "variable": m.variable,
        "class_name": m.class_name,
        "keras_version": m.keras_version,
        "source": m.source,
        "location": str(m.location) if m.location and m.location.line is not None else None,
        "total_params": json_count(m.total_params),
        "trainable_params": json_count(m.trainable_params),
        "non_trainable_params": json_count(m.non_trainable_params),
        "totals": s.totals,
        "layers": [layer_json(i, la) for i, la in enumerate(m.layers)],
        "weights": _weights_json(m.weights),
        "batch_normalization": [
            {
                "layer_index": bn.layer_index,
                "name": bn.layer.name,
                "axis": bn.axis,
                "epsilon": bn.epsilon,
                "momentum": bn.momentum,
                "arrays": {role: w.index for role, w in bn.arrays.items()},
                "formula": bn.formula,
            }
            for bn in s.batch_norms
        ],
        "notes": list(m.notes),
    }


def render_json(summaries: list[ModelSummary], errors: list[dict[str, str]] | None = None,
                extra: dict[str, Any] | None = None) -> str:
    doc: dict[str, Any] = {"version": JSON_SCHEMA_VERSION,
                           "models": [model_json(s) for s in summaries]}
    doc.update(extra or {})
    if errors:
        doc["errors"] = errors
    return json.dumps(doc, indent=2) + "\n"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(summaries: list[ModelSummary]) -> str:
    out: list[str] = []
    for s in summaries:
        m = s.model
        bound = f" (`{m.variable}`)" if m.variable else ""
        out.append(f"### Model `{m.name}`{bound} — {m.class_name}, Keras {m.keras_version}")
        out.append("")
        out.append("| # | Layer (type) | Output Shape | Param # | Trainable | get_weights() |")
        out.append("|---:|---|---|---:|---|---|")
        for i, la in enumerate(m.layers):
            shape = "?" if la.unknown else ", ".join(fmt_shape(x) for x in la.output_shapes) or "?"
            if la.unknown:
                ws = f"unknown: {la.unknown}"
            else:
                ws = "<br>".join(
                    f"[{w.index}] {w.name} {fmt_shape(w.shape)}"
                    + ("" if w.trainable else " (non-trainable)")
                    for w in la.weights
                )
            out.append(
                f"| {i} | {_md_escape(la.name)} ({la.class_name}) | {shape} | "
                f"{'?' if la.unknown else fmt_params(la.params)} | {layer_trainability(la)} | "
                f"{_md_escape(ws)} |"
            )
        out.append("")
        out += [f"- {t}" for t in s.totals]
        out += [f"- note: {line}" for line in layer_notes(m)]
        if m.weights:
            out.append("- The model's own variables (`self.add_weight`): " + ", ".join(
                f"`[{w.index}]` {w.name} {fmt_shape(w.shape)}"
                + ("" if w.trainable else " (non-trainable)") for w in m.weights))
        for bn in s.batch_norms:
            out.append(f"- `layers[{bn.layer_index}]` **{bn.layer.name}**: `{bn.formula}` "
                       + ", ".join(f"{r}=`[{w.index}]`" for r, w in bn.arrays.items()))
        out.append("")
    return "\n".join(out)
