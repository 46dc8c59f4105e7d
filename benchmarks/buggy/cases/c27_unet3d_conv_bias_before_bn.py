import keras
from keras import layers

vol = keras.Input((32, 32, 32, 1))
v = layers.Conv3D(8, 3, padding="same")(vol)
v = layers.BatchNormalization()(v)
v = layers.Activation("relu")(v)
unet_level = keras.Model(vol, v)
