import keras
from keras import layers

clf = keras.Sequential([
    keras.Input((250,), dtype="int64"),
    layers.Embedding(10000, 16),
    layers.GlobalAveragePooling1D(),
    layers.Dense(4),
])
clf.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), optimizer="adam",
            metrics=["accuracy"])
