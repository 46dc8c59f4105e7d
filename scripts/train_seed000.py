"""Train seed 000's network briefly on random data and save it (for the README's weights demo).

    python scripts/train_seed000.py   # writes fixtures/models/seed000_trained.keras

Real Keras does the training; bnlint only reads the result.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

OUT = Path(__file__).resolve().parent.parent / "fixtures" / "models" / "seed000_trained.keras"


def main() -> None:
    import keras
    import numpy as np
    from keras import layers

    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((1120,)),
        layers.Dense(512), layers.BatchNormalization(), layers.Activation("relu"),
        layers.Dropout(0.5),
        layers.Dense(256), layers.BatchNormalization(), layers.Activation("relu"),
        layers.Dropout(0.5),
        layers.Dense(38), layers.BatchNormalization(), layers.Activation("softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1000, 1120)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 38, size=1000), 38)
    model.fit(x, y, batch_size=500, epochs=2, verbose=0)
    model.save(OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
