import keras
from keras import layers

feat = keras.Input((7, 300, 64))
y = layers.Conv2D(64, 3, padding="same", use_bias=False, data_format="channels_first")(feat)
y = layers.BatchNormalization(axis=1)(y)
y = layers.Activation("relu")(y)
y = layers.MaxPooling2D((5, 4), data_format="channels_first")(y)
seld = keras.Model(feat, y)
