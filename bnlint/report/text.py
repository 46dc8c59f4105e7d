"""Text summary in the shape of Keras 3's ``model.summary()``, plus get_weights() indices."""

from __future__ import annotations

from bnlint.graph import Layer, fmt_shape, layer_notes
from bnlint.summary import BN_FORMULA, ModelSummary, fmt_params, layer_trainability

MAX_NAME = 34


def _wrap(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]


def _name_lines(layer: Layer) -> list[str]:
    full = f"{layer.name} ({layer.class_name})"
    if len(full) <= MAX_NAME:
        return [full]
    return _wrap(layer.name, MAX_NAME) + _wrap(f"({layer.class_name})", MAX_NAME)


def _shape_lines(layer: Layer) -> list[str]:
    if layer.unknown is not None:
        return ["?"]
    if not layer.built:
        return ["?"]
    shapes = layer.output_shapes
    if not shapes:
        return ["?"]
    return [fmt_shape(s) + ("," if i < len(shapes) - 1 else "") for i, s in enumerate(shapes)]


def _param_text(layer: Layer) -> str:
    if layer.unknown is not None:
        return "?"
    if not layer.built:
        return "0 (unbuilt)"
    return fmt_params(layer.params)


def _weight_lines(layer: Layer) -> list[str]:
    if layer.unknown is not None:
        return [f"unknown: {layer.unknown}"]
    if layer.model is not None and layer.weights:
        first, last = layer.weights[0].index, layer.weights[-1].index
        return [f"[{first}]..[{last}] {len(layer.weights)} arrays of model "
                f'"{layer.model.name}" (below)']
    lines = []
    for local, w in enumerate(layer.weights):
        flag = "" if w.trainable else "  non-trainable"
        lines.append(f"[{w.index}] [{local}] {w.name} {fmt_shape(w.shape)}{flag}")
    return lines


def _table(headers: list[str], rows: list[list[list[str]]], right: set[int]) -> list[str]:
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], *(len(x) for x in cell))

    def line(left: str, mid: str, rgt: str, fill: str) -> str:
        return left + mid.join(fill * (w + 2) for w in widths) + rgt

    def cells(values: list[str], sep: str) -> str:
        parts = []
        for i, v in enumerate(values):
            parts.append(" " + (v.rjust(widths[i]) if i in right else v.ljust(widths[i])) + " ")
        return sep + sep.join(parts) + sep

    out = [line("┏", "┳", "┓", "━"), cells(headers, "┃"), line("┡", "╇", "┩", "━")]
    for n, row in enumerate(rows):
        height = max(len(c) for c in row)
        for k in range(height):
            out.append(cells([c[k] if k < len(c) else "" for c in row], "│"))
        out.append(line("└", "┴", "┘", "─") if n == len(rows) - 1 else line("├", "┼", "┤", "─"))
    if not rows:
        out.append(line("└", "┴", "┘", "─"))
    return out


def render_model(s: ModelSummary, title_extra: str = "") -> list[str]:
    m = s.model
    where = []
    if m.variable:
        where.append(f"bound to `{m.variable}`")
    if m.location and m.location.line is not None:
        where.append(f"at {m.location}")
    elif m.source:
        where.append(f"read from {m.source}")
    where.append(f"{m.class_name} · Keras {m.keras_version} semantics")
    out = [f'Model: "{m.name}"   ' + " · ".join(where) + title_extra]
    headers = ["#", "Layer (type)", "Output Shape", "Param #", "Trainable",
               "get_weights() [model] [layer]"]
    rows = []
    for i, layer in enumerate(m.layers):
        rows.append([
            [str(i)],
            _name_lines(layer),
            _shape_lines(layer),
            [_param_text(layer)],
            [layer_trainability(layer)],
            _weight_lines(layer) or [""],
        ])
    out += _table(headers, rows, right={0, 3})
    out += [" " + t for t in s.totals]
    if m.weights:
        own = ", ".join(f"[{w.index}] {w.name} {fmt_shape(w.shape)}"
                        + ("" if w.trainable else " non-trainable") for w in m.weights)
        out.append(f" The model's own variables (self.add_weight; no layer row, counted in the "
                   f"totals): {own}")
    for note in layer_notes(m):
        out.append(f" note: {note}")
    for note in m.notes:
        out.append(f" note: {note}")
    if s.batch_norms:
        out.append("")
        out.append(f" BatchNormalization at inference: {BN_FORMULA}")
        for bn in s.batch_norms:
            idx = ", ".join(f"{role}=[{w.index}]" for role, w in bn.arrays.items()) or (
                "not built: no arrays yet")
            out.append(f"   layers[{bn.layer_index}] {bn.layer.name}: axis={bn.axis} "
                       f"epsilon={bn.epsilon} momentum={bn.momentum} · {idx}")
            out.append(f"     {bn.formula}")
        out.append("   moving_variance is a variance, not a standard deviation: a hand-written forward "
                   "pass divides by sqrt(moving_variance + epsilon).")
        out.append("   Until training updates them, moving_mean = 0 and moving_variance = 1: "
                   "predict() then computes ≈ gamma * x + beta, it does not standardize.")
    for nested in s.nested:
        out.append("")
        out += render_model(nested, title_extra=f"   (nested in \"{m.name}\")")
    return out


def render(summaries: list[ModelSummary]) -> str:
    blocks = ["\n".join(render_model(s)) for s in summaries]
    return "\n\n".join(blocks) + "\n"
