import keras
from keras import layers

inputs = keras.Input((16,))
h = layers.Dense(32, activation="relu")(inputs)
outputs = layers.Dense(4, activation="softmax")(h)
net = keras.Model(inputs=inputs, outputs=outputs)
net.compile(optimizer="adam",
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
