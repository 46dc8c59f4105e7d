import keras
from keras import layers

lenet = keras.Sequential()
lenet.add(keras.Input((1, 28, 28)))
lenet.add(layers.Conv2D(6, 5, activation="relu", data_format="channels_first"))
lenet.add(layers.BatchNormalization(axis=1, momentum=0.9))
lenet.add(layers.Flatten())
lenet.add(layers.Dense(10, activation="softmax"))
