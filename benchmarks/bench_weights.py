"""Reading every BatchNormalization statistic of ResNet50: bnlint (h5py) vs Keras.

    python benchmarks/bench_weights.py [--runs 5]

Creates ``benchmarks/out/resnet50_bench_weights.keras`` with real Keras
(``keras.applications.ResNet50(weights=None)``: no download) the first time. Each
measurement is a fresh Python process, timed from the parent (wall clock, interpreter
start and imports included); the median of ``--runs`` runs is printed as a Markdown
table, with the peak RSS of the child.

* bnlint: ``bn_statistics(path)`` — reads the architecture, maps the weights, reads the
  four arrays of each of the 53 BN layers, computes the statistics.
* Keras: ``keras.models.load_model(path)`` then ``get_weights()`` of each BN layer.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from common import ENV, OUT, compile_bytecode, median_run, versions

MODEL = OUT / "resnet50_bench_weights.keras"

BNLINT = """
import sys
from bnlint.weights_report import bn_statistics
stats = bn_statistics(sys.argv[1])
assert len(stats) == 53, len(stats)
"""
KERAS = """
import sys
import keras
m = keras.models.load_model(sys.argv[1], compile=False)
bn = [layer.get_weights() for layer in m.layers if layer.__class__.__name__ == "BatchNormalization"]
assert len(bn) == 53, len(bn)
"""


def make_model() -> None:
    if MODEL.exists():
        return
    OUT.mkdir(parents=True, exist_ok=True)
    code = ("import keras\n"
            f"keras.applications.ResNet50(weights=None).save({str(MODEL)!r})\n")
    subprocess.run([sys.executable, "-c", code], env=ENV, check=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    make_model()
    compile_bytecode()
    rows = []
    for label, code in (("bnlint `bn_statistics()` (h5py, no TensorFlow)", BNLINT),
                        ("`keras.models.load_model()` + BN `get_weights()`", KERAS)):
        rows.append((label, *median_run([sys.executable, "-c", code, str(MODEL)], args.runs)))
    size = MODEL.stat().st_size / 1e6
    print(f"Measured by `python benchmarks/bench_weights.py --runs {args.runs}` on "
          f"{time.strftime('%Y-%m-%d')}: {versions()}. ResNet50 `.keras` ({size:.0f} MB, "
          f"53 BatchNormalization layers, 212 arrays); fresh process each, medians.\n")
    print("| reading all BN statistics | wall time (s) | peak RSS (MB) |")
    print("|---|---:|---:|")
    for label, dt, rss in rows:
        print(f"| {label} | {dt:.2f} | {rss:.0f} |")
    print(f"\nbnlint is {rows[1][1] / rows[0][1]:.1f}× faster.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
