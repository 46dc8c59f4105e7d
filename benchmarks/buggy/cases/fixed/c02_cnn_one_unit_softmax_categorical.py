import keras
from keras import layers

clf = keras.Sequential([
    keras.Input((99, 25, 2)),
    layers.Conv2D(30, 3, activation="relu"),
    layers.Flatten(),
    layers.Dense(1, activation="sigmoid"),
])
clf.compile("adam", loss="binary_crossentropy", metrics=["accuracy"])
