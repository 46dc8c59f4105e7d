import keras
from keras import layers

channel_axis = 1
inp = keras.Input((300, 300, 3))
x = layers.Conv2D(32, 3, strides=2, padding="same", use_bias=False)(inp)
x = layers.BatchNormalization(axis=channel_axis)(x)
x = layers.ReLU(6.0)(x)
backbone = keras.Model(inp, x)
