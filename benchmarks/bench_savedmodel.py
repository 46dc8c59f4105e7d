"""Summarizing a ResNet50 SavedModel directory and reading all its weights: bnlint vs tf-keras.

    python benchmarks/bench_savedmodel.py [--runs 5]

Creates ``benchmarks/out/resnet50_savedmodel/`` with real tf-keras
(``tf_keras.applications.ResNet50(weights=None).save(dir, save_format="tf")``: no
download) the first time. Each measurement is a fresh Python process, timed from the
parent (wall clock, interpreter start and imports included); medians of ``--runs`` runs,
with the peak RSS of the child, side by side in one invocation.

* bnlint: ``bnlint summarize DIR --weights`` — the architecture from keras_metadata.pb,
  the checkpoint index and object graph, every one of the 320 arrays read (checksum
  verified) for its statistics, the BN report.
* bnlint: the typed graph's summary plus ``get_weights(DIR)`` (every array read and
  checksummed, no statistics): what ``load_model`` + ``summary()`` does, without TensorFlow.
* bnlint: ``bnlint summarize DIR`` (architecture only).
* tf-keras: ``tf_keras.models.load_model(DIR)`` + ``model.summary()``.

Wall and CPU time (user + system of the child) are both printed: on a shared machine the
wall time of both sides stretches with the load.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from common import ENV, OUT, compile_bytecode, median_run_cpu, versions

MODEL = OUT / "resnet50_savedmodel"

GET_WEIGHTS = """
import sys
from bnlint.readers.saved import read_saved_model
from bnlint.readers.weights import get_weights
from bnlint.summary import summarize
summarize(read_saved_model(sys.argv[1]))
assert len(get_weights(sys.argv[1])) == 320
"""
KERAS = """
import sys
import tf_keras
m = tf_keras.models.load_model(sys.argv[1], compile=False)
m.summary(print_fn=lambda *a, **k: None)
"""


def make_model() -> None:
    if (MODEL / "saved_model.pb").exists():
        return
    OUT.mkdir(parents=True, exist_ok=True)
    code = ("import tf_keras\n"
            "tf_keras.applications.ResNet50(weights=None).save("
            f"{str(MODEL)!r}, save_format='tf')\n")
    subprocess.run([sys.executable, "-c", code], env=ENV, check=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    make_model()
    compile_bytecode()
    rows = []
    for label, cmd in (
        ("`bnlint summarize DIR --weights` (no TensorFlow)",
         [sys.executable, "-m", "bnlint", "summarize", str(MODEL), "--weights"]),
        ("summary + `get_weights(DIR)` (all arrays read, checksums verified)",
         [sys.executable, "-c", GET_WEIGHTS, str(MODEL)]),
        ("`bnlint summarize DIR` (architecture only)",
         [sys.executable, "-m", "bnlint", "summarize", str(MODEL)]),
        ("`tf_keras.models.load_model(DIR)` + `summary()`",
         [sys.executable, "-c", KERAS, str(MODEL)]),
    ):
        rows.append((label, *median_run_cpu(cmd, args.runs)))
    size = sum(f.stat().st_size for f in MODEL.rglob("*") if f.is_file()) / 1e6
    print(f"Measured by `python benchmarks/bench_savedmodel.py --runs {args.runs}` on "
          f"{time.strftime('%Y-%m-%d')}: {versions()}. ResNet50 SavedModel directory "
          f"({size:.0f} MB, 320 arrays); fresh process each, medians.\n")
    print("| ResNet50 SavedModel | wall time (s) | CPU time (s) | peak RSS (MB) | speed-up "
          "(wall / CPU) |")
    print("|---|---:|---:|---:|---:|")
    kw, kc = rows[-1][1], rows[-1][2]
    for label, dt, cpu, rss in rows:
        ratio = "" if label.startswith("`tf_keras") else f"{kw / dt:.1f}× / {kc / cpu:.1f}×"
        print(f"| {label} | {dt:.2f} | {cpu:.2f} | {rss:.0f} | {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
