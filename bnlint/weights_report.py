"""What the saved arrays show: ``bnlint summarize MODEL --weights``.

Data first (:func:`array_stats`, :func:`bn_statistics` — the latter is what the
rules BN002 / BN013 read), then renderers (:func:`weights_report`).  Arrays are
read lazily through :mod:`bnlint.readers.weights`; :func:`bn_statistics` reads
only the BatchNormalization arrays.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bnlint.readers.weights import WeightRef, WeightsFile

__all__ = [
    "BN_CLASSES",
    "DEAD_GAMMA",
    "ArrayStats",
    "BNStats",
    "array_stats",
    "bn_statistics",
    "weights_report",
    "weights_report_data",
]

BN_CLASSES = ("BatchNormalization", "SyncBatchNormalization")
DEAD_GAMMA = 1e-6  # |gamma| below this: the channel's output is the constant beta
MAX_LISTED_CHANNELS = 16


@dataclass
class ArrayStats:
    index: int  # position in model.get_weights()
    layer: str  # layer path ("backbone/dense" inside a nested model)
    class_name: str
    name: str  # kernel, gamma, moving_variance, ...
    shape: list[int]
    dtype: str
    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    nonfinite: int  # NaN + Inf elements


@dataclass
class Summary3:
    min: float | None
    median: float | None
    max: float | None


@dataclass
class BNStats:
    layer: str  # layer path
    class_name: str
    axis: Any
    epsilon: float
    channels: int
    arrays: dict[str, int]  # gamma/beta/moving_mean/moving_variance -> get_weights() index
    never_updated: bool  # moving_mean all exactly 0 and moving_variance all exactly 1
    has_nonfinite: bool  # NaN/Inf in any of the layer's arrays
    negative_variance: bool  # some moving_variance < 0
    nonfinite: dict[str, int] = field(default_factory=dict)  # per array, when any
    negative_variance_channels: list[int] = field(default_factory=list)
    dead_channels: list[int] = field(default_factory=list)  # |gamma| < DEAD_GAMMA
    scale: Summary3 | None = None  # gamma / sqrt(moving_variance + epsilon)
    shift: Summary3 | None = None  # beta - moving_mean * scale

    @property
    def formula(self) -> str:
        from bnlint.summary import bn_formula

        return bn_formula(self.epsilon, "beta" in self.arrays, "gamma" in self.arrays)


def _f(x: Any) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None  # JSON has no NaN/Infinity


def _stats(a: np.ndarray) -> tuple[float | None, float | None, float | None, float | None, int]:
    if a.dtype.kind not in "biuf" or a.size == 0:
        return None, None, None, None, 0
    x = a
    bad = 0
    # Accumulated in float64 without a float64 copy of the array (a ResNet50 holds 25 M).
    with np.errstate(all="ignore"):  # overflow/NaN are reported as None, not warned about
        mean = x.mean(dtype=np.float64)
        if not np.isfinite(mean):  # a finite sum has no NaN/Inf term: only then look for them
            finite = np.isfinite(a)
            bad = int(a.size - np.count_nonzero(finite))
            x = a[finite]
            if x.size == 0:
                return None, None, None, None, bad
            mean = x.mean(dtype=np.float64)
        return _f(mean), _f(x.std(dtype=np.float64)), _f(x.min()), _f(x.max()), bad


def array_stats(wf: WeightsFile) -> list[ArrayStats]:
    """Per array: shape, mean/std/min/max over the finite values, count of non-finite ones."""
    out = []
    for r in wf.refs:
        a = wf.read(r.index)
        mean, std, lo, hi, bad = _stats(a)
        out.append(ArrayStats(r.index, r.layer_path, r.layer.class_name, r.name, list(r.shape),
                              r.dtype, mean, std, lo, hi, bad))
    return out


def _summary3(x: np.ndarray) -> Summary3:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return Summary3(None, None, None)
    return Summary3(float(x.min()), float(np.median(x)), float(x.max()))


def _bn_groups(wf: WeightsFile) -> list[list[WeightRef]]:
    groups: dict[str, list[WeightRef]] = {}
    for r in wf.refs:
        if r.layer.class_name in BN_CLASSES:
            groups.setdefault(r.layer_path, []).append(r)
    return list(groups.values())


def _bn_stats(refs: list[WeightRef], arrays: dict[int, np.ndarray]) -> BNStats:
    layer = refs[0].layer
    by_name = {r.name: r for r in refs}
    eps = layer.config.get("epsilon", 1e-3)
    eps = float(eps) if isinstance(eps, (int, float)) else 1e-3
    a = {name: arrays[r.index].astype(np.float64).ravel() for name, r in by_name.items()}
    var = a.get("moving_variance")
    mean = a.get("moving_mean")
    channels = int(next(iter(a.values())).size) if a else 0
    nonfinite = {n: int(x.size - np.count_nonzero(np.isfinite(x))) for n, x in a.items()}
    nonfinite = {n: c for n, c in nonfinite.items() if c}
    never = (mean is not None and var is not None and bool(np.all(mean == 0))
             and bool(np.all(var == 1)))
    neg = [] if var is None else [int(i) for i in np.flatnonzero(var < 0)]
    st = BNStats(
        layer=refs[0].layer_path, class_name=layer.class_name,
        axis=layer.config.get("axis", -1), epsilon=eps, channels=channels,
        arrays={r.name: r.index for r in refs}, never_updated=never,
        has_nonfinite=bool(nonfinite), negative_variance=bool(neg), nonfinite=nonfinite,
        negative_variance_channels=neg,
    )
    if "gamma" in a:
        st.dead_channels = [int(i) for i in np.flatnonzero(np.abs(a["gamma"]) < DEAD_GAMMA)]
    if var is not None and mean is not None:
        with np.errstate(all="ignore"):
            gamma = a.get("gamma", np.ones_like(var))
            beta = a.get("beta", np.zeros_like(var))
            scale = gamma / np.sqrt(var + eps)
            shift = beta - mean * scale
        st.scale, st.shift = _summary3(scale), _summary3(shift)
    return st


def bn_statistics(path: str | Path | WeightsFile) -> list[BNStats]:
    """Every BatchNormalization layer's statistics (reads only the BN arrays)."""
    if isinstance(path, WeightsFile):
        return _bn_statistics(path)
    with WeightsFile(path) as wf:
        return _bn_statistics(wf)


def _bn_statistics(wf: WeightsFile) -> list[BNStats]:
    out = []
    for refs in _bn_groups(wf):
        arrays = wf.read_many(refs)
        out.append(_bn_stats(refs, arrays))
    return out


# --------------------------------------------------------------------------- rendering


def weights_report_data(path: str | Path, model: Any = None) -> dict[str, Any]:
    """``model``: the architecture when ``path`` is a weights-only file."""
    with WeightsFile(path, model) as wf:
        arrays = array_stats(wf)
        bns = _bn_statistics(wf)
        model = wf.model
    return {
        "version": 1,
        "source": str(path),
        "model": model.name,
        "keras_version": model.keras_version,
        "arrays": [asdict(a) for a in arrays],
        "batch_normalization": [
            {**asdict(b), "formula": b.formula} for b in bns
        ],
    }


def _num(x: float | None) -> str:
    return "nan" if x is None else f"{x:.4g}"


def _channels(ch: list[int]) -> str:
    head = ", ".join(str(c) for c in ch[:MAX_LISTED_CHANNELS])
    return head + (f", … ({len(ch)} in all)" if len(ch) > MAX_LISTED_CHANNELS else "")


def _bn_lines(b: dict[str, Any]) -> list[str]:
    idx = ", ".join(f"{k}=[{v}]" for k, v in b["arrays"].items())
    lines = [f"{b['layer']} ({b['class_name']}): axis={b['axis']} epsilon={b['epsilon']:g} "
             f"channels={b['channels']} · {idx}"]
    if b["never_updated"]:
        lines.append("  moving statistics never updated (mean exactly 0, variance exactly 1): "
                     "predict() does not normalize — the model was not trained (BN002)")
    else:
        lines.append("  moving statistics updated by training")
    if b["has_nonfinite"]:
        bad = ", ".join(f"{k}: {v}" for k, v in b["nonfinite"].items())
        lines.append(f"  NON-FINITE values ({bad}) (BN013)")
    if b["negative_variance"]:
        lines.append("  NEGATIVE moving_variance in channels "
                     f"{_channels(b['negative_variance_channels'])} (BN013)")
    for key, label in (("scale", "effective scale gamma/sqrt(var+eps)"),
                       ("shift", "effective shift beta-mean*scale")):
        s = b.get(key)
        if s:
            lines.append(f"  {label}: min {_num(s['min'])}  median {_num(s['median'])}  "
                         f"max {_num(s['max'])}")
    if b["dead_channels"]:
        lines.append(f"  dead channels (|gamma| < {DEAD_GAMMA:g}): {_channels(b['dead_channels'])}"
                     " — their output is the constant beta")
    return lines


def _table(rows: list[list[str]], header: list[str], markdown: bool) -> list[str]:
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        return out + ["| " + " | ".join(r) + " |" for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    fmt = "  ".join(f"{{:{'>' if i in (0, 5, 6, 7, 8, 9) else '<'}{w}}}"
                    for i, w in enumerate(widths))
    return [fmt.format(*header), fmt.format(*("-" * w for w in widths))] + [
        fmt.format(*r) for r in rows
    ]


def weights_report(path: str | Path, fmt: str = "text", model: Any = None) -> str:
    """``summarize --weights`` output: ``fmt`` is ``text``, ``markdown`` or ``json``."""
    data = weights_report_data(path, model)
    if fmt == "json":
        return json.dumps(data, indent=1)
    if fmt not in ("text", "markdown"):
        raise ValueError(f"unknown format {fmt!r}")
    md = fmt == "markdown"
    rows = [
        [str(a["index"]), a["layer"], a["name"], "(" + ", ".join(map(str, a["shape"]))
         + ("," if len(a["shape"]) == 1 else "") + ")", a["dtype"], _num(a["mean"]),
         _num(a["std"]), _num(a["min"]), _num(a["max"]), str(a["nonfinite"])]
        for a in data["arrays"]
    ]
    title = f"Weights of \"{data['model']}\" read from {data['source']}"
    out = [f"## {title}" if md else title, ""]
    out += _table(rows, ["[i]", "layer", "array", "shape", "dtype", "mean", "std", "min", "max",
                         "non-finite"], md)
    if data["batch_normalization"]:
        out += ["", "### BatchNormalization at inference" if md else
                "BatchNormalization at inference: y = gamma * (x - moving_mean) / "
                "sqrt(moving_variance + epsilon) + beta = scale * x + shift"]
        if md:
            out.append("")
        for b in data["batch_normalization"]:
            lines = _bn_lines(b)
            out += ([f"- {lines[0]}"] + [f"  - {ln.strip()}" for ln in lines[1:]]) if md else [
                " " + ln for ln in lines]
    return "\n".join(out) + "\n"
