"""Operations on Keras tensors whose operand or sizes are not known statically: the layer
(and so the names after it) is kept, its shape is unknown with a note naming the line; the
numbers that follow are never printed as exact. (Exact cases are realworld fixtures with
goldens from real Keras: tfsplit, tfmatmul.)"""

from __future__ import annotations

from bnlint.readers.source import read_text

PROGRAM = '''
import numpy as np
import tensorflow as tf
from tensorflow import keras

inp = keras.Input((4, 4, 8))
scale = float(np.float32(0.5))
x = inp * scale
a, b = tf.split(inp, [int(np.int64(4)), int(np.int64(4))], axis=-1)
y = keras.layers.Conv2D(2, 1)(inp) * 2.0
model = keras.Model(inp, [x, a, b, y])
'''


def test_unknown_operand_and_sizes_keep_the_graph() -> None:
    res = read_text(PROGRAM, "prog.py", keras_version=2)
    (m,) = res.models
    names = [la.name for la in m.layers]
    assert "tf.math.multiply" in names and "tf.math.multiply_1" in names
    assert "tf.split" in names
    mul = next(la for la in m.layers if la.name == "tf.math.multiply")
    assert mul.unknown and "line 8" in mul.unknown and "operand" in mul.unknown
    split = next(la for la in m.layers if la.name == "tf.split")
    assert split.unknown and "line 9" in split.unknown
    assert m.total_params is None  # outputs of unknown shape: no exact total
    conv = next(la for la in m.layers if la.class_name == "Conv2D")
    assert conv.params == 18  # the branch that does not depend on them stays exact
