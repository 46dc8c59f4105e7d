import keras
from keras import layers

spec = keras.Input((40, 500, 1))
h = layers.Conv2D(32, 7, padding="same", use_bias=False)(spec)
h = layers.BatchNormalization(axis=-1)(h)
h = layers.Activation("relu")(h)
h = layers.GlobalMaxPooling2D()(h)
scene = keras.Model(spec, layers.Dense(10, activation="softmax")(h))
