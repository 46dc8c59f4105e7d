import keras
from keras import layers

model = keras.Sequential()
model.add(keras.Input((50,)))
model.add(layers.Dense(100, activation="linear"))
model.add(layers.BatchNormalization())
model.add(layers.Activation("relu"))
model.add(layers.Dense(1))
