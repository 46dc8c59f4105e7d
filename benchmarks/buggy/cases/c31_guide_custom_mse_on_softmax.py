import tensorflow as tf
from tensorflow import keras


def squared_error(y_true, y_pred):
    return tf.math.reduce_mean(tf.square(y_true - y_pred))


inputs = keras.Input(shape=(784,))
h = keras.layers.Dense(64, activation="relu")(inputs)
outputs = keras.layers.Dense(10, activation="softmax")(h)
model = keras.Model(inputs, outputs)
model.compile(optimizer=keras.optimizers.Adam(), loss=squared_error)
