#!/usr/bin/env python
"""Generate the attributes of Keras's ``Layer`` and ``Model`` base classes, as ``hasattr`` sees
them on instances of a subclass, for ``hasattr(self, NAME)`` in code bnlint reads.

Usage::

    python scripts/gen_layer_attributes.py            # (re)write the data file
    python scripts/gen_layer_attributes.py --check    # compare with the committed file

Writes ``bnlint/keras/data/layer_attributes.json``: for Keras 3 (``keras``) and Keras 2
(``tf_keras``), for ``Layer`` and ``Model``: ``present`` (``hasattr`` is true on a fresh
instance of a subclass and on one that was built, called and, for a model, compiled) and
``varies`` (in ``dir()`` of one of them but not ``present``: a property that raises until the
layer is called, an attribute set while building...). A name in neither is no attribute of
the base class. Each Keras runs in its own subprocess; bnlint never imports Keras.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bnlint" / "keras" / "data" / "layer_attributes.json"

DUMP = r'''
import json, sys, warnings
warnings.simplefilter("ignore")
version = int(sys.argv[1])
if version == 3:
    import keras
else:
    import tf_keras as keras
import numpy as np

class L(keras.layers.Layer):
    def build(self, shape):
        self.w = self.add_weight(shape=(shape[-1], 2), name="w")
    def call(self, x):
        return x @ self.w

class M(keras.Model):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.d = keras.layers.Dense(2)
    def call(self, x):
        return self.d(x)

def used_layer():
    layer = L()
    inp = keras.Input((3,))
    layer(inp)
    return layer

def used_model():
    model = M()
    model(np.zeros((1, 3), "float32"))
    model.compile(optimizer="sgd", loss="mse")
    return model

out = {}
for kind, fresh, used in (("Layer", L, used_layer), ("Model", M, used_model)):
    objs = [fresh(), used()]
    names = set().union(*(dir(o) for o in objs)) - {"w", "d"}  # the subclasses' own
    present = sorted(n for n in names if all(hasattr(o, n) for o in objs))
    out[kind] = {"present": present, "varies": sorted(names - set(present))}
print(json.dumps(out, sort_keys=True))
'''


def dump(version: int) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1",
               KERAS_BACKEND="tensorflow")
    if version == 2:
        env["TF_USE_LEGACY_KERAS"] = "1"
    proc = subprocess.run([sys.executable, "-c", DUMP, str(version)], capture_output=True,
                          text=True, env=env, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    data = {"keras3": dump(3), "keras2": dump(2)}
    text = json.dumps(data, indent=0, sort_keys=True) + "\n"
    if "--check" in argv:
        same = OUT.read_text(encoding="utf-8") == text
        print("up to date" if same else f"{OUT} is stale")
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
