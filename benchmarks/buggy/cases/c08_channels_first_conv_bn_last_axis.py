import keras
from keras import layers

inp = keras.Input((4, 64, 64))
x = layers.Conv2D(16, 3, padding="same", activation="relu", data_format="channels_first")(inp)
x = layers.BatchNormalization(axis=-1)(x)
out = layers.Conv2D(1, 3, padding="same", data_format="channels_first")(x)
gen = keras.Model(inp, out)
