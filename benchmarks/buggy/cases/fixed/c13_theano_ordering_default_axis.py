import keras
from keras import layers

img = keras.Input((3, 32, 32))
z = layers.Conv2D(16, 3, padding="same", use_bias=False, data_format="channels_first")(img)
z = layers.BatchNormalization(axis=1)(z)
z = layers.Activation("relu")(z)
block = keras.Model(img, z)
