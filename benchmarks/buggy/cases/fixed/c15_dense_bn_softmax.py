import keras
from keras import layers

model = keras.Sequential()
model.add(keras.Input((200,)))
model.add(layers.Dense(64, use_bias=False))
model.add(layers.BatchNormalization())
model.add(layers.Activation("relu"))
model.add(layers.Dense(5, activation="softmax"))
model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.SGD(0.01))
