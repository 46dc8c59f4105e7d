import keras
from keras import layers

model = keras.Sequential()
model.add(keras.Input((8,)))
model.add(layers.Dense(12))
model.add(layers.Activation("relu"))
model.add(layers.Dense(1))
model.add(layers.Activation("sigmoid"))
model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
