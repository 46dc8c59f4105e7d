"""The arrays of a saved model, in ``model.get_weights()`` order, without TensorFlow.

Reads ``.keras`` archives (``model.weights.h5`` inside the zip, opened in place:
a stored member is read through a window on the archive, nothing is extracted),
and legacy ``.h5`` files written by Keras 3 or tf-keras (the ``model_weights``
group and its ``weight_names`` attributes).  The datasets are mapped onto the
typed graph of :func:`bnlint.readers.saved.read_saved_model`, so every array has
its ``get_weights()`` index, its layer and its name.

Lazy: :class:`WeightsFile` opens the file and resolves where each array lives
(dataset paths and declared shapes only); arrays are read when asked for.
Bounded: a dataset whose declared size exceeds :data:`MAX_ARRAY_BYTES`, whose
dtype is not a plain number, or whose shape disagrees with the architecture is
refused before anything is allocated.  Nothing is unpickled.

Public entry point for users::

    from bnlint.readers.weights import get_weights
    arrays = get_weights("model.keras")   # == model.get_weights(), as numpy arrays
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bnlint import graph
from bnlint.readers.saved import ReadError, read_saved_model
from bnlint.readers.tfpaths import checkpoint_prefix, is_checkpoint_prefix

__all__ = [
    "MAX_ARRAY_BYTES",
    "WeightRef",
    "WeightsFile",
    "get_weights",
    "open_weights",
    "read_arrays",
]

MAX_ARRAY_BYTES = 4 * 1024**3  # one array larger than this is not a Keras weight we will read
MAX_MEMBER_BYTES = 64 * 1024**3  # a model.weights.h5 member declared larger is refused
MAX_INMEMORY_BYTES = 2 * 1024**3  # a *compressed* member is inflated in memory up to this
MAX_WEIGHT_NAMES = 1_000_000
_NUMERIC_KINDS = "biuf"


@dataclass
class WeightRef:
    """Where one ``get_weights()`` array lives."""

    index: int  # position in model.get_weights()
    weight: graph.Weight  # name, shape, trainable, dtype
    layer: graph.Layer  # the innermost layer that owns it (BatchNormalization, Dense, ...)
    layer_path: str  # "backbone/batch_normalization" for a layer inside a nested model
    dataset: str  # HDF5 path of the dataset inside the weights file
    shape: tuple[int, ...]  # as stored
    dtype: str  # as stored

    @property
    def name(self) -> str:
        return self.weight.name


# --------------------------------------------------------------------------- zip window


class _Window(io.RawIOBase):
    """A read-only, seekable view of ``[offset, offset + size)`` of a file."""

    def __init__(self, path: Path, offset: int, size: int):
        super().__init__()
        self._f = open(path, "rb")  # closed in close()
        self._offset = offset
        self._size = size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = 0) -> int:
        if whence == 0:
            new = pos
        elif whence == 1:
            new = self._pos + pos
        else:
            new = self._size + pos
        if new < 0:
            raise OSError("negative seek position")
        self._pos = new
        return new

    def readinto(self, b: Any) -> int:
        mv = memoryview(b).cast("B")
        n = max(0, min(len(mv), self._size - self._pos))
        if n == 0:
            return 0
        self._f.seek(self._offset + self._pos)
        got = self._f.readinto(mv[:n])
        got = got or 0
        self._pos += got
        return got

    def close(self) -> None:
        if not self.closed:
            self._f.close()
        super().close()


def _member_data_offset(path: Path, info: zipfile.ZipInfo) -> int:
    """Offset of a member's data: after its *local* header (whose extra field may differ)."""
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        header = f.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise ReadError("damaged .keras archive (bad local header for model.weights.h5)")
    name_len = int.from_bytes(header[26:28], "little")
    extra_len = int.from_bytes(header[28:30], "little")
    return info.header_offset + 30 + name_len + extra_len


def _open_keras_weights(path: Path) -> tuple[Any, list[Any]]:
    """An h5py File on ``model.weights.h5`` inside the archive, plus objects to close."""
    import h5py

    try:
        with zipfile.ZipFile(path) as zf:
            try:
                info = zf.getinfo("model.weights.h5")
            except KeyError:
                names = zf.namelist()
                if any(n.startswith("model.weights") for n in names):
                    raise ReadError(
                        "sharded/npz weights in the .keras archive are not supported"
                    ) from None
                raise ReadError("the .keras archive has no model.weights.h5") from None
            if info.file_size > MAX_MEMBER_BYTES:
                raise ReadError(f"model.weights.h5 declares {info.file_size} bytes; refusing")
            if info.flag_bits & 0x1:
                raise ReadError("model.weights.h5 is encrypted")
            if info.compress_type == zipfile.ZIP_STORED:
                offset = _member_data_offset(path, info)
                if offset + info.file_size > path.stat().st_size:
                    raise ReadError("damaged .keras archive (model.weights.h5 is truncated)")
                raw: Any = _Window(path, offset, info.file_size)
                fobj: Any = io.BufferedReader(raw, buffer_size=1 << 16)
            else:
                if info.file_size > MAX_INMEMORY_BYTES:
                    raise ReadError(
                        f"compressed model.weights.h5 of {info.file_size} bytes; refusing to inflate"
                    )
                with zf.open(info) as member:
                    data = member.read(info.file_size + 1)
                if len(data) != info.file_size:
                    raise ReadError("damaged .keras archive (model.weights.h5 size mismatch)")
                fobj = io.BytesIO(data)
    except (zipfile.BadZipFile, EOFError) as exc:
        raise ReadError(f"damaged .keras archive ({exc})") from None
    try:
        h5 = h5py.File(fobj, "r")
    except OSError as exc:
        fobj.close()
        raise ReadError(f"model.weights.h5 is not a readable HDF5 file ({exc})") from None
    return h5, [fobj]


# --------------------------------------------------------------------------- mapping


def _snake(name: str) -> str:
    """Keras's ``naming.to_snake_case``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


_CLASS_ALIASES = {"Model": "Functional"}


def _saveable_names(layers: Iterable[graph.Layer]) -> list[str]:
    """Names ``_save_container_state`` gives to a container's entries: snake class + counter."""
    from bnlint.keras.catalogue import canonical_class

    used: dict[str, int] = {}
    out = []
    for layer in layers:
        cls = _CLASS_ALIASES.get(layer.class_name, canonical_class(layer.class_name))
        name = _snake(cls)
        if name in used:
            used[name] += 1
            name = f"{name}_{used[name]}"
        else:
            used[name] = 0
        out.append(name)
    return out


def _decode(v: Any) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def _h5_get(group: Any, key: str) -> Any:
    try:
        return group.get(key)
    except (KeyError, ValueError, OSError):
        return None


def _find_owner(group: Any, names: list[str], limit: int = 10_000) -> Any:
    """The saveable group below ``group`` whose chain of ``vars`` names is ``names``.

    A sublayer is saved under its attribute name (``forward_layer``, ``cell``, ``layer``)
    with its own name in ``vars.attrs["name"]``; the search is breadth first, so the
    nearest match wins.
    """
    import h5py

    if not names:
        return group
    queue = [group]
    seen = 0
    while queue:
        g = queue.pop(0)
        for key in g:
            seen += 1
            if seen > limit:
                return None
            child = _h5_get(g, key)
            if key == "vars" or not isinstance(child, h5py.Group):
                continue
            vars_ = _h5_get(child, "vars")
            if vars_ is not None and _decode(vars_.attrs.get("name", "")) == names[0]:
                found = _find_owner(child, names[1:], limit)
                if found is not None:
                    return found
            queue.append(child)
    return None


class _Mapper:
    def __init__(self, h5: Any, fmt: str, model: graph.Model):
        self.h5 = h5
        self.fmt = fmt
        self.model = model
        self.refs: list[WeightRef] = []

    # ---------------------------------------------------------- checks
    def _check(self, ds: Any, weight: graph.Weight, where: str) -> tuple[tuple[int, ...], str]:
        import h5py

        if not isinstance(ds, h5py.Dataset):
            raise ReadError(f"{where}: expected a dataset for `{weight.path}`")
        dtype = ds.dtype
        if dtype.kind not in _NUMERIC_KINDS or dtype.fields is not None:
            raise ReadError(f"{where}: `{weight.path}` has non-numeric dtype {dtype}")
        shape = tuple(int(d) for d in ds.shape)
        nbytes = math.prod(shape) * dtype.itemsize
        if nbytes > MAX_ARRAY_BYTES:
            raise ReadError(f"{where}: `{weight.path}` declares {nbytes} bytes; refusing")
        expected = weight.shape
        if all(isinstance(d, int) for d in expected) and tuple(expected) != shape:
            raise ReadError(
                f"{where}: `{weight.path}` has shape {shape} in the file but "
                f"{tuple(expected)} in the architecture"
            )
        return shape, str(dtype)

    def add(self, weight: graph.Weight, layer: graph.Layer, layer_path: str, ds: Any,
            where: str) -> None:
        shape, dtype = self._check(ds, weight, where)
        index = weight.index if weight.index is not None else len(self.refs)
        self.refs.append(WeightRef(index, weight, layer, layer_path, ds.name, shape, dtype))

    # ---------------------------------------------------------- .keras
    def keras(self) -> None:
        root = self.h5
        self._keras_container(self.model.layers, root, "layers", "")

    def _keras_container(self, layers: list[graph.Layer], group: Any, key: str,
                         prefix: str) -> None:
        container = _h5_get(group, key) if group is not None else None
        for layer, sname in zip(layers, _saveable_names(layers), strict=True):
            g = _h5_get(container, sname) if container is not None else None
            lpath = f"{prefix}{layer.name}"
            if g is None:
                g = self._find_by_name(container, layer.name)
            if layer.model is not None:
                if not layer.weights:
                    continue
                if g is None:
                    raise ReadError(f"no weights group for nested model `{lpath}`")
                self._keras_container(layer.model.layers, g, "layers", lpath + "/")
                continue
            if not layer.weights:
                continue
            if g is None:
                raise ReadError(f"model.weights.h5 has no group for layer `{lpath}`")
            self._keras_layer(layer, g, lpath)

    @staticmethod
    def _find_by_name(container: Any, name: str) -> Any:
        if container is None:
            return None
        for key in container:
            child = _h5_get(container, key)
            vars_ = _h5_get(child, "vars") if child is not None else None
            if vars_ is not None and _decode(vars_.attrs.get("name", "")) == name:
                return child
        return None

    def _keras_layer(self, layer: graph.Layer, g: Any, lpath: str) -> None:
        # Group the layer's weights by owner: "" (its own) or a sublayer path.
        owners: dict[str, list[graph.Weight]] = {}
        for w in layer.weights:
            rel = w.path.split("/", 1)[1] if "/" in w.path else w.path
            owner = rel.rsplit("/", 1)[0] if "/" in rel else ""
            owners.setdefault(owner, []).append(w)
        for owner, ws in owners.items():
            sub = _find_owner(g, owner.split("/")) if owner else g
            vars_ = _h5_get(sub, "vars") if sub is not None else None
            if vars_ is None:
                raise ReadError(f"model.weights.h5 has no variables for `{lpath}/{owner}`")
            # Own variables are saved trainable first, then non-trainable (creation order).
            for i, w in enumerate(ws):
                ds = _h5_get(vars_, str(i))
                if ds is None:
                    raise ReadError(f"model.weights.h5 lacks `{vars_.name}/{i}` ({w.path})")
                self.add(w, layer, lpath, ds, "model.weights.h5")

    # ---------------------------------------------------------- legacy .h5
    def legacy(self) -> None:
        root = _h5_get(self.h5, "model_weights")
        if root is None and "layer_names" in self.h5.attrs:
            root = self.h5  # a tf-keras save_weights("w.h5") file: the layers at the top
        if root is None:
            raise ReadError("the .h5 file has no model_weights group (saved without weights?)")
        for layer in self.model.layers:
            leaves = list(_leaf_layers(layer, ""))
            weights = [w for w, _, _ in leaves]
            if not weights:
                continue
            g = _h5_get(root, layer.name)
            if g is None:
                raise ReadError(f"model_weights has no group for layer `{layer.name}`")
            raw = g.attrs.get("weight_names")
            names = [] if raw is None else [_decode(n) for n in np.asarray(raw).ravel()[
                :MAX_WEIGHT_NAMES]]
            if len(names) != len(weights):
                raise ReadError(
                    f"layer `{layer.name}`: {len(names)} arrays in the file, "
                    f"{len(weights)} in the architecture"
                )
            assignment = _match_names(layer.name, weights, names)
            for (w, owner, lpath), name in zip(leaves, assignment, strict=True):
                ds = _h5_get(g, name)
                if ds is None:
                    raise ReadError(f"model_weights/{layer.name} lacks `{name}`")
                self.add(w, owner, lpath, ds, f"model_weights/{layer.name}")


def _leaf_layers(layer: graph.Layer, prefix: str
                 ) -> Iterator[tuple[graph.Weight, graph.Layer, str]]:
    """``layer.weights`` with the innermost layer owning each (nested models flattened)."""
    if layer.model is None:
        for w in layer.weights:
            yield w, layer, prefix + layer.name
        return
    # The nested model's own graph carries the owning layers; its weights are the
    # same arrays as the outer layer's list (indices copied by the builder).
    inner = [x for sub in layer.model.layers for x in _leaf_layers(sub, f"{prefix}{layer.name}/")]
    if len(inner) == len(layer.weights):
        yield from ((outer, owner, lp) for outer, (_, owner, lp) in zip(
            layer.weights, inner, strict=True))
    else:  # shared inner layers: fall back to the outer list
        for w in layer.weights:
            yield w, layer, prefix + layer.name


def _match_names(layer_name: str, weights: list[graph.Weight], names: list[str]) -> list[str]:
    """Which ``weight_names`` entry holds each graph weight (by name, else legacy order)."""

    def norm(n: str) -> str:
        return re.sub(r":\d+$", "", n)

    normed = [norm(n) for n in names]
    out: list[str] = []
    used: set[int] = set()
    for w in weights:
        exact = [i for i, n in enumerate(normed) if i not in used
                 and n in (w.path, f"{layer_name}/{w.path}")]
        cands = exact or [i for i, n in enumerate(normed) if i not in used
                          and n.endswith("/" + w.path)]
        if len(cands) != 1:
            break
        used.add(cands[0])
        out.append(names[cands[0]])
    else:
        return out
    # Legacy save order: layer.trainable_weights + layer.non_trainable_weights.
    legacy = [w for w in weights if w.trainable] + [w for w in weights if not w.trainable]
    pos = {id(w): names[i] for i, w in enumerate(legacy)}
    return [pos[id(w)] for w in weights]


# --------------------------------------------------------------------------- public API


class WeightsFile:
    """An open saved model: the typed graph plus lazy access to its arrays.

    Use as a context manager; ``refs`` lists every array in ``get_weights()``
    order (nothing read yet), ``read(i)`` reads one array.
    """

    def __init__(self, path: str | Path, model: graph.Model | None = None):
        self.path = Path(path)
        self.model = model if model is not None else read_saved_model(self.path)
        self._closers: list[Any] = []
        self.h5: Any = None
        self.ckpt: Any = None
        suffix = self.path.suffix.lower()
        try:
            if self.path.is_dir() or is_checkpoint_prefix(self.path):
                refs = self._open_checkpoint()
            else:
                refs = self._open_h5(suffix)
        except ReadError:
            self.close()
            raise
        except (OSError, KeyError, ValueError, TypeError, RecursionError) as exc:
            self.close()
            raise ReadError(f"cannot map the weights ({exc.__class__.__name__}: {exc})") from None
        refs = sorted(refs, key=lambda r: r.index)
        if [r.index for r in refs] != list(range(len(refs))):
            self.close()
            raise ReadError("the weights do not cover get_weights() exactly")
        self.refs: list[WeightRef] = refs

    def _open_h5(self, suffix: str) -> list[WeightRef]:
        if suffix == ".keras":
            self.h5, self._closers = _open_keras_weights(self.path)
            fmt = "keras"
        elif suffix in (".h5", ".hdf5"):
            import h5py

            try:
                self.h5 = h5py.File(self.path, "r")
            except OSError as exc:
                raise ReadError(f"not a readable HDF5 file ({exc})") from None
            # Keras 3 .weights.h5 (save_weights) has the .keras archive's weights layout
            keras3 = "model_weights" not in self.h5 and "layer_names" not in self.h5.attrs \
                and "layers" in self.h5
            fmt = "keras" if keras3 else "h5"
        else:
            raise ReadError(f"no weights in a `{self.path.suffix}` file (use .keras, .h5, "
                            "a SavedModel directory or a TF checkpoint)")
        self.format = fmt
        mapper = _Mapper(self.h5, fmt, self.model)
        if fmt == "keras":
            mapper.keras()
        else:
            mapper.legacy()
        return mapper.refs

    def _open_checkpoint(self) -> list[WeightRef]:
        """A SavedModel directory's variables/ checkpoint, or a TF checkpoint prefix."""
        from bnlint.readers.savedmodel import (
            object_graph,
            saved_model_keys,
            structural_keys,
        )
        from bnlint.readers.tfbundle import BundleError, Checkpoint

        saved = self.path.is_dir()
        self.format = "savedmodel" if saved else "checkpoint"
        owners = {w.index: (w, owner, lpath) for layer in self.model.layers
                  for w, owner, lpath in _leaf_layers(layer, "") if w.index is not None}
        for w in self.model.weights:
            if w.index is not None:
                owners.setdefault(w.index, (w, None, self.model.name))  # type: ignore[arg-type]
        try:
            self.ckpt = Checkpoint(checkpoint_prefix(self.path))
            nodes = object_graph(self.ckpt)
            if saved:
                listed = saved_model_keys(nodes, len(owners))
                keys = dict(enumerate(listed))
            else:
                keys = structural_keys(nodes, self.model)
            refs = []
            where = "the SavedModel" if saved else "the checkpoint"
            for index, (w, owner, lpath) in owners.items():
                if index not in keys:
                    raise ReadError(f"{where} has no array for get_weights()[{index}] "
                                    f"({w.path})")
                var_name, key = keys[index]
                if var_name.rsplit("/", 1)[-1] != w.name:
                    raise ReadError(f"get_weights()[{index}] is `{var_name}` in {where} but "
                                    f"`{lpath}/{w.name}` in the architecture")
                entry = self.ckpt.entries.get(key)
                if entry is None:
                    raise ReadError(f"{where} has no tensor `{key}`")
                self.ckpt.check(entry)
                if entry.numpy_dtype is None:
                    raise ReadError(f"`{key}` has unsupported type {entry.dtype_name}")
                if all(isinstance(d, int) for d in w.shape) and tuple(w.shape) != entry.shape:
                    raise ReadError(f"`{lpath}/{w.name}` has shape {entry.shape} in {where} "
                                    f"but {tuple(w.shape)} in the architecture")
                refs.append(WeightRef(index, w, owner if owner is not None else
                                      self.model.layers[0], lpath, key, entry.shape,
                                      entry.dtype_name))
        except BundleError as exc:
            raise ReadError(str(exc)) from None
        return refs

    def stored_count(self) -> int | None:
        """How many weight arrays the file holds for the model (optimizer state excluded);
        None when the layout does not say.  More than ``len(refs)`` means the file has
        arrays the architecture has no place for (Keras's load_weights refuses it)."""
        if self.ckpt is not None:
            return sum(1 for k in self.ckpt.entries
                       if k.endswith("/.ATTRIBUTES/VARIABLE_VALUE")
                       and ".OPTIMIZER_SLOT" not in k and not k.startswith(
                           ("optimizer/", "save_counter/", "keras_api/")))
        try:
            if self.format == "h5":
                root = _h5_get(self.h5, "model_weights")
                root = self.h5 if root is None else root
                total = 0
                for name in np.asarray(root.attrs.get("layer_names", [])).ravel()[
                        :MAX_WEIGHT_NAMES]:
                    g = _h5_get(root, _decode(name))
                    raw = None if g is None else g.attrs.get("weight_names")
                    total += 0 if raw is None else len(np.asarray(raw).ravel())
                return total
            layers = _h5_get(self.h5, "layers")
            if layers is None:
                return None
            import h5py

            count = 0
            seen = 0
            stack = [layers]
            while stack:
                g = stack.pop()
                for key in g:
                    seen += 1
                    if seen > 1_000_000:
                        return None
                    child = _h5_get(g, key)
                    if isinstance(child, h5py.Dataset):
                        count += g.name.endswith("/vars")
                    elif isinstance(child, h5py.Group):
                        stack.append(child)
            return count
        except (OSError, KeyError, ValueError, TypeError):
            return None

    def __enter__(self) -> WeightsFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.ckpt = None
        if self.h5 is not None:
            try:
                self.h5.close()
            except Exception:  # pragma: no cover - closing a damaged file
                pass
            self.h5 = None
        for c in self._closers:
            c.close()
        self._closers = []

    def __len__(self) -> int:
        return len(self.refs)

    def read(self, index: int) -> np.ndarray:
        """``model.get_weights()[index]``."""
        ref = self.refs[index]
        if self.ckpt is not None:
            from bnlint.readers.tfbundle import BundleError

            try:
                return self.ckpt.read(ref.dataset)
            except BundleError as exc:
                raise ReadError(str(exc)) from None
        try:
            ds = self.h5[ref.dataset]
            out = np.empty(ref.shape, dtype=ds.dtype)
            if out.size:
                ds.read_direct(out)
        except (OSError, ValueError, TypeError) as exc:
            raise ReadError(f"cannot read `{ref.weight.path}` ({exc})") from None
        return out

    def select(self, pred: Callable[[WeightRef], bool]) -> list[WeightRef]:
        return [r for r in self.refs if pred(r)]

    def read_many(self, refs: Iterable[WeightRef]) -> dict[int, np.ndarray]:
        return {r.index: self.read(r.index) for r in refs}

    def get_weights(self) -> list[np.ndarray]:
        return [self.read(i) for i in range(len(self.refs))]


def open_weights(path: str | Path, model: graph.Model | None = None) -> WeightsFile:
    """Open a ``.keras`` / ``.h5`` model for lazy weight access. Raises :class:`ReadError`."""
    return WeightsFile(path, model)


def get_weights(path: str | Path, model: graph.Model | str | Path | None = None
                ) -> list[np.ndarray]:
    """What ``keras.models.load_model(path).get_weights()`` returns, without Keras.

    ``path``: a ``.keras`` / ``.h5`` file or a SavedModel directory; or a weights-only file
    (``.weights.h5``, ``save_weights`` ``.h5``, TF checkpoint prefix) with ``model``, the
    architecture (a typed graph, or the path of a saved model holding it): what
    ``model.load_weights(path)`` followed by ``model.get_weights()`` returns.
    """
    if isinstance(model, (str, Path)):
        model = read_saved_model(model)
    with WeightsFile(path, model) as wf:
        return wf.get_weights()


def read_arrays(path: str | Path, pred: Callable[[WeightRef], bool]
                ) -> list[tuple[WeightRef, np.ndarray]]:
    """Only the arrays ``pred`` selects (e.g. every BatchNormalization statistic)."""
    with WeightsFile(path) as wf:
        return [(r, wf.read(r.index)) for r in wf.select(pred)]


def match_weights(path: str | Path, model: graph.Model) -> str:
    """Whether the weights-only file at ``path`` fits ``model`` as Keras's ``load_weights``
    would judge it (count, shapes, order); the one-line verdict, or :class:`ReadError`."""
    with WeightsFile(path, model) as wf:
        unique = len({w.index for w in model.all_weights()})
        if len(wf.refs) != unique:
            raise ReadError(f"the model has {unique} weight arrays, {len(wf.refs)} were "
                            "matched in the file")
        stored = wf.stored_count()
        if stored is not None and stored != len(wf.refs):
            raise ReadError(f"weight count mismatch: the model expects {len(wf.refs)} arrays, "
                            f"the file holds {stored}")
        return (f"matches model \"{model.name}\": {len(wf.refs)} arrays, each with the shape "
                "the architecture expects, in get_weights() order")


def weights_file_verdict(path: str | Path, models: list[graph.Model]
                         ) -> tuple[graph.Model, str, bool] | None:
    """``--weights-file`` (summarize and check): the one outermost model of ``models``, the
    one-line verdict of :func:`match_weights` on it, and whether it matches; None when
    ``models`` is empty. More than one model, or a file that does not fit, is a mismatch."""
    models = graph.outermost_models(models)
    if not models:
        return None
    if len(models) != 1:
        return (models[0], f"--weights-file needs one model; the argument builds {len(models)} "
                f"({', '.join(m.name for m in models)})", False)
    try:
        return models[0], match_weights(path, models[0]), True
    except ReadError as exc:
        return (models[0], f"does not match model \"{models[0].name}\" (load_weights would "
                f"fail): {exc}", False)
