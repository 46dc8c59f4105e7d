"""Benchmark the static source reader (fresh processes, medians; prints a Markdown table).

1. ``bnlint summarize`` on seed 000's script vs importing TensorFlow/Keras, building the same
   model and calling ``model.summary()``.
2. The whole ``keras/src/applications/`` directory: every public application function
   summarized statically (one ``bnlint`` process per module file, all functions of the
   module; the modules dealt out to one process per ``--jobs`` worker), wall time.

    python benchmarks/bench_source.py [--repeat 5] [--jobs 2]
"""

from __future__ import annotations

import argparse
import ast
import json
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import ENV, ROOT, compile_bytecode, median_run, versions

SEED0 = ROOT / "fixtures" / "source" / "seed000_batchnorm_dnn.py"

KERAS_SNIPPET = r"""
import sys
from pathlib import Path
text = Path(sys.argv[1]).read_text()
ns = {"num_classes": 38}
import keras  # imports TensorFlow (the backend)
exec(compile(text.split("modelbatch.compile")[0], sys.argv[1], "exec"), ns)
ns["modelbatch"].summary()
"""

APPS_WORKER = r"""
import json, sys
from bnlint.readers.source import read_source
for path, names in json.loads(sys.argv[1]):
    for name in names:
        r = read_source(path, function=name, args={"weights": "None"})
        assert r.models and r.models[0].total_params is not None, name
"""


def timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=ENV, cwd=str(ROOT))
    return time.perf_counter() - t


def app_functions() -> dict[Path, list[str]]:
    sys.path.insert(0, str(ROOT))
    from bnlint.readers.source import _keras_apps_dir

    root = _keras_apps_dir(3)
    out: dict[Path, list[str]] = {}
    if root is None:
        return out
    for f in sorted(root.glob("*.py")):
        if f.name.endswith("_test.py") or f.name.startswith("_"):
            continue
        names = [
            n.name for n in ast.parse(f.read_text()).body
            if isinstance(n, ast.FunctionDef) and n.name[0].isupper()
            and any(isinstance(d, ast.Call) and getattr(d.func, "id", None) == "keras_export"
                    for d in n.decorator_list)
        ]
        if names:
            out[f] = names
    return out


def apps_once(apps: dict[Path, list[str]], jobs: int) -> float:
    """One worker process per core, the modules dealt out round-robin by size."""
    shares: list[list[tuple[str, list[str]]]] = [[] for _ in range(jobs)]
    for i, (path, names) in enumerate(sorted(apps.items(), key=lambda kv: -len(kv[1]))):
        shares[i % jobs].append((str(path), names))
    t = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(lambda share: timed([sys.executable, "-c", APPS_WORKER,
                                           json.dumps(share)]), shares))
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=2)
    ns = ap.parse_args()
    compile_bytecode()
    (bn, bn_mb) = median_run([sys.executable, "-m", "bnlint", "summarize", str(SEED0), "--define",
                 "num_classes=38"], ns.repeat)
    (tf, tf_mb) = median_run([sys.executable, "-c", KERAS_SNIPPET, str(SEED0)], ns.repeat)
    apps = app_functions()
    n = sum(len(v) for v in apps.values())
    whole = statistics.median(apps_once(apps, ns.jobs) for _ in range(max(1, ns.repeat // 2)))
    print(f"Measured by `python benchmarks/bench_source.py --repeat {ns.repeat}` on "
          f"{time.strftime('%Y-%m-%d')}: {versions()}. Fresh processes, medians.\n")
    print("| Benchmark | Time | Peak RSS |")
    print("| --- | ---: | ---: |")
    print(f"| `bnlint summarize` seed 000 (`--define num_classes=38`) | {bn:.2f} s | "
          f"{bn_mb:.0f} MB |")
    print(f"| import TensorFlow + build seed 000 + `model.summary()` | {tf:.2f} s | "
          f"{tf_mb:.0f} MB |")
    print(f"| speed-up | {tf / bn:.1f}× | |")
    print(f"| all {n} `keras/src/applications` functions ({len(apps)} modules, "
          f"{ns.jobs} workers) | {whole:.2f} s | |")


if __name__ == "__main__":
    main()
