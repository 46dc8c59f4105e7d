import keras
from keras import layers

x_in = keras.Input((32, 32, 3))
x = layers.Conv2D(64, 3, padding="same")(x_in)
x = layers.BatchNormalization()(x)
x = layers.ReLU()(x)
stem = keras.Model(x_in, x)
