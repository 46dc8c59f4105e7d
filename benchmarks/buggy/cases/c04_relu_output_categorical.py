import keras
from keras import layers

cnn = keras.Sequential()
cnn.add(keras.Input((225, 225, 1)))
cnn.add(layers.Conv2D(8, 11, activation="relu"))
cnn.add(layers.MaxPooling2D(3, strides=2))
cnn.add(layers.Flatten())
cnn.add(layers.Dense(2, activation="relu"))
cnn.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
