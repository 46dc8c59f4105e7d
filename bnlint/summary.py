"""The summary as data: counts, get_weights() indices, BatchNormalization explained.

Renderers (``bnlint/report``) only format what is computed here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bnlint import graph
from bnlint.keras.builder import dtype_bytes
from bnlint.symbolic import Size, fmt_count, mul, total

BN_CLASSES = ("BatchNormalization", "SyncBatchNormalization")

BN_FORMULA = "y = gamma * (x - moving_mean) / sqrt(moving_variance + epsilon) + beta"


def readable_memory_size(n_bytes: float, version: int = 3) -> str:
    """``readable_memory_size`` of Keras 3 (``B``) / tf-keras (``Byte``): 1024-based, 2 decimals."""
    units = ["B" if version == 3 else "Byte", "KB", "MB", "GB", "TB", "PB"]
    for unit in units:
        if n_bytes / 1024 < 1:
            return f"{n_bytes:.2f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.2f} {units[-1]}"


def weights_bytes(weights: list[graph.Weight]) -> Size:
    return total(mul(w.size, dtype_bytes(w.dtype)) for w in weights)


def count_line(label: str, count: Size | None, weights: list[graph.Weight], version: int,
               unknown_reason: str | None = None) -> str:
    """``Total params: 718,270 (2.74 MB)`` (Keras 3) / ``718270 (2.74 MB)`` (tf-keras)."""
    if count is None:
        return f"{label}: unknown ({unknown_reason or 'see the layers marked unknown'})"
    size = weights_bytes(weights)
    if isinstance(size, int) and isinstance(count, int):
        number = fmt_count(count) if version == 3 else str(count)
        return f"{label}: {number} ({readable_memory_size(size, version)})"
    return f"{label}: {fmt_count(count)} (symbolic)"


def bn_formula(epsilon: Any, center: bool, scale: bool) -> str:
    """BatchNormalization at inference, with this layer's epsilon; gamma/beta only when
    ``scale``/``center`` (Keras creates no such array otherwise)."""
    eps = f"{epsilon:g}" if isinstance(epsilon, float) else str(epsilon)
    gamma = "gamma * " if scale else ""
    beta = " + beta" if center else ""
    return f"y = {gamma}(x - moving_mean) / sqrt(moving_variance + {eps}){beta}"


@dataclass
class BatchNormInfo:
    layer_index: int
    layer: graph.Layer
    epsilon: Any
    momentum: Any
    axis: Any
    center: bool
    scale: bool
    arrays: dict[str, graph.Weight]  # role name -> weight (with its global index); {} unbuilt

    @property
    def formula(self) -> str:
        return bn_formula(self.epsilon, self.center, self.scale)


@dataclass
class ModelSummary:
    model: graph.Model
    batch_norms: list[BatchNormInfo] = field(default_factory=list)
    nested: list[ModelSummary] = field(default_factory=list)

    @property
    def totals(self) -> list[str]:
        m = self.model
        ws = m.all_weights()
        v = m.keras_version
        why = m.count_unknown_reason
        return [
            count_line("Total params", m.total_params, ws, v, why),
            count_line("Trainable params", m.trainable_params, [w for w in ws if w.trainable], v,
                       why),
            count_line("Non-trainable params", m.non_trainable_params,
                       [w for w in ws if not w.trainable], v, why),
        ]


def layer_trainability(layer: graph.Layer) -> str:
    """"yes", "no", "partly" (BN: gamma/beta trained, moving stats not) or "-" (no weights)."""
    if not layer.weights:
        return "-"
    flags = {w.trainable for w in layer.weights}
    if flags == {True}:
        return "yes"
    if flags == {False}:
        return "no"
    return "partly"


def summarize(model: graph.Model) -> ModelSummary:
    out = ModelSummary(model)
    for i, layer in enumerate(model.layers):
        if layer.class_name in BN_CLASSES and layer.unknown is None:
            out.batch_norms.append(
                BatchNormInfo(
                    layer_index=i,
                    layer=layer,
                    epsilon=_cfg(layer, "epsilon", model.keras_version),
                    momentum=_cfg(layer, "momentum", model.keras_version),
                    axis=_cfg(layer, "axis", model.keras_version),
                    center=_cfg(layer, "center", model.keras_version) is not False,
                    scale=_cfg(layer, "scale", model.keras_version) is not False,
                    arrays={w.name: w for w in layer.weights},
                )
            )
        if layer.model is not None:
            out.nested.append(summarize(layer.model))
    return out


def _cfg(layer: graph.Layer, key: str, version: int) -> Any:
    if key in layer.config:
        return layer.config[key]
    from bnlint.keras.signatures import defaults_for

    return defaults_for(layer.class_name, version).get(key)


def fmt_params(value: Size | None) -> str:
    if value is None:
        return "?"
    return fmt_count(value)


def json_count(value: Size | None) -> int | str | None:
    if value is None or isinstance(value, int):
        return value
    return str(value)
