import keras
from keras import layers

inp = keras.Input((56, 56, 256))
x = layers.Conv2D(64, 1, use_bias=False)(inp)
x = layers.BatchNormalization()(x)
x = layers.Activation("relu")(x)
x = layers.Conv2D(256, 1, use_bias=False)(x)
x = layers.BatchNormalization()(x)
x = layers.Add()([x, inp])
block = keras.Model(inp, layers.Activation("relu")(x))
