"""Saved models without TensorFlow: ``.keras`` zips, legacy ``.h5`` files, ``to_json()`` files,
tf-keras SavedModel directories (``keras_metadata.pb``, see :mod:`bnlint.readers.savedmodel`).

Only the architecture JSON is read here (h5 attributes / zip members, with
size bounds); weights are never loaded, nothing is unpickled or unmarshalled
(a Lambda layer's serialized bytecode stays an opaque string).
"""

from __future__ import annotations

import json
import zipfile
import zlib
from pathlib import Path
from typing import Any

from bnlint import graph
from bnlint.readers.config import ConfigError, model_from_config

SAVED_SUFFIXES = (".keras", ".h5", ".hdf5", ".json")  # and SavedModel directories
MAX_CONFIG_BYTES = 64 * 1024 * 1024  # an architecture JSON larger than this is not a model
MAX_METADATA_BYTES = 1 << 20
#: a zip member that inflates more than this many times its compressed size (and to more
#: than MIN_RATIO_CHECK_BYTES) is a zip bomb, not a Keras config (real ones: ~5-30x)
MAX_COMPRESSION_RATIO = 200
MIN_RATIO_CHECK_BYTES = 1 << 20
MAX_JSON_DEPTH = 100  # dict/list nesting of a config (real Keras configs: < 30)
MAX_LAYERS = 100_000  # layer configs in one file, nested models included


class ReadError(Exception):
    """A file bnlint cannot read as a Keras model; the message is one line."""


def _loads(text: str | bytes, what: str) -> Any:
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ReadError(f"{what} is not valid JSON ({exc.__class__.__name__}: {exc})") from None
    except RecursionError:
        raise ReadError(f"{what} is nested too deeply (bound {MAX_JSON_DEPTH}); refusing to "
                        "read") from None
    check_bounds(data, what)
    return data


def check_bounds(data: Any, what: str = "the config") -> None:
    """Refuse JSON nested deeper than MAX_JSON_DEPTH or with more than MAX_LAYERS layers.

    Iterative, so it cannot itself overflow the stack.
    """
    stack: list[tuple[Any, int]] = [(data, 1)]
    layers = 0
    while stack:
        obj, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ReadError(f"{what} is nested deeper than {MAX_JSON_DEPTH} levels; "
                            "refusing to read")
        if isinstance(obj, dict):
            if isinstance(obj.get("layers"), list):
                layers += len(obj["layers"])
                if layers > MAX_LAYERS:
                    raise ReadError(f"{what} has more than {MAX_LAYERS} layers; refusing "
                                    "to read")
            stack.extend((v, depth + 1) for v in obj.values() if isinstance(v, (dict, list)))
        elif isinstance(obj, list):
            stack.extend((v, depth + 1) for v in obj if isinstance(v, (dict, list)))


def _member(zf: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """A zip member, refusing zip bombs: declared size, compression ratio, actual size."""
    info = zf.getinfo(name)
    if info.file_size > limit:
        raise ReadError(f"{name} is {info.file_size} bytes (bound {limit}); refusing to read")
    if info.file_size > MIN_RATIO_CHECK_BYTES and \
            info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
        raise ReadError(f"{name} inflates {info.file_size // max(info.compress_size, 1)}x "
                        f"(bound {MAX_COMPRESSION_RATIO}x): a zip bomb? refusing to read")
    with zf.open(info) as f:
        data = f.read(limit + 1)  # never more than the bound, whatever the header says
    if len(data) > limit:
        raise ReadError(f"{name} is larger than {limit} bytes; refusing to read")
    return data


def _read_keras_zip(path: Path) -> tuple[dict[str, Any], str | None]:
    if not zipfile.is_zipfile(path):
        raise ReadError("not a .keras archive (not a zip file; truncated or another format?)")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "config.json" not in names:
                raise ReadError("the .keras archive has no config.json")
            config = _loads(_member(zf, "config.json", MAX_CONFIG_BYTES), "config.json")
            version = None
            if "metadata.json" in names and \
                    zf.getinfo("metadata.json").file_size < MAX_METADATA_BYTES:
                try:
                    meta = _loads(_member(zf, "metadata.json", MAX_METADATA_BYTES),
                                  "metadata.json")
                except ReadError:
                    meta = None
                if isinstance(meta, dict):
                    version = meta.get("keras_version")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError,
            ValueError, zlib.error) as exc:
        raise ReadError(f"damaged .keras archive ({exc})") from None
    return config, version if isinstance(version, str) else None


def _attr_text(value: Any) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        return value
    return None


def _read_h5(path: Path) -> tuple[dict[str, Any], str | None]:
    try:
        import h5py
    except ImportError:  # pragma: no cover - h5py is a runtime dependency
        raise ReadError("reading .h5 files needs h5py") from None
    try:
        with h5py.File(path, "r") as f:
            if "model_config" in f.attrs:
                attr = f.attrs.get_id("model_config")
                if attr.get_storage_size() > MAX_CONFIG_BYTES:
                    raise ReadError("model_config is too large")
            raw = f.attrs.get("model_config")
            version = _attr_text(f.attrs.get("keras_version"))
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise ReadError(f"not a readable HDF5 file ({exc.__class__.__name__}: "
                        f"{' '.join(str(exc).split())[:160]})") from None
    text = _attr_text(raw)
    if text is None:
        raise ReadError("the .h5 file has no model_config (a weights-only file? pair it with "
                        "the architecture: bnlint summarize model.py --weights-file FILE)")
    if len(text) > MAX_CONFIG_BYTES:
        raise ReadError("model_config is too large")
    data = _loads(text, "model_config")
    if not isinstance(data, dict):
        raise ReadError("model_config is not a JSON object")
    return data, version


def _read_json(path: Path) -> tuple[dict[str, Any], str | None]:
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise ReadError("file too large for a model config")
    data = _loads(path.read_bytes(), "the file")
    if not isinstance(data, dict):
        raise ReadError("not a Keras model config (top level is not an object)")
    version = data.get("keras_version")
    return data, version if isinstance(version, str) else None


def _read_saved_model_dir(p: Path) -> tuple[dict[str, Any], str | None]:
    """The config of a tf-keras SavedModel directory (from keras_metadata.pb)."""
    from bnlint.readers.savedmodel import SavedModelError, read_metadata_config
    from bnlint.readers.tfpaths import is_saved_model_dir

    if not is_saved_model_dir(p):
        raise ReadError("a directory that is not a TensorFlow SavedModel (no saved_model.pb)")
    try:
        config, version = read_metadata_config(p)
    except SavedModelError as exc:
        raise ReadError(str(exc)) from None
    check_bounds(config, "the config in keras_metadata.pb")
    return config, version


def read_config(path: str | Path) -> tuple[dict[str, Any], str | None]:
    """The architecture JSON of a saved model and the Keras version that wrote it."""
    p = Path(path)
    try:
        if p.is_dir():
            return _read_saved_model_dir(p)
        from bnlint.readers.tfpaths import is_checkpoint_prefix

        if is_checkpoint_prefix(p) and (p.suffix == ".index" or not p.exists()):
            raise ReadError("a TF checkpoint holds weights only, no architecture: pair it "
                            "with one (bnlint summarize model.py --weights-file CHECKPOINT)")
        if not p.is_file():
            raise ReadError("no such file" if not p.exists() else "not a regular file")
        suffix = p.suffix.lower()
        if suffix == ".keras":
            return _read_keras_zip(p)
        if suffix in (".h5", ".hdf5"):
            return _read_h5(p)
        if suffix == ".json":
            return _read_json(p)
    except PermissionError:
        raise ReadError("permission denied") from None
    except OSError as exc:
        raise ReadError(f"cannot read ({exc.strerror or exc})") from None
    raise ReadError(f"unsupported file type `{p.suffix}` (expected {', '.join(SAVED_SUFFIXES)})")


def read_saved_model(path: str | Path) -> graph.Model:
    """The typed graph of a saved model file. Raises :class:`ReadError` with one line."""
    config, version = read_config(path)
    if not isinstance(config, dict) or "class_name" not in config or "config" not in config:
        raise ReadError("not a Keras model config (expected `class_name` and `config`)")
    try:
        return model_from_config(config, str(path), version)
    except ConfigError as exc:
        raise ReadError(str(exc)) from None
    except RecursionError:
        raise ReadError("model config is nested too deeply") from None
