import keras
from keras import layers

model = keras.Sequential()
model.add(keras.Input((20, 2)))
model.add(layers.LSTM(150))
model.add(layers.Dense(2))
model.compile(loss="mean_squared_error", optimizer="rmsprop")
