from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential()
model.add(keras.Input((28, 28, 1)))
model.add(layers.Conv2D(32, (3, 3), use_bias=False))
model.add(layers.BatchNormalization())
model.add(layers.Activation("relu"))
model.add(layers.Flatten())
model.add(layers.Dense(10, activation="softmax"))
