"""Reproduce the speed figures of the README: bnlint vs Keras, side by side, same run.

    python benchmarks/bench_summary.py [--runs 5] [--update-readme]

Each measurement is a fresh process (``/usr/bin/time``-style: wall clock from the
parent, peak RSS of the child from ``resource.getrusage(RUSAGE_CHILDREN)``), and
the median of ``--runs`` runs is reported.  Models are created in
``benchmarks/out/`` with real Keras (``weights=None``: no download).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

from common import ENV, OUT, ROOT, compile_bytecode, median_run, versions

README = ROOT / "README.md"


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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--update-readme", action="store_true")
    args = ap.parse_args()
    paths = make_models()
    compile_bytecode()
    bnlint = [sys.executable, "-m", "bnlint", "summarize"]
    keras_summary = [sys.executable, "-c",
                     "import sys, keras; keras.models.load_model(sys.argv[1]).summary()"]
    rows = []
    for label, path in (("seed 000 model (.keras)", paths["seed000"]),
                        ("ResNet50 (.keras, 98 MB)", paths["resnet50"])):
        b_t, b_m = median_run([*bnlint, str(path)], args.runs)
        k_t, k_m = median_run([*keras_summary, str(path)], args.runs)
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
