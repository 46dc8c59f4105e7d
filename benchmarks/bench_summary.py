"""Reproduce the speed figures of the README: bnlint vs Keras, side by side, same run.

    python benchmarks/bench_summary.py [--runs 5] [--update-readme]

Each measurement is a fresh process (``/usr/bin/time``-style: wall clock from the
parent, peak RSS of the child from ``resource.getrusage(RUSAGE_CHILDREN)``), and
the median of ``--runs`` runs is reported.  Models are created in
``benchmarks/out/`` with real Keras (``weights=None``: no download).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
README = ROOT / "README.md"
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}


def _measure(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one fresh child process."""
    code = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "dt = time.perf_counter() - t\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(dt, rss, r.returncode)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True,
                         env=ENV, check=True).stdout.split()
    if out[2] != "0":
        raise SystemExit(f"benchmark command failed: {' '.join(cmd)}")
    return float(out[0]), float(out[1])


def median_of(cmd: list[str], runs: int) -> tuple[float, float]:
    results = [_measure(cmd) for _ in range(runs)]
    return statistics.median(r[0] for r in results), statistics.median(r[1] for r in results)


def make_models() -> dict[str, Path]:
    OUT.mkdir(parents=True, exist_ok=True)
    paths = {"resnet50": OUT / "resnet50.keras", "seed000": OUT / "seed000.keras"}
    if all(p.exists() for p in paths.values()):
        return paths
    script = f"""
import keras
from keras import layers
m = keras.applications.ResNet50(weights=None)
m.save({str(paths["resnet50"])!r})
s = keras.Sequential([keras.Input((1120,)), layers.Dense(512), layers.BatchNormalization(),
    layers.Activation("relu"), layers.Dropout(0.5), layers.Dense(256), layers.BatchNormalization(),
    layers.Activation("relu"), layers.Dropout(0.5), layers.Dense(38), layers.BatchNormalization(),
    layers.Activation("softmax")])
s.save({str(paths["seed000"])!r})
"""
    subprocess.run([sys.executable, "-c", script], env=ENV, check=True)
    return paths


def versions() -> str:
    code = "import keras, tensorflow, libcst, pydantic; print(keras.__version__, tensorflow.__version__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=ENV).stdout.split()
    keras_v, tf_v = [*out, "?", "?"][:2]
    from bnlint import __version__

    return (f"bnlint {__version__}, Python {platform.python_version()}, keras {keras_v}, "
            f"tensorflow {tf_v}, {platform.machine()}, {os.cpu_count()} cores")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--update-readme", action="store_true")
    args = ap.parse_args()
    paths = make_models()
    bnlint = [sys.executable, "-m", "bnlint", "summarize"]
    keras_summary = [sys.executable, "-c",
                     "import sys, keras; keras.models.load_model(sys.argv[1]).summary()"]
    rows = []
    for label, path in (("seed 000 model (.keras)", paths["seed000"]),
                        ("ResNet50 (.keras, 98 MB)", paths["resnet50"])):
        b_t, b_m = median_of([*bnlint, str(path)], args.runs)
        k_t, k_m = median_of([*keras_summary, str(path)], args.runs)
        rows.append((label, b_t, b_m, k_t, k_m))
    lines = [
        f"Measured by `python benchmarks/bench_summary.py --runs {args.runs}` on {time.strftime('%Y-%m-%d')}: "
        f"{versions()}. Fresh process per run, medians.",
        "",
        "| summarize | bnlint | `keras.models.load_model` + `summary()` | speed-up | bnlint peak RSS | Keras peak RSS |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, b_t, b_m, k_t, k_m in rows:
        lines.append(f"| {label} | {b_t:.2f} s | {k_t:.2f} s | {k_t / b_t:.1f}× | {b_m:.0f} MB | {k_m:.0f} MB |")
    table = "\n".join(lines)
    print(table)
    (ROOT / "benchmarks" / "results.md").write_text(table + "\n")
    if args.update_readme:
        text = README.read_text()
        new = re.sub(r"(<!-- bench:summary:start -->\n).*?(\n<!-- bench:summary:end -->)",
                     lambda m: m.group(1) + table + m.group(2), text, flags=re.S)
        README.write_text(new)


if __name__ == "__main__":
    main()
