import keras
from keras import layers

model = keras.Sequential()
model.add(keras.Input((28, 28, 1)))
model.add(layers.Conv2D(32, 5, activation="relu"))
model.add(layers.MaxPooling2D(2))
model.add(layers.Flatten())
model.add(layers.Dense(10, activation="softmax"))
model.compile(loss="binary_crossentropy", optimizer="adamax", metrics=["accuracy"])
