"""The truth of the real-world corpus: each entry's model built by real Keras.

Entries of ``manifest.json`` run in fresh Python processes, a few per process (``--batch``),
the Keras session cleared before each so automatic names start from zero, with a timeout
(an entry whose process dies is run again alone): a function target is imported from its package (its source
root and its dependencies' on ``sys.path``) and called with the entry's arguments (Python
expressions, evaluated in the module's namespace); a script runs with its defines,
substitutions and ``run_until`` cut (``tests/oracle_facts.run_program_facts``), then its
target if it has one. ``keras_facts`` of the model(s) goes to ``truth/<id>.json``.
Keras 2 entries run tf_keras (``TF_USE_LEGACY_KERAS=1``, so ``tensorflow.keras`` is tf_keras).

An entry that fails under Keras is moved from ``entries`` to ``dropped`` with the reason
(``--drop``); without ``--drop`` failures are only printed.

    python benchmarks/realworld/make_truth.py                 # all entries without a truth
    python benchmarks/realworld/make_truth.py --force ID ...  # rebuild some
    python benchmarks/realworld/make_truth.py --drop -j 2     # and drop the failures
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import (
    DEFAULT_MIRROR,
    ROOT,
    TRUTH,
    NotAvailable,
    entry_files,
    load_manifest,
    module_name,
    save_manifest,
    truth_text,
)

WORKER = r'''
import contextlib, importlib, io, json, os, sys, traceback
reqs = json.loads(sys.stdin.read())
sys.path.insert(0, reqs[0]["tests"])
from oracle_facts import keras_facts, run_program_facts
version = reqs[0]["version"]
if version == 3:
    import keras
    base_ns = {"keras": keras}
    clear_session = keras.backend.clear_session
else:
    import tf_keras
    base_ns = {"tf_keras": tf_keras}
    clear_session = tf_keras.backend.clear_session
import numpy as np
base_ns["np"] = np
home = os.getcwd()
stubbed = False

def install_stubs():
    # keras.datasets.*.load_data without the network: arrays of the real shapes and dtypes,
    # fewer samples (the model does not depend on the values or the sample count).
    rng = np.random.default_rng(0)
    def images(shape, n):
        return np.zeros((n, *shape), dtype="uint8")
    def labels(n, k, col=False):
        y = (np.arange(n) % k).astype("uint8")
        return y.reshape(-1, 1) if col else y
    def sequences(n, num_words):
        top = num_words or 20000
        return np.array([list(rng.integers(1, top, size=int(rng.integers(40, 300))))
                         for _ in range(n)], dtype=object)
    def stub(name, fn):
        ds = importlib.import_module(("keras" if version == 3 else "tf_keras") + ".datasets." + name)
        ds.load_data = fn
    stub("mnist", lambda *a, **k: ((images((28, 28), 256), labels(256, 10)), (images((28, 28), 64), labels(64, 10))))
    stub("fashion_mnist", lambda *a, **k: ((images((28, 28), 256), labels(256, 10)), (images((28, 28), 64), labels(64, 10))))
    stub("cifar10", lambda *a, **k: ((images((32, 32, 3), 256), labels(256, 10, True)), (images((32, 32, 3), 64), labels(64, 10, True))))
    stub("cifar100", lambda *a, **k: ((images((32, 32, 3), 256), labels(256, 100, True)), (images((32, 32, 3), 64), labels(64, 100, True))))
    stub("imdb", lambda *a, num_words=None, **k: ((sequences(128, num_words), labels(128, 2)), (sequences(32, num_words), labels(32, 2))))
    stub("reuters", lambda *a, num_words=None, **k: ((sequences(128, num_words), labels(128, 46)), (sequences(32, num_words), labels(32, 46))))
    stub("boston_housing", lambda *a, **k: ((np.zeros((256, 13)), np.zeros(256)), (np.zeros((64, 13)), np.zeros(64))))

def evaluate(exprs, ns):
    return {k: eval(v, dict(ns)) for k, v in exprs.items()}

def call(ns, target, args):
    owner, dot, meth = target.partition(".")
    obj = ns[owner]
    kwargs = evaluate(args, {**base_ns, **ns})
    if dot:
        import inspect
        if isinstance(inspect.getattr_static(obj, meth), (staticmethod, classmethod)):
            return getattr(obj, meth)(**kwargs)
        return getattr(obj(), meth)(**kwargs)
    return obj(**kwargs)

for i, req in enumerate(reqs):
    # Each entry starts from a cleared session: Keras's automatic names count from zero, as
    # in a fresh process.
    clear_session()
    os.chdir(home)
    # Each entry sees only its own roots and imports its own modules afresh (two sources may
    # both have a top-level ``utils``); Keras, TensorFlow and NumPy stay imported.
    saved_path = list(sys.path)
    saved_modules = set(sys.modules)
    for r in reversed(req["roots"]):
        sys.path.insert(0, r)
    if req.get("stub_datasets") and not stubbed:
        install_stubs()
        stubbed = True
    out = {"error": None, "models": {}}
    buf = io.StringIO()
    try:
        defines = evaluate(req["defines"], base_ns)
        if req["module"] and req["target"]:
            with contextlib.redirect_stdout(buf):
                mod = importlib.import_module(req["module"])
                model = call(vars(mod), req["target"], req["args"])
            out["models"]["<target>"] = keras_facts(model, version)
        elif req["target"]:
            ns = {"__name__": "__main__", "__file__": req["path"], **defines}
            with contextlib.redirect_stdout(buf):
                exec(compile(req["text"], req["path"], "exec"), ns)
                model = call(ns, req["target"], req["args"])
            out["models"]["<target>"] = keras_facts(model, version)
        else:
            os.chdir(os.path.dirname(req["path"]))
            out = run_program_facts(req["text"], req["path"], version, defines)
    except BaseException as exc:
        tb = traceback.extract_tb(exc.__traceback__)
        where = f"{os.path.basename(tb[-1].filename)}:{tb[-1].lineno}" if tb else "?"
        out["error"] = f"{type(exc).__name__}: {str(exc)[:300]} ({where})"
    sys.path[:] = saved_path
    for name in set(sys.modules) - saved_modules:
        if not name.startswith(("keras", "tf_keras", "tensorflow", "numpy")):
            del sys.modules[name]
    sys.stdout.write(f"@@TRUTH@@{i} " + json.dumps(out, sort_keys=True) + "\n")
    sys.stdout.flush()
'''


def request(manifest: dict[str, Any], entry: dict[str, Any], mirror: Path) -> dict[str, Any]:
    """The worker's request for an entry (raises NotAvailable)."""
    path, roots = entry_files(manifest, entry, mirror)
    version = entry.get("keras", 3)
    raw = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".ipynb":  # the cells as one program, as bnlint reads a notebook
        sys.path.insert(0, str(ROOT))
        from bnlint.readers.notebook import join_cells, notebook_cells

        raw, _ = join_cells(notebook_cells(json.loads(raw)))
    text = truth_text(entry, raw)
    module = None
    if entry.get("target") and not entry.get("subs") and not entry.get("run_until"):
        module = module_name(roots[0], path)
        if module is None:  # a top-level module file: import it by its stem
            roots = [path.parent, *roots]
            module = path.stem
    return {"tests": str(ROOT / "tests"), "roots": [str(r) for r in roots], "path": str(path),
            "module": module, "text": text, "target": entry.get("target"),
            "args": entry.get("args", {}), "defines": entry.get("defines", {}),
            "version": version, "stub_datasets": entry.get("stub_datasets", False)}


def run_batch(reqs: list[dict[str, Any]], timeout: float) -> list[dict[str, Any] | None]:
    """Run requests of one Keras version in one fresh process, the session cleared before
    each; None for those the process did not answer (it died or timed out)."""
    version = reqs[0]["version"]
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env.update(TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore", KERAS_HOME=home,
                   CUDA_VISIBLE_DEVICES="-1", KERAS_BACKEND="tensorflow",
                   TF_USE_LEGACY_KERAS="1" if version == 2 else "0")
        try:
            proc = subprocess.run([sys.executable, "-c", WORKER], input=json.dumps(reqs),
                                  capture_output=True, text=True, env=env, cwd=home,
                                  timeout=timeout * len(reqs))
            stdout = proc.stdout
        except subprocess.TimeoutExpired as exc:
            stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
    outs: list[dict[str, Any] | None] = [None] * len(reqs)
    for ln in stdout.splitlines():
        if ln.startswith("@@TRUTH@@"):
            idx, _, body = ln[len("@@TRUTH@@"):].partition(" ")
            outs[int(idx)] = json.loads(body)
    return outs


def finish(entry: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
    wanted = entry.get("models")
    if wanted:
        out["models"] = {k: v for k, v in out["models"].items() if k in wanted}
    return out


def failure(entry: dict[str, Any], out: dict[str, Any]) -> str | None:
    """Why this truth is unusable (the entry is dropped), or None."""
    good = {k: v for k, v in out["models"].items() if "layers" in v}
    if out.get("error") and (entry.get("target") or not good):
        return out["error"]
    if not good:
        return "no built model"
    bad = [k for k, v in out["models"].items() if "layers" not in v]
    if entry.get("models") and bad:
        return f"model(s) not built: {bad}"
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ids", nargs="*")
    ap.add_argument("--force", action="store_true", help="rebuild existing truths")
    ap.add_argument("--drop", action="store_true", help="move failing entries to 'dropped'")
    ap.add_argument("--mirror", type=Path, default=DEFAULT_MIRROR)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("-j", "--jobs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=8,
                    help="entries per worker process (the session is cleared between them)")
    ns = ap.parse_args(argv)
    manifest = load_manifest()
    entries = [e for e in manifest["entries"] if not ns.ids or e["id"] in ns.ids]
    if not ns.force:
        entries = [e for e in entries if not (TRUTH / f"{e['id']}.json").is_file()]
    TRUTH.mkdir(exist_ok=True)

    work: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for e in entries:
        try:
            work.append((e, request(manifest, e, ns.mirror)))
        except NotAvailable as exc:
            print(f"{e['id']}: not available: {exc}")
    batches = []
    for version in (3, 2):
        mine = [w for w in work if w[1]["version"] == version]
        batches += [mine[i:i + ns.batch] for i in range(0, len(mine), ns.batch)]

    def one(batch: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[tuple[dict, dict]]:
        outs = run_batch([r for _, r in batch], ns.timeout)
        done = []
        for (entry, req), out in zip(batch, outs, strict=True):
            if out is None and len(batch) > 1:  # the process died: this one alone
                out = run_batch([req], ns.timeout)[0]
            if out is None:
                out = {"error": "the worker died or timed out", "models": {}}
            done.append((entry, finish(entry, out)))
        return done

    dropped: dict[str, str] = {}
    with ThreadPoolExecutor(ns.jobs) as pool:
        for batch_out in pool.map(one, batches):
            for entry, out in batch_out:
                why = failure(entry, out)
                if why:
                    print(f"{entry['id']}: FAILS under Keras: {why}", flush=True)
                    dropped[entry["id"]] = why
                    continue
                out["models"] = {k: v for k, v in out["models"].items() if "layers" in v}
                (TRUTH / f"{entry['id']}.json").write_text(
                    json.dumps(out, indent=1, sort_keys=True) + "\n")
                sizes = {k: v["total_params"] for k, v in out["models"].items()}
                print(f"{entry['id']}: {sizes}", flush=True)
    if ns.drop and dropped:
        manifest = load_manifest()
        keep = []
        for e in manifest["entries"]:
            if e["id"] in dropped:
                manifest.setdefault("dropped", []).append({**e, "reason": dropped[e["id"]]})
            else:
                keep.append(e)
        manifest["entries"] = keep
        save_manifest(manifest)
        print(f"dropped {len(dropped)} entries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
