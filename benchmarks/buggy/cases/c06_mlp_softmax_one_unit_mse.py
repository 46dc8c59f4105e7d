import keras
from keras import layers

mlp = keras.Sequential([
    keras.Input((2,)),
    layers.Dense(64, activation="tanh"),
    layers.Dropout(0.5),
    layers.Dense(1, activation="softmax"),
])
mlp.compile(loss="mean_squared_error", optimizer=keras.optimizers.SGD(0.1))
