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
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
MODEL = OUT / "resnet50_bench_weights.keras"
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}

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


def _measure(code: str) -> tuple[float, float]:
    timer = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
        "dt = time.perf_counter() - t\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(dt, rss, r.returncode)\n"
        "sys.stderr.write(r.stderr.decode()[-2000:] if r.returncode else '')\n"
    )
    proc = subprocess.run([sys.executable, "-c", timer, sys.executable, "-c", code, str(MODEL)],
                          capture_output=True, text=True, env=ENV, check=True)
    dt, rss, rc = proc.stdout.split()
    if rc != "0":
        raise SystemExit(f"benchmark command failed:\n{proc.stderr}")
    return float(dt), float(rss)


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
    rows = []
    for label, code in (("bnlint `bn_statistics()` (h5py, no TensorFlow)", BNLINT),
                        ("`keras.models.load_model()` + BN `get_weights()`", KERAS)):
        results = [_measure(code) for _ in range(args.runs)]
        rows.append((label, statistics.median(r[0] for r in results),
                     statistics.median(r[1] for r in results)))
    size = MODEL.stat().st_size / 1e6
    print(f"ResNet50 `.keras` ({size:.0f} MB, 53 BatchNormalization layers, 212 arrays); "
          f"fresh process each, median of {args.runs} runs; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}\n")
    print("| reading all BN statistics | wall time (s) | peak RSS (MB) |")
    print("|---|---:|---:|")
    for label, dt, rss in rows:
        print(f"| {label} | {dt:.2f} | {rss:.0f} |")
    print(f"\nbnlint is {rows[1][1] / rows[0][1]:.1f}× faster.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
