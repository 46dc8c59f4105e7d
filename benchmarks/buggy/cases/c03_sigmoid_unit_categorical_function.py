import keras
from keras import layers

m = keras.Sequential()
m.add(keras.Input((30,)))
m.add(layers.Dense(16, activation="relu"))
m.add(layers.Dense(1, activation="sigmoid"))
m.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.categorical_crossentropy,
          metrics=["accuracy"])
