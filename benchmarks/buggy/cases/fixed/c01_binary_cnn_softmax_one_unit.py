import keras
from keras import layers

net = keras.Sequential()
net.add(keras.Input((10, 4)))
net.add(layers.Conv1D(16, 4, padding="same"))
net.add(layers.LeakyReLU())
net.add(layers.Flatten())
net.add(layers.Dense(1))
net.add(layers.Activation("sigmoid"))
net.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
