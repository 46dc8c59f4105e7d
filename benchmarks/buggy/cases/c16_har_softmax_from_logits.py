import keras
from keras import layers

inp = keras.Input((128, 3, 1))
x = layers.Conv2D(64, (5, 1), activation="relu")(inp)
x = layers.Reshape((124, 3 * 64))(x)
x = layers.LSTM(128)(x)
x = layers.Dropout(0.5)(x)
out = layers.Dense(6, activation="softmax")(x)
har = keras.Model(inp, out)
har.compile(optimizer="adam",
            loss=keras.losses.CategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
