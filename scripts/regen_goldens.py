#!/usr/bin/env python
"""Regenerate the oracle fixtures and goldens under ``fixtures/`` with real Keras.

Usage::

    python scripts/regen_goldens.py [--only applications|models] [--check]
                                    [--keras 3|2] [--names A,B,...]

What it writes (see ``fixtures/README.md``):

* ``fixtures/applications/keras3/<Name>.json.gz`` and ``<Name>.golden.json`` for
  every constructor in ``keras.applications`` (``weights=None``, default input
  shape); the same for ``tf_keras.applications`` in ``fixtures/applications/keras2/``.
  Constructors that fail here are listed in ``SKIPPED.txt`` with the error line.
* ``fixtures/models/<name>.{keras,k3.h5,k3.json,k2.h5,k2.json}`` plus
  ``<name>.k3.golden.json`` / ``<name>.k2.golden.json`` for the small models in
  ``MODELS`` below.

Every golden is ``tests/oracle_facts.keras_facts(model, version)`` dumped with
``indent=1, sort_keys=True``. Each Keras version runs in its own subprocess
(``--worker``), so keras and tf_keras never share a process here.

``--check`` regenerates into a temporary directory and compares the goldens
(facts JSON only, never the binary saved files) with the committed ones; it
exits 1 on any difference.

This module is importable without Keras (the model builders take the Keras
module as an argument), so ``tests/test_goldens.py`` reuses ``build_model`` and
``build_application``.
"""

from __future__ import annotations

import argparse
import difflib
import gc
import gzip
import importlib.util
import inspect
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
SEED = 1234
VERSIONS = (3, 2)
# Fixed timestamps for the .keras zip container (see _normalize_keras_zip).
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
DATE_SAVED = "1980-01-01@00:00:00"


def load_oracle_facts() -> ModuleType:
    """Import ``tests/oracle_facts.py`` by path (tests/ is not a package)."""
    name = "oracle_facts"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "tests" / "oracle_facts.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _quiet_logs() -> None:
    """Silence absl/TF Python warnings (legacy-h5 notices etc.) in worker output."""
    import logging

    logging.getLogger("absl").setLevel(logging.ERROR)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


def import_keras(version: int) -> ModuleType:
    if version == 3:
        import keras

        if not keras.__version__.startswith("3."):
            raise RuntimeError(f"`keras` is {keras.__version__}, expected Keras 3")
        return keras
    if version == 2:
        import tf_keras

        return tf_keras
    raise ValueError(f"unknown Keras version {version!r}")


def fresh_session(k: ModuleType) -> None:
    """Reset Keras global state (auto-name counters) and all random seeds."""
    k.backend.clear_session()
    k.utils.set_random_seed(SEED)


def golden_text(facts: dict[str, Any]) -> str:
    return json.dumps(facts, indent=1, sort_keys=True) + "\n"


# --------------------------------------------------------------------------
# keras.applications
# --------------------------------------------------------------------------


def application_names(k: ModuleType) -> list[str]:
    """Every model constructor exported by ``k.applications``, sorted."""
    apps = k.applications
    return sorted(
        name for name in dir(apps) if name[:1].isupper() and inspect.isfunction(getattr(apps, name))
    )


def build_application(k: ModuleType, name: str) -> Any:
    fresh_session(k)
    return getattr(k.applications, name)(weights=None)


# --------------------------------------------------------------------------
# small models (same code for keras and tf_keras)
# --------------------------------------------------------------------------


def _seed000_dnn_bn(k: ModuleType) -> Any:
    # ../shared/seeds/000: Sequential DNN with BN after every Dense, num_classes=38.
    L = k.layers
    m = k.Sequential()
    m.add(L.Dense(512, input_dim=1120))
    m.add(L.BatchNormalization())
    m.add(L.Activation("relu"))
    m.add(L.Dropout(0.5))
    m.add(L.Dense(256))
    m.add(L.BatchNormalization())
    m.add(L.Activation("relu"))
    m.add(L.Dropout(0.5))
    m.add(L.Dense(38))
    m.add(L.BatchNormalization())
    m.add(L.Activation("softmax"))
    return m


def _seed001_mnist_mlp_bn(k: ModuleType) -> Any:
    # ../shared/seeds/001: MNIST MLP 784 -> 392 -> 196 -> 10, BN after each hidden Dense.
    L = k.layers
    m = k.Sequential()
    m.add(L.Dense(392, activation="relu", input_shape=(784,)))
    m.add(L.BatchNormalization())
    m.add(L.Dense(196, activation="relu"))
    m.add(L.BatchNormalization())
    m.add(L.Dense(10, activation="softmax"))
    return m


def _seed002_conv_bn(k: ModuleType) -> Any:
    # ../shared/seeds/002: a Conv2D followed by BatchNormalization.
    L = k.layers
    return k.Sequential(
        [L.Conv2D(32, (3, 3), padding="same", input_shape=(28, 28, 1)), L.BatchNormalization()]
    )


def _functional_depth_order(k: ModuleType) -> Any:
    # Two branches from one input: model.layers / get_weights() order follows graph depth.
    L = k.layers
    inp = k.Input((10,))
    a = L.Dense(8)(inp)
    b = L.Dense(4)(inp)
    c = L.BatchNormalization()(b)
    d = L.Concatenate()([a, c])
    out = L.Dense(3, activation="softmax")(d)
    return k.Model(inp, out)


def _nested_frozen(k: ModuleType) -> Any:
    # A Sequential used as one layer of a functional model, frozen (trainable=False).
    L = k.layers
    backbone = k.Sequential(
        [k.Input((8,)), L.Dense(16), L.BatchNormalization(), L.Activation("relu")],
        name="backbone",
    )
    backbone.trainable = False
    inp = k.Input((8,))
    x = backbone(inp)
    x = L.Dense(4)(x)
    x = L.BatchNormalization()(x)
    out = L.Dense(2, activation="softmax")(x)
    return k.Model(inp, out)


def _shared_layer(k: ModuleType) -> Any:
    # One Dense layer called twice: its weights exist (and are counted) once.
    L = k.layers
    shared = L.Dense(6, name="shared_dense")
    inp = k.Input((6,))
    x = shared(inp)
    x = L.BatchNormalization()(x)
    x = shared(x)
    out = L.Dense(1)(x)
    return k.Model(inp, out)


def _bn_center_scale(k: ModuleType) -> Any:
    # BatchNormalization without beta (center=False) and without gamma (scale=False).
    L = k.layers
    return k.Sequential(
        [
            k.Input((5,)),
            L.Dense(4),
            L.BatchNormalization(center=False),
            L.Dense(3),
            L.BatchNormalization(scale=False),
        ]
    )


MODELS: dict[str, Callable[[ModuleType], Any]] = {
    "seed000_dnn_bn": _seed000_dnn_bn,
    "seed001_mnist_mlp_bn": _seed001_mnist_mlp_bn,
    "seed002_conv_bn": _seed002_conv_bn,
    "functional_depth_order": _functional_depth_order,
    "nested_frozen": _nested_frozen,
    "shared_layer": _shared_layer,
    "bn_center_scale": _bn_center_scale,
}


def build_model(k: ModuleType, name: str) -> Any:
    fresh_session(k)
    return MODELS[name](k)


def model_files(name: str, version: int) -> dict[str, str]:
    """Saved-file kind -> file name, for one small model and Keras version."""
    if version == 3:
        return {
            "keras": f"{name}.keras",
            "h5": f"{name}.k3.h5",
            "json": f"{name}.k3.json",
            "golden": f"{name}.k3.golden.json",
        }
    return {"h5": f"{name}.k2.h5", "json": f"{name}.k2.json", "golden": f"{name}.k2.golden.json"}


# --------------------------------------------------------------------------
# worker side (runs inside one Keras version's subprocess)
# --------------------------------------------------------------------------


def _log(version: int, msg: str) -> None:
    print(f"[keras{version}] {msg}", flush=True)


def _error_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip()


def _prune(out: Path, keep: set[str], patterns: tuple[str, ...]) -> None:
    """Delete files matching ``patterns`` in ``out`` that this run did not write."""
    for pattern in patterns:
        for path in out.glob(pattern):
            if path.name not in keep:
                print(f"  removing stale {path}", flush=True)
                path.unlink()


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def worker_applications(version: int, out: Path, names: list[str] | None) -> int:
    k = import_keras(version)
    oracle = load_oracle_facts()
    out.mkdir(parents=True, exist_ok=True)
    available = application_names(k)
    todo = available if names is None else [n for n in names if n in available]
    unknown = [] if names is None else [n for n in names if n not in available]
    for n in unknown:
        _log(version, f"no constructor {n!r} in {k.__name__}.applications; ignored")
    _log(version, f"{k.__name__} {k.__version__}: {len(todo)} of {len(available)} constructors")
    written: set[str] = set()
    skipped: list[str] = []
    t_all = time.perf_counter()
    for i, name in enumerate(todo, 1):
        t0 = time.perf_counter()
        try:
            model = build_application(k, name)
            t_build = time.perf_counter() - t0
            config = model.to_json()
            facts = oracle.keras_facts(model, version)
        except Exception as exc:  # recorded in SKIPPED.txt, never hidden
            line = _error_line(exc)
            skipped.append(f"{name}: {line}")
            _log(version, f"{i:3d}/{len(todo)} {name}: SKIPPED ({line})")
            continue
        finally:
            model = None
            k.backend.clear_session()
            gc.collect()
        _write(out / f"{name}.json.gz", gzip.compress(config.encode("utf-8"), 9, mtime=0))
        (out / f"{name}.golden.json").write_text(golden_text(facts), encoding="utf-8")
        written.update({f"{name}.json.gz", f"{name}.golden.json"})
        _log(
            version,
            f"{i:3d}/{len(todo)} {name}: {len(facts['layers'])} layers, "
            f"{facts['total_params']:,} params, build {t_build:.1f}s, "
            f"total {time.perf_counter() - t0:.1f}s",
        )
    skipped_file = out / "SKIPPED.txt"
    if names is None:  # full run: the directory is exactly what this run produced
        _prune(out, written, ("*.json.gz", "*.golden.json"))
        if skipped:
            header = (
                f"# {k.__name__} {k.__version__}: applications constructors that failed in "
                "scripts/regen_goldens.py (name: error line)\n"
            )
            skipped_file.write_text(header + "\n".join(skipped) + "\n", encoding="utf-8")
        elif skipped_file.exists():
            skipped_file.unlink()
    elif skipped:
        _log(version, "partial run (--names): SKIPPED.txt not rewritten")
    _log(
        version,
        f"applications done: {len(written) // 2} written, {len(skipped)} skipped, "
        f"{time.perf_counter() - t_all:.1f}s",
    )
    return 0


def _renumber_shared_ids(text: str) -> str:
    ids: dict[str, int] = {}

    def repl(match: re.Match[str]) -> str:
        new = ids.setdefault(match.group(2), len(ids) + 1)
        return f"{match.group(1)}{new}"

    return re.sub(r'("shared_object_id":\s*)(\d+)', repl, text)


def _normalize_keras_zip(path: Path) -> None:
    """Make a ``.keras`` archive byte-stable across runs.

    Keras writes the current time twice (the zip members' mtimes and
    ``metadata.json["date_saved"]``) and, in ``config.json``, Python ``id()``s as
    ``shared_object_id`` tokens. Times become fixed values and the ids are
    renumbered 1, 2, ... in order of first appearance (same identity relation).
    Member order, names, other contents and the stored layout are kept.
    """
    with zipfile.ZipFile(path) as src:
        members = [(info, src.read(info.filename)) for info in src.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for info, data in members:
            if info.filename == "metadata.json":
                meta = json.loads(data)
                if "date_saved" in meta:
                    meta["date_saved"] = DATE_SAVED
                data = json.dumps(meta, indent=4).encode("utf-8")
            elif info.filename == "config.json":
                data = _renumber_shared_ids(data.decode("utf-8")).encode("utf-8")
            new = zipfile.ZipInfo(info.filename, date_time=ZIP_EPOCH)
            new.compress_type = info.compress_type
            new.external_attr = info.external_attr
            new.create_system = 3
            dst.writestr(new, data)
    path.write_bytes(buf.getvalue())


def _load_saved(k: ModuleType, path: Path) -> Any:
    if path.suffix == ".json":
        return k.models.model_from_json(path.read_text(encoding="utf-8"))
    return k.models.load_model(path, compile=False)


def worker_models(version: int, out: Path, names: list[str] | None) -> int:
    import warnings

    k = import_keras(version)
    oracle = load_oracle_facts()
    out.mkdir(parents=True, exist_ok=True)
    todo = list(MODELS) if names is None else [n for n in names if n in MODELS]
    _log(version, f"{k.__name__} {k.__version__}: {len(todo)} small models -> {out}")
    written: set[str] = set()
    problems: list[str] = []
    for i, name in enumerate(todo, 1):
        t0 = time.perf_counter()
        files = model_files(name, version)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # input_shape/input_dim and legacy-h5 warnings
            model = build_model(k, name)
            facts = oracle.keras_facts(model, version)
            golden = golden_text(facts)
            (out / files["json"]).write_text(model.to_json(), encoding="utf-8")
            model.save(out / files["h5"])
            if "keras" in files:
                model.save(out / files["keras"])
                _normalize_keras_zip(out / files["keras"])
            # The saved files must describe the same model as the golden.
            for kind in ("keras", "h5", "json"):
                if kind not in files:
                    continue
                k.backend.clear_session()
                loaded = _load_saved(k, out / files[kind])
                if golden_text(oracle.keras_facts(loaded, version)) != golden:
                    problems.append(f"{files[kind]}: reloaded facts differ from the live model")
        (out / files["golden"]).write_text(golden, encoding="utf-8")
        written.update(files.values())
        sizes = ", ".join(
            f"{files[kind]} {(out / files[kind]).stat().st_size:,} B"
            for kind in ("keras", "h5", "json")
            if kind in files
        )
        _log(
            version,
            f"{i}/{len(todo)} {name}: {facts['total_params']:,} params "
            f"({time.perf_counter() - t0:.1f}s; {sizes})",
        )
        model = None
        k.backend.clear_session()
        gc.collect()
    if names is None:
        mine = ("*.keras", "*.k3.*") if version == 3 else ("*.k2.*",)
        _prune(out, written, mine)
    for p in problems:
        _log(version, f"ERROR {p}")
    return 1 if problems else 0


# --------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------


def _worker_env(keras_home: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("TF_USE_LEGACY_KERAS", None)
    env.update(
        {
            "KERAS_BACKEND": "tensorflow",
            # A private KERAS_HOME: no user keras.json (image_data_format, floatx, ...)
            # can leak into the goldens, and nothing is written to ~/.keras.
            "KERAS_HOME": keras_home,
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "CUDA_VISIBLE_DEVICES": "-1",
            "PYTHONHASHSEED": "0",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _run_worker(
    part: str, version: int, out: Path, names: list[str] | None, keras_home: str
) -> tuple[int, float]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", part]
    cmd += ["--keras", str(version), "--out", str(out)]
    if names:
        cmd += ["--names", ",".join(names)]
    t0 = time.perf_counter()
    rc = subprocess.call(cmd, env=_worker_env(keras_home), cwd=REPO)
    return rc, time.perf_counter() - t0


def _targets(root: Path, parts: list[str], versions: list[int]) -> list[tuple[str, int, Path]]:
    out = []
    for part in parts:
        for v in versions:
            if part == "applications":
                out.append((part, v, root / "applications" / f"keras{v}"))
            else:
                out.append((part, v, root / "models"))
    return out


def _goldens(directory: Path, part: str, version: int) -> dict[str, str]:
    if not directory.is_dir():
        return {}
    pattern = "*.golden.json" if part == "applications" else f"*.k{version}.golden.json"
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(directory.glob(pattern))}


def _compare(committed: Path, fresh: Path, part: str, version: int, subset: bool) -> list[str]:
    old = _goldens(committed, part, version)
    new = _goldens(fresh, part, version)
    diffs = []
    for name in sorted(set(old) | set(new)):
        if name not in new:
            if not subset:
                diffs.append(f"{committed / name}: committed but no longer generated")
        elif name not in old:
            diffs.append(f"{committed / name}: missing (generated now)")
        elif old[name] != new[name]:
            delta = difflib.unified_diff(
                old[name].splitlines(),
                new[name].splitlines(),
                "committed",
                "regenerated",
                n=1,
                lineterm="",
            )
            body = "\n".join(list(delta)[2:14])
            diffs.append(f"{committed / name}: differs\n{body}")
    return diffs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("applications", "models"))
    parser.add_argument("--check", action="store_true", help="compare goldens; exit 1 on diff")
    parser.add_argument("--keras", type=int, choices=VERSIONS, help="one Keras version only")
    parser.add_argument("--names", help="comma-separated subset of models/constructors")
    parser.add_argument("--worker", choices=("applications", "models"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.names.split(",") if n.strip()] if args.names else None

    if args.worker:
        if args.keras is None or args.out is None:
            parser.error("--worker needs --keras and --out")
        _quiet_logs()
        fn = worker_applications if args.worker == "applications" else worker_models
        return fn(args.keras, args.out, names)

    parts = [args.only] if args.only else ["applications", "models"]
    versions = [args.keras] if args.keras else list(VERSIONS)
    status = 0
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="regen_goldens_") as tmp:
        keras_home = str(Path(tmp) / "keras_home")
        root = Path(tmp) / "fixtures" if args.check else FIXTURES
        timings = []
        for part, version, out in _targets(root, parts, versions):
            print(f"== {part} keras{version} -> {out}", flush=True)
            rc, seconds = _run_worker(part, version, out, names, keras_home)
            timings.append(f"{part} keras{version}: {seconds:.0f}s (exit {rc})")
            status = status or rc
        if args.check:
            diffs = []
            for (part, version, committed), (_, _, fresh) in zip(
                _targets(FIXTURES, parts, versions), _targets(root, parts, versions), strict=True
            ):
                diffs += _compare(committed, fresh, part, version, subset=names is not None)
            for d in diffs:
                print(f"DIFF {d}", flush=True)
            print(
                f"--check: {len(diffs)} golden(s) differ" if diffs else "--check: goldens current",
                flush=True,
            )
            if diffs:
                status = 1
    for line in timings:
        print(f"timing {line}", flush=True)
    print(f"total {time.perf_counter() - t_start:.0f}s", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
